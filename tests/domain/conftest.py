"""Fixtures of the domain tests."""

import pytest

from app.store import open_store


@pytest.fixture
def store(tmp_path):
    """A SQLite store in the test's folder (a test module may define its own)."""
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite3'}", log_size=1000, poll_interval=0.05)
    yield store
    store.close()
