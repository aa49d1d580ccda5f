"""``Store.append_batch``'s contract (the ingest API's one call per batch of samples), on
SQLite, a real Redis and Redis behind Sentinel (fixtures in ``conftest.py``)."""

import time


def rows(host, ts, value):
    return [(host, ts, {"cpu_percent": value, "container_cpu:web": value / 2})]


def test_a_batch_logs_its_items_in_order_sets_their_states_and_keeps_their_history(store):
    before = store.append("event", {"message": "before"})
    ts = time.time() - 10
    ids = store.append_batch([("metrics", {"host": "a", "n": 1}, "sample:a"),
                              ("metrics", {"host": "b", "n": 2}, "sample:b"),
                              ("processes", {"host": "a", "n": 3}, None)],
                             [*rows("a", ts, 40.0), *rows("b", ts, 60.0)],
                             unless_held=["sampler:a", "sampler:b"])
    assert ids == sorted(ids) and len(set(ids)) == 3 and ids[0] > before
    assert [(i.id, i.kind, i.data["n"]) for i in store.since(before)] == [
        (ids[0], "metrics", 1), (ids[1], "metrics", 2), (ids[2], "processes", 3)]
    assert store.get_state("sample:a") == {"host": "a", "n": 1}  # the third set no state
    assert [p[1] for p in store.history("b", "cpu_percent", "raw", ts - 1, ts + 1)] == [60.0]
    assert [p[1] for p in store.history("a", "container_cpu:web", "raw", ts - 1, ts + 1)] == [20.0]
    assert store.append_batch([], []) == []


def test_a_held_lease_refuses_the_whole_batch_and_nothing_is_written(store):
    assert store.lease("sampler:b", "dashboard-1", 30)
    top, ts = store.latest_id(), time.time() - 10
    refused = store.append_batch([("metrics", {"host": "a"}, "sample:a"),
                                  ("metrics", {"host": "b"}, "sample:b")],
                                 [*rows("a", ts, 1.0), *rows("b", ts, 2.0)],
                                 unless_held=["sampler:a", "sampler:b"])
    assert refused is None
    assert store.latest_id() == top and store.get_state("sample:a") is None
    assert store.history("a", "cpu_percent", "raw", ts - 1, ts + 1) == []
    # The lease of another host holds nothing back.
    assert store.append_batch([("metrics", {"host": "a"}, "sample:a")],
                              rows("a", ts, 1.0), unless_held=["sampler:a"]) is not None
    assert store.get_state("sample:a") == {"host": "a"}


def test_redis_loads_the_batch_scripts_again_after_they_were_flushed(store):
    if not hasattr(store, "_bin"):
        return  # SQLite has no scripts
    ts = time.time() - 10
    assert store.append_batch([("metrics", {"host": "a"}, "sample:a")], rows("a", ts, 1.0))
    store._bin.script_flush()  # as a Redis restarted without its data would have it
    ids = store.append_batch([("metrics", {"host": "a", "n": 2}, "sample:a")],
                             rows("a", ts + 1, 2.0))
    assert ids == [store.latest_id()] and store.get_state("sample:a") == {"host": "a", "n": 2}
    assert [p[1] for p in store.history("a", "cpu_percent", "raw", ts - 1, ts + 2)] == [1.0, 2.0]


def test_a_batch_after_a_lost_id_counter_still_takes_ids_above_the_log(store):
    """As a single append does (the counter repaired from the stream's last id)."""
    if not hasattr(store, "_bin"):
        return  # SQLite's ids come from its table
    top = store.append("event", {"message": "before"})
    store._bin.delete(store._seq)  # a counter lost (a restore from an older snapshot)
    ids = store.append_batch([("metrics", {"host": "a", "n": 1}, "sample:a"),
                              ("metrics", {"host": "b", "n": 2}, None)])
    assert ids == [top + 1, top + 2]
    assert [(i.id, i.data["n"]) for i in store.since(top)] == [(top + 1, 1), (top + 2, 2)]
    assert store.append("event", {"message": "after"}) == top + 3
    assert store.get_state("sample:b") is None


def test_a_batch_keeps_the_same_history_as_its_samples_recorded_one_by_one(store):
    """One record script per host and row group holds several samples (Redis reads and
    writes each chunk once for them): what it keeps is what a call per sample keeps. The
    samples cross a raw chunk (a minute) and a minute-bucket chunk (20 minutes), repeat a
    second (only a new key of it counts), add a key half-way, carry containers, and one is
    older than the raw tier keeps."""
    now = time.time()
    edge = (int(now) // 1200) * 1200  # a minute-bucket chunk starts here; raw chunks too
    if now - edge < 90:
        edge -= 1200  # every sample in the past
    samples = [(edge - 3 - 2 * 86400, {"cpu_percent": 1.0})]  # past the raw tier's day
    for n, ts in enumerate([edge - 3, edge - 2, edge - 2, edge - 1, edge, edge + 1, edge + 61]):
        values = {"cpu_percent": 10.0 + n, "disk_percent:/": 50.0 + n}
        if n == 2:  # the same second again: only its new key is kept
            values = {"cpu_percent": 99.0, "mem_percent": 33.0}
        if n >= 4:
            values.update({"load1": n / 10, "container_cpu:web": n * 2.0,
                           "container_memory:web": 1e6 * n})
        samples.append((ts, values))
    keys = sorted({key for _, values in samples for key in values})
    for ts, values in samples:
        store.record_history("single", ts, values)
    assert store.append_batch([], [("batched", ts, values) for ts, values in samples]
                              + [("other", samples[-1][0], {"cpu_percent": 5.0})]) == []
    for tier in ("raw", "1m", "1h"):
        span = (edge - 3 * 86400, now + 1)
        single = store.history_many("single", keys, tier, *span)
        assert store.history_many("batched", keys, tier, *span) == single, tier
        assert any(single.values()), tier
    assert [p[1] for p in store.history("other", "cpu_percent", "raw", edge, now + 1)] == [5.0]
