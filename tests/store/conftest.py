"""The two fixtures of the store's contract tests, each test run on SQLite, on a real Redis and
on a real Redis behind Sentinel (primary, replica, three sentinels)."""

import pytest

from app.store import open_store
from app.store.tiers import Retention


@pytest.fixture(params=["sqlite", "redis", "sentinel"])
def open_other(request, tmp_path):
    """Open stores on this test's backend (log_size 100 and the default history retention
    unless given); all closed at teardown."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    else:
        url = request.getfixturevalue(f"{request.param}_url")
    opened = []

    def open_(log_size: int = 100, retention: Retention = Retention()):
        opened.append(open_store(url, log_size=log_size, poll_interval=0.05,
                                 history_retention=retention))
        return opened[-1]

    yield open_
    for store in opened:
        store.close()


@pytest.fixture
def store(open_other):
    return open_other()
