"""The SQLite store: ordered ids, a bounded log, state, and waking a tailer in another process."""

import gevent
import pytest

from app.store import open_store


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


@pytest.fixture
def store(url):
    store = open_store(url, log_size=100, poll_interval=0.05)
    yield store
    store.close()


def test_ids_increase_and_items_come_back_in_order(store):
    ids = [store.append("event", {"n": n}) for n in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert store.latest_id() == ids[-1]
    assert [i.data["n"] for i in store.since(ids[1])] == [2, 3, 4]
    assert [i.data["n"] for i in store.since(0, limit=2)] == [0, 1]
    assert [i.data["n"] for i in store.recent("event", 2)] == [4, 3]


def test_log_is_bounded(store):
    for n in range(350):
        store.append("event", {"n": n})
    kept = store.since(0, limit=10_000)
    assert 100 <= len(kept) <= 200  # trimmed in batches, never below log_size
    assert kept[-1].data["n"] == 349


def test_state_is_replaced_and_deleted(store):
    assert store.get_state("k") is None
    store.set_state("k", {"a": 1})
    store.set_state("k", {"a": 2})
    assert store.get_state("k") == {"a": 2}
    store.set_state("k", None)
    assert store.get_state("k") is None


def test_append_with_state_key_sets_both(store):
    item_id = store.append("metrics", {"host": "h", "cpu_percent": 5}, state_key="sample:h")
    assert store.get_state("sample:h") == {"host": "h", "cpu_percent": 5}
    assert store.since(0)[0].id == item_id


def test_wait_returns_at_once_for_old_items_and_times_out_empty(store):
    store.append("event", {})
    assert len(store.wait(0, timeout=5)) == 1
    with gevent.Timeout(2):
        assert store.wait(store.latest_id(), timeout=0.2) == []


def test_wait_wakes_on_a_write_by_another_connection(store, url):
    # Another worker process writes through its own connection to the same file.
    other = open_store(url, log_size=100, poll_interval=0.05)
    try:
        gevent.spawn_later(0.2, other.append, "event", {"from": "other"})
        with gevent.Timeout(3):
            items = store.wait(0, timeout=2.5)
        assert [i.data for i in items] == [{"from": "other"}]
    finally:
        other.close()


def test_wait_returns_what_an_earlier_batch_left_behind(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'big.sqlite3'}", log_size=5000, poll_interval=0.05)
    try:
        for n in range(1500):
            store.append("event", {"n": n})
        first = store.wait(0, timeout=1)
        assert len(first) == 1000  # one batch is capped
        with gevent.Timeout(2):
            rest = store.wait(first[-1].id, timeout=1)
        assert [i.data["n"] for i in rest] == list(range(1000, 1500))
    finally:
        store.close()
