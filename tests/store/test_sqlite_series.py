"""SQLite's series rows (``history_series``): host names that come and go, such as short-lived
containers, must not add rows for ever (issue "Hardening, round two", finding 10)."""

import math
import time

import pytest

from app.store import open_store
from app.store.tiers import Retention

HOUR = 3600


@pytest.fixture
def open_two(tmp_path):
    """Two stores on one SQLite file: two worker processes of one host."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    stores = [open_store(url, log_size=100, poll_interval=0.05,
                         history_retention=Retention(raw=600, minute=2 * HOUR, hour=10 * HOUR))
              for _ in range(2)]
    yield stores
    for store in stores:
        store.close()


def _series(store) -> list[str]:
    return [host for (host,) in store._db.execute("SELECT host FROM history_series ORDER BY id")]


def test_series_of_hosts_whose_history_expired_are_pruned(open_two):
    one, other = open_two
    old = math.floor(time.time()) - 20 * HOUR  # beyond every tier's retention
    for n in range(200):
        one.write_history(f"container-{n}", "1h", [(old - old % HOUR, {"cpu_percent": (1,) * 4})])
    one.record_history("kept", time.time(), {"cpu_percent": 1.0, "disk_percent:/": 2.0})
    assert len(_series(one)) == 202
    other.trim_history()
    # The newest row stays so that no id is ever given twice; it is one of the kept host's.
    assert _series(one) == ["kept", "kept"]
    assert len(one.history("kept", "disk_percent:/", "raw", 0, time.time() + 1)) == 1


def test_a_forgotten_host_leaves_no_series_row_and_comes_back_in_every_process(open_two):
    one, other = open_two
    now = time.time()
    one.record_history("gone", now - 5, {"cpu_percent": 1.0})
    one.record_history("stays", now - 5, {"cpu_percent": 2.0})
    assert one.history("gone", "cpu_percent", "raw", 0, now + 1)  # the first process read it
    other.forget_history("gone")
    assert _series(one) == ["stays"]
    one.record_history("gone", now, {"cpu_percent": 3.0})  # it reports again, via the first
    for store in (one, other):
        assert [p[1] for p in store.history("gone", "cpu_percent", "raw", 0, now + 1)] == [3.0]
    assert not hasattr(one, "_series_ids")  # no per-process map of every host ever seen
