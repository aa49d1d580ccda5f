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


def test_find_filters_by_kind_field_and_id_newest_first(store):
    ids = [store.append("event", {"level": level}) for level in ("info", "error", "info", "error")]
    store.append("task", {"level": "error"})
    assert [i.id for i in store.find("event")] == ids[::-1]
    assert [i.id for i in store.find("event", where={"level": "error"})] == [ids[3], ids[1]]
    assert [i.id for i in store.find("event", after_id=ids[1], limit=1)] == [ids[3]]
    with pytest.raises(ValueError):
        store.find("event", where={"x') OR 1=1 --": "y"})


def test_states_by_prefix_take_underscore_and_percent_literally(store):
    store.set_state("task:a", {"n": 1})
    store.set_state("task:b", {"n": 2})
    store.set_state("tasks", {"n": 3})
    store.set_state("task_x", {"n": 4})
    assert store.states("task:") == {"task:a": {"n": 1}, "task:b": {"n": 2}}
