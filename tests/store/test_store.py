"""The Store contract, run against both backends (SQLite and a real Redis), plus backend specifics.

Each contract test gets ``store`` and, where it needs a second process's view of the same data,
``open_other()``: another store object (its own connections) on the same file or Redis (both
fixtures in ``conftest.py``).
"""

import subprocess
import sys
import threading
import time

import gevent
import pytest
import redis

from app.store import StoreUnavailable, open_store, sqlite_wake
from app.store.redis import RedisStore
from tests.servers import ROOT, free_port


def test_ids_increase_and_items_come_back_in_order(store):
    ids = [store.append("event", {"n": n}) for n in range(5)]
    assert ids == sorted(ids) and len(set(ids)) == 5
    assert all(isinstance(i, int) and 0 < i < 2**53 for i in ids)  # exact in JavaScript too
    assert store.latest_id() == ids[-1]
    assert [i.id for i in store.since(0)] == ids
    assert [i.data["n"] for i in store.since(ids[1])] == [2, 3, 4]
    assert [i.data["n"] for i in store.since(0, limit=2)] == [0, 1]
    assert [i.data["n"] for i in store.recent("event", 2)] == [4, 3]
    item = store.since(0)[0]
    assert item.kind == "event" and abs(item.ts - time.time()) < 60


def test_an_empty_store(store):
    assert store.latest_id() == 0 == store.first_id()
    assert store.since(0) == []
    assert store.recent("event", 5) == []
    assert store.find("event") == []
    assert store.states("") == {}


def test_recent_filters_by_kind(store):
    for n in range(30):
        store.append("metrics" if n % 3 else "event", {"n": n})
    assert [i.data["n"] for i in store.recent("event", 3)] == [27, 24, 21]
    assert len(store.recent("event", 100)) == 10
    assert store.recent("task", 5) == []


def test_recent_many_takes_each_kind_as_recent_does(store, monkeypatch):
    monkeypatch.setattr("app.store.redis._PAGE", 7)  # Redis scans back in pages: several
    for n in range(60):
        store.append(("event", "metrics", "task", "custom")[n % 4], {"n": n})
    got = store.recent_many({"event": 3, "task": 100, "custom": 0, "alert": 2})
    assert {kind: [i.data["n"] for i in items] for kind, items in got.items()} == {
        "event": [56, 52, 48], "task": list(range(58, 0, -4)), "custom": [], "alert": []}
    assert got["task"] == store.recent("task", 100)
    assert [i.data["n"] for i in store.find("metrics", limit=2)] == [57, 53]


def test_log_is_bounded(store):
    for n in range(350):
        store.append("event", {"n": n})
    kept = store.since(0, limit=10_000)
    assert 100 <= len(kept) <= 200  # trimmed in batches, never below log_size
    assert kept[-1].data["n"] == 349
    assert [i.data["n"] for i in kept] == list(range(350 - len(kept), 350))


def test_first_id_is_the_oldest_kept_and_ids_are_consecutive(store):
    assert store.first_id() == 0
    ids = [store.append("event", {"n": n}) for n in range(350)]
    assert ids == list(range(ids[0], ids[0] + 350))  # no gaps: the JSON stream's replay relies on it
    kept = store.since(0, limit=10_000)
    assert ids[0] < store.first_id() == kept[0].id  # the oldest were trimmed
    assert [i.id for i in kept] == ids[-len(kept):]


def test_state_is_replaced_and_deleted(store):
    assert store.get_state("k") is None
    store.set_state("k", {"a": 1})
    store.set_state("k", {"a": 2})
    assert store.get_state("k") == {"a": 2}
    store.set_state("k", None)
    assert store.get_state("k") is None
    store.set_state("k", None)  # deleting what is not there is fine


def test_append_with_state_key_sets_both(store):
    item_id = store.append("metrics", {"host": "h", "cpu_percent": 5}, state_key="sample:h")
    assert store.get_state("sample:h") == {"host": "h", "cpu_percent": 5}
    assert store.since(0)[0].id == item_id


def test_append_with_state_key_writes_nothing_when_it_fails(store):
    first = store.append("event", {"n": 0})
    if isinstance(store, RedisStore):
        # Another program put something else under our state key: the write is refused.
        store._redis.set(f"{store.prefix}state", "not a hash")
        with pytest.raises(StoreUnavailable):
            store.append("metrics", {"n": 1}, state_key="sample:h")
        store._redis.delete(f"{store.prefix}state")
    else:
        store._db.execute("CREATE TRIGGER no_state BEFORE INSERT ON state BEGIN "
                          "SELECT RAISE(ABORT, 'refused'); END")
        with pytest.raises(StoreUnavailable):
            store.append("metrics", {"n": 1}, state_key="sample:h")
    assert [i.data for i in store.since(0)] == [{"n": 0}]
    assert store.get_state("sample:h") is None
    assert store.append("event", {"n": 2}) == first + 1  # the failed append took no id


def test_append_if_writes_only_when_the_field_matches(store):
    store.append("event", {"n": 0})
    assert store.append_if("approval", {"state": "approved"}, "approval:a", "state",
                           "pending") is None  # no state at all: nothing to compare
    first = store.append("approval", {"id": "a", "state": "pending"}, state_key="approval:a")
    assert store.append_if("approval", {"id": "a", "state": "denied"}, "approval:a", "state",
                           "expired") is None
    assert store.latest_id() == first and store.get_state("approval:a")["state"] == "pending"
    won = store.append_if("approval", {"id": "a", "state": "approved"}, "approval:a", "state",
                          "pending")
    assert won == first + 1  # the next id, as a plain append takes it
    assert store.get_state("approval:a") == {"id": "a", "state": "approved"}
    assert store.since(first)[0] == (won, "approval", store.since(first)[0].ts,
                                     {"id": "a", "state": "approved"})
    # Now the state differs from what a second answer expects: refused, no id taken.
    assert store.append_if("approval", {"id": "a", "state": "denied"}, "approval:a", "state",
                           "pending") is None
    assert store.get_state("approval:a")["state"] == "approved"
    assert store.append("event", {"n": 1}) == won + 1


def test_append_if_compares_a_string_field_exactly(store):
    store.set_state("k", {"state": None, "n": "1"})
    assert store.append_if("x", {"state": "a"}, "k", "state", "None") is None
    assert store.append_if("x", {"state": "a"}, "k", "n", "01") is None
    assert store.append_if("x", {"state": "a"}, "k", "missing", "") is None
    store.set_state("k", {"state": "pending"})
    assert store.append_if("x", {"state": "a"}, "k", "state", "pending") is not None


def test_append_if_trims_the_log_like_append(store):
    store.set_state("k", {"v": "0"})
    for n in range(350):
        assert store.append_if("x", {"v": str(n + 1)}, "k", "v", str(n)) is not None
    kept = store.since(0, limit=10_000)
    assert 100 <= len(kept) <= 200 and kept[-1].data == {"v": "350"}


def test_of_many_concurrent_compare_and_sets_exactly_one_wins(store, open_other):
    # Each thread has its own store object (its own connections), as separate workers do.
    store.append("approval", {"state": "pending"}, state_key="approval:race")
    others = [open_other() for _ in range(16)]
    start = threading.Barrier(len(others))
    results: list = []

    def attempt(other, n):
        start.wait(10)
        results.append(other.append_if("approval", {"state": "approved", "by": n},
                                       "approval:race", "state", "pending"))

    threads = [threading.Thread(target=attempt, args=(other, n)) for n, other in enumerate(others)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 16
    winners = [r for r in results if r is not None]
    assert len(winners) == 1, results
    assert store.latest_id() == winners[0]
    [item] = store.since(winners[0] - 1)
    assert store.get_state("approval:race") == item.data and item.data["state"] == "approved"


def test_wait_returns_at_once_for_old_items_and_times_out_empty(store):
    store.append("event", {})
    started = time.monotonic()
    assert len(store.wait(0, timeout=5)) == 1
    assert time.monotonic() - started < 1
    started = time.monotonic()
    with gevent.Timeout(2):
        assert store.wait(store.latest_id(), timeout=0.2) == []
    assert 0.15 < time.monotonic() - started < 1.5
    assert store.wait(store.latest_id(), timeout=0) == []


def test_wait_wakes_on_a_write_by_another_connection(store, open_other):
    # Another worker process writes through its own connection. A thread, not a greenlet: the
    # tests do not monkey-patch, so Redis's XREAD BLOCK holds this thread while it waits.
    other = open_other()
    writer = threading.Timer(0.2, other.append, ("event", {"from": "other"}))
    writer.start()
    try:
        started = time.monotonic()
        with gevent.Timeout(3):
            items = store.wait(0, timeout=2.5)
        assert [i.data for i in items] == [{"from": "other"}]
        assert time.monotonic() - started < 2
    finally:
        writer.join()


def test_find_filters_by_kind_field_and_id_newest_first(store):
    ids = [store.append("event", {"level": level}) for level in ("info", "error", "info", "error")]
    store.append("task", {"level": "error"})
    assert [i.id for i in store.find("event")] == ids[::-1]
    assert [i.id for i in store.find("event", where={"level": "error"})] == [ids[3], ids[1]]
    assert [i.id for i in store.find("event", after_id=ids[1], limit=1)] == [ids[3]]
    assert [i.id for i in store.find("event", after_id=ids[1])] == [ids[3], ids[2]]
    with pytest.raises(ValueError):
        store.find("event", where={"x') OR 1=1 --": "y"})


def test_find_and_recent_read_past_one_page(open_other):
    store = open_other(log_size=5000)
    ids = [store.append("event" if n % 2 else "metrics", {"n": n}) for n in range(1300)]
    assert [i.id for i in store.find("event", limit=1000)] == ids[1::2][::-1]
    assert [i.id for i in store.find("event", after_id=ids[100], limit=1000)] == ids[101::2][::-1]
    assert [i.id for i in store.recent("metrics", 640)] == ids[0::2][::-1][:640]
    assert [i.id for i in store.since(ids[99], limit=1000)] == ids[100:1100]


def test_states_by_prefix_take_underscore_and_percent_literally(store):
    store.set_state("task:a", {"n": 1})
    store.set_state("task:b", {"n": 2})
    store.set_state("tasks", {"n": 3})
    store.set_state("task_x", {"n": 4})
    assert store.states("task:") == {"task:a": {"n": 1}, "task:b": {"n": 2}}


def test_states_by_prefix_take_glob_characters_literally(store):
    store.set_state("a*:1", {"n": 1})
    store.set_state("ab:1", {"n": 2})
    store.set_state("a?[x]\\:1", {"n": 3})
    store.set_state("az]\\:1", {"n": 4})
    assert store.states("a*") == {"a*:1": {"n": 1}}
    assert store.states("a?[x]\\") == {"a?[x]\\:1": {"n": 3}}
    assert len(store.states("a")) == 4


def test_a_closed_store_is_unavailable(store):
    store.close()
    with pytest.raises(StoreUnavailable):
        store.ping()


# -- SQLite only ------------------------------------------------------------------------------

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


def test_a_commit_by_another_process_wakes_the_wait_before_the_poll_would(tmp_path):
    # Another worker: a process of its own. The poll comes once a minute here, so the wait
    # can only end in time through the bell that process rings (app.store.sqlite_wake).
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = open_store(url, log_size=100, poll_interval=60)
    writer = ("import sys; from app.store import open_store; "
              "open_store(sys.argv[1], log_size=100, poll_interval=60)"
              ".append('event', {'from': 'another process'})")
    try:
        started = time.monotonic()
        child = subprocess.Popen([sys.executable, "-c", writer, url], cwd=ROOT)
        with gevent.Timeout(50):
            items = store.wait(0, timeout=45)
        assert [i.data for i in items] == [{"from": "another process"}]
        assert time.monotonic() - started < 30  # the process's start-up, on a loaded machine
        assert child.wait(30) == 0
    finally:
        store.close()


def test_without_inotify_the_poll_still_finds_another_connections_writes(tmp_path,
                                                                         monkeypatch):
    def no_inotify(**_kw):
        raise OSError("inotify_init1: no such function")

    monkeypatch.setattr(sqlite_wake, "INotify", no_inotify)
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    deaf, other = (open_store(url, log_size=100, poll_interval=0.05) for _ in range(2))
    writer = threading.Timer(0.2, other.append, ("event", {"from": "other"}))
    writer.start()
    try:
        assert not deaf._bell.heard
        with gevent.Timeout(10):
            items = deaf.wait(0, timeout=8)
        assert [i.data for i in items] == [{"from": "other"}]
    finally:
        writer.join()
        deaf.close()
        other.close()


# -- Redis only -------------------------------------------------------------------------------

def test_a_redis_that_is_down_is_unavailable_not_an_error_of_its_own():
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", log_size=100, timeout=1)
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.append("event", {"n": 1}, state_key="k")
        with pytest.raises(StoreUnavailable):
            store.ping()
        with pytest.raises(StoreUnavailable):
            store.wait(0, timeout=0.1)
        assert time.monotonic() - started < 5  # a few quick retries, not the default backoff
    finally:
        store.close()


def test_redis_keys_stay_under_the_prefix(redis_url):
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        client.set("other:app", "theirs")
        store = open_store(redis_url, log_size=100, poll_interval=0.05)
        second = RedisStore(redis_url, log_size=100, prefix="dashboard2:")
        try:
            store.append("event", {"n": 1}, state_key="k")
            assert second.latest_id() == 0 and second.get_state("k") is None
            assert sorted(client.keys()) == [
                "dashboard:log", "dashboard:seq", "dashboard:state", "other:app"]
            assert client.get("other:app") == "theirs"
        finally:
            store.close()
            second.close()


def test_redis_ids_continue_past_a_lost_counter(redis_url):
    store = open_store(redis_url, log_size=100, poll_interval=0.05)
    try:
        first = [store.append("event", {"n": n}) for n in range(3)]
        store._redis.delete("dashboard:seq")  # evicted, say, by a shared Redis's maxmemory policy
        assert store.append("event", {"n": 3}) == first[-1] + 1
    finally:
        store.close()


def test_a_lease_has_one_holder_until_it_expires(open_other):
    first, second = open_other(), open_other()  # two worker processes
    name = f"sampler:{time.time_ns()}"
    assert first.lease(name, "a:1", ttl=0.5)
    assert not second.lease(name, "b:2", ttl=0.5)
    assert first.lease(name, "a:1", ttl=0.5)  # renewed by its holder
    assert not second.lease(name, "b:2", ttl=0.5)
    time.sleep(0.7)  # the holder stopped renewing
    assert second.lease(name, "b:2", ttl=0.5)
    assert not first.lease(name, "a:1", ttl=0.5)
    assert first.lease(f"{name}-other", "a:1", ttl=0.5)  # leases are independent


def test_the_holder_of_a_lease_can_be_read_without_taking_it(open_other):
    first, second = open_other(), open_other()
    name = f"sampler:{time.time_ns()}"
    assert second.holder(name) is None
    assert second.holder(name) is None and first.lease(name, "a:1", ttl=0.5)  # not taken by a look
    assert second.holder(name) == "a:1"
    time.sleep(0.7)
    assert second.holder(name) is None  # expired
