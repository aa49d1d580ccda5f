"""The history tiers' contract, run against both backends (SQLite and a real Redis; the
``store`` and ``open_other`` fixtures are in ``conftest.py``)."""

import math
import time

import pytest

from app.store.tiers import Retention

HOUR = 3600


@pytest.fixture
def base():
    """The start of the hour two hours ago: well inside every default retention."""
    return math.floor(time.time() / HOUR) * HOUR - 2 * HOUR


#: (seconds after ``base``, value): straddling minute and hour boundaries on both sides.
#: (seconds after base, value): one sample a second at most, as the raw tier keeps them.
SAMPLES = [(-0.5, 7.0), (0.0, 1.5), (30.25, 4.0), (59.999, -2.0), (60.0, 8.0),
           (3599.5, 3.25), (3600.0, 0.5), (3601.5, 0.75)]


def _close(points):
    """``points`` with figures compared to 7 significant digits: Redis keeps them as 32-bit
    floats (app.store.redis_chunks); these samples are exact in 32 bits, their averages not."""
    return [(t, *(pytest.approx(f, rel=1e-7) for f in figures), n) for t, *figures, n in points]


def test_rollups_hold_exact_min_avg_max_and_count(store, base):
    for offset, value in SAMPLES:
        store.record_history("h", base + offset, {"cpu_percent": value})
    minutes = store.history("h", "cpu_percent", "1m", base - HOUR, base + 2 * HOUR)
    assert minutes == _close([
        (base - 60, 7.0, 7.0, 7.0, 1),
        (base, -2.0, (1.5 + 4.0 - 2.0) / 3, 4.0, 3),
        (base + 60, 8.0, 8.0, 8.0, 1),
        (base + 3540, 3.25, 3.25, 3.25, 1),
        (base + 3600, 0.5, 0.625, 0.75, 2),
    ])  # minutes without samples have no point at all
    hours = store.history("h", "cpu_percent", "1h", base - HOUR, base + 2 * HOUR)
    assert hours == _close([
        (base - HOUR, 7.0, 7.0, 7.0, 1),
        (base, -2.0, (1.5 + 4.0 - 2.0 + 8.0 + 3.25) / 5, 8.0, 5),
        (base + HOUR, 0.5, 0.625, 0.75, 2),
    ])
    raw = store.history("h", "cpu_percent", "raw", base - HOUR, base + 2 * HOUR)
    # Kept by their whole second (app.store.tiers.raw_stamp).
    assert raw == [(base + math.floor(o), v, v, v, 1) for o, v in SAMPLES]


def test_ranges_are_half_open_and_oldest_first(store, base):
    for offset, value in SAMPLES:
        store.record_history("h", base + offset, {"cpu_percent": value})
    assert [p[0] for p in store.history("h", "cpu_percent", "raw", base, base + 60)] == [
        base, base + 30, base + 59]
    assert [p[0] for p in store.history("h", "cpu_percent", "1m", base, base + 3540)] == [
        base, base + 60]
    assert store.history("h", "cpu_percent", "1h", base + 1, base + HOUR) == []


def test_keys_hosts_and_groups_are_kept_apart(store, base):
    store.record_history("a", base, {"cpu_percent": 1.0, "mem_percent": 2.0,
                                     'custom:q{x="y"}': 3.0})
    store.record_history("b", base, {"cpu_percent": 9.0})
    store.record_history("a", base + 1, {'custom:q{x="y"}': 4.0, "custom:other": 5.0})
    assert store.history("a", "mem_percent", "raw", base, base + 10) == [(base, 2.0, 2.0, 2.0, 1)]
    assert store.history("b", "cpu_percent", "1m", base, base + 10) == [(base, 9.0, 9.0, 9.0, 1)]
    assert store.history("a", 'custom:q{x="y"}', "1m", base, base + 60) == [
        (base, 3.0, 3.5, 4.0, 2)]
    many = store.history_many("a", ["cpu_percent", "custom:other", "load1"], "raw", base,
                              base + 10)
    assert many == {"cpu_percent": [(base, 1.0, 1.0, 1.0, 1)],
                    "custom:other": [(base + 1, 5.0, 5.0, 5.0, 1)], "load1": []}
    assert store.history("nobody", "cpu_percent", "raw", 0, 2 * base) == []
    assert store.history("a", "never_seen", "1h", 0, 2 * base) == []
    with pytest.raises(KeyError):
        store.history("a", "cpu_percent", "5m", 0, 2 * base)


def test_a_sample_recorded_twice_counts_once(open_other, base):
    first, second = open_other(), open_other()  # two processes' stores on one backend
    first.record_history("h", base, {"cpu_percent": 1.0})
    second.record_history("h", base, {"cpu_percent": 1.0, "load1": 2.0})  # retried, plus a key
    first.record_history("h", base + 0.0001, {"cpu_percent": 1.0})  # same millisecond
    assert first.history("h", "cpu_percent", "1m", base, base + 60) == [(base, 1.0, 1.0, 1.0, 1)]
    assert second.history("h", "load1", "1h", base, base + 60) == [(base, 2.0, 2.0, 2.0, 1)]
    assert second.history("h", "cpu_percent", "raw", base, base + 60) == [
        (base, 1.0, 1.0, 1.0, 1)]


def test_interleaved_writers_fold_into_the_same_buckets(open_other, base):
    stores = [open_other(), open_other()]
    for n in range(40):
        stores[n % 2].record_history("h", base + n, {"cpu_percent": float(n)})
    assert stores[0].history("h", "cpu_percent", "1m", base, base + 60) == [
        (base, 0.0, 19.5, 39.0, 40)]
    assert len(stores[1].history("h", "cpu_percent", "raw", base, base + 60)) == 40


def test_record_trims_each_tier_to_its_retention(open_other):
    store = open_other(retention=Retention(raw=120, minute=1800, hour=4 * HOUR))
    now = time.time()
    for age in (6 * HOUR, 3 * HOUR, 2000, 1000, 300, 60, 10):
        store.record_history("h", now - age, {"cpu_percent": 1.0})
    raw = store.history("h", "cpu_percent", "raw", 0, now + 1)
    assert [int(now - p[0]) for p in raw] == [60, 10]  # whole seconds: 60.x and 10.x ago
    minutes = store.history("h", "cpu_percent", "1m", 0, now + 1)
    assert all(p[0] + 60 > now - 1800 - 60 for p in minutes)
    assert [p[4] for p in minutes] == [1, 1, 1, 1] or [p[4] for p in minutes] == [1, 1, 2]
    hours = store.history("h", "cpu_percent", "1h", 0, now + 1)
    assert sum(p[4] for p in hours) == 6  # the 6-hour-old sample is beyond 4 h
    assert all(p[0] + HOUR > now - 4 * HOUR - HOUR for p in hours)


def test_write_history_replaces_points_and_trim_history_drops_old_ones(open_other):
    store = open_other(retention=Retention(raw=600, minute=2 * HOUR, hour=10 * HOUR))
    now = math.floor(time.time())
    start = now - now % 60
    store.write_history("h", "raw", [(now - 1000, {"cpu_percent": 1.0}),
                                     (now - 10, {"cpu_percent": 2.0, "load1": 0.5})])
    store.write_history("h", "1m", [(start - 3 * HOUR, {"cpu_percent": (1.0, 3.0, 4.0, 2)}),
                                    (start, {"cpu_percent": (0.0, 1.0, 1.0, 3)})])
    store.write_history("h", "1m", [(start, {"cpu_percent": (5.0, 5.0, 10.0, 2)})])  # replaces
    store.write_history("h", "1h", ((start - h * HOUR - start % HOUR,
                                     {"cpu_percent": (1.0, 1.0, 1.0, 1)}) for h in range(20)))
    assert store.history("h", "cpu_percent", "1m", 0, now + 60) == [
        (start - 3 * HOUR, 1.0, 2.0, 3.0, 2), (start, 5.0, 5.0, 5.0, 2)]
    assert len(store.history("h", "cpu_percent", "1h", 0, now + 60)) == 20
    store.trim_history()
    assert store.history_many("h", ["cpu_percent", "load1"], "raw", 0, now + 60) == {
        "cpu_percent": [(now - 10, 2.0, 2.0, 2.0, 1)], "load1": [(now - 10, 0.5, 0.5, 0.5, 1)]}
    assert store.history("h", "cpu_percent", "1m", 0, now + 60) == [(start, 5.0, 5.0, 5.0, 2)]
    assert len(store.history("h", "cpu_percent", "1h", 0, now + 60)) in (10, 11)


def test_bulk_writes_and_long_reads_span_several_batches(store):
    now = math.floor(time.time())
    rows = [(now - 5000 + n * 0.5, {"cpu_percent": float(n), "mem_percent": 1.0})
            for n in range(9000)]
    store.write_history("h", "raw", rows)
    got = store.history("h", "cpu_percent", "raw", now - 6000, now)
    assert [p[1] for p in got] == [float(n) for n in range(9000)]
    assert [p[0] for p in got] == [t for t, _ in rows]


def test_forget_history_drops_one_host(store, base):
    store.record_history("a", base, {"cpu_percent": 1.0, "custom:x": 1.0})
    store.record_history("b", base, {"cpu_percent": 2.0})
    store.forget_history("a")
    store.forget_history("never-seen")
    for tier in ("raw", "1m", "1h"):
        assert store.history("a", "cpu_percent", tier, 0, 2 * base) == []
        assert store.history("a", "custom:x", tier, 0, 2 * base) == []
        assert len(store.history("b", "cpu_percent", tier, 0, 2 * base)) == 1
    store.record_history("a", base + 1, {"cpu_percent": 3.0})  # the host comes back
    assert store.history("a", "cpu_percent", "1m", 0, 2 * base) == [(base, 3.0, 3.0, 3.0, 1)]


def test_history_is_not_in_the_log(store, base):
    store.record_history("h", base, {"cpu_percent": 1.0})
    assert store.latest_id() == 0 and store.since(0) == []


def test_a_host_keeps_one_raw_sample_a_second(store, base):
    # Before: an agent sending a sample per millisecond made a raw row each, and a request
    # read them all.
    for n in range(1000):
        store.record_history("h", base + n / 1000, {"cpu_percent": float(n)})
    store.record_history("h", base + 1.5, {"cpu_percent": 5.0})
    assert store.history("h", "cpu_percent", "raw", base - 1, base + 2) == [
        (base, 0.0, 0.0, 0.0, 1), (base + 1, 5.0, 5.0, 5.0, 1)]
    assert store.history("h", "cpu_percent", "1m", base - 60, base + 60) == [
        (base, 0.0, 2.5, 5.0, 2)]  # the rollups count what the raw tier kept
