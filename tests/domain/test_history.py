"""What a sample leaves in the history, and how a range is read back (on a real SQLite store)."""

import math
import time

import pytest

from app.domain import custom, history
from app.domain.history import HISTORY_KEYS, RANGES, BadHistoryQuery, coarsen, query, tier_for
from app.sources.sample import METRICS
from app.store import open_store
from app.store.tiers import Retention


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'store.sqlite3'}", log_size=100,
                       poll_interval=0.05)
    yield store
    store.close()


def test_the_kept_keys_are_the_varying_numeric_sample_keys():
    assert set(HISTORY_KEYS) <= set(METRICS)
    assert set(HISTORY_KEYS) == {"cpu_percent", "mem_percent", "mem_used", "disk_percent",
                                 "disk_used", "net_rx_bps", "net_tx_bps", "load1", "load5",
                                 "load15", "temperature", "swap_percent", "swap_used"}
    assert list(RANGES) == ["5m", "1h", "6h", "24h", "7d", "30d", "1y"]


def test_record_keeps_the_numeric_history_keys_only(store):
    now = time.time()
    history.record(store, {"host": "h", "ts": now, "cpu_percent": 12.5, "uptime": 99.0,
                           "temperature": None, "load1": float("nan"), "mem_used": 1024,
                           "disk_percent": True})
    got = store.history_many("h", ["cpu_percent", "uptime", "temperature", "load1", "mem_used",
                                   "disk_percent"], "raw", now - 1, now + 1)
    assert {k: [p[1] for p in v] for k, v in got.items()} == {
        "cpu_percent": [12.5], "uptime": [], "temperature": [], "load1": [], "mem_used": [1024.0],
        "disk_percent": []}
    history.record(store, {"host": "h", "ts": now + 5, "temperature": None})  # nothing to keep
    assert len(store.history("h", "cpu_percent", "raw", 0, now + 10)) == 1


def test_record_leaves_out_what_the_tiers_cannot_hold(store):
    now = time.time()
    history.record(store, {"host": "h", "ts": now + 10 * 86400, "cpu_percent": 1.0})
    history.record(store, {"host": "h", "ts": now, "cpu_percent": 1e308, "load1": -1e301,
                           "mem_percent": 1e300})
    got = store.history_many("h", ["cpu_percent", "load1", "mem_percent"], "raw", 0, now + 1e6)
    assert {k: [p[1] for p in v] for k, v in got.items()} == {
        "cpu_percent": [], "load1": [], "mem_percent": [1e300]}
    history.record(store, {"host": "h", "ts": now + 600, "cpu_percent": 2.0})  # a clock ahead
    assert len(store.history("h", "cpu_percent", "raw", 0, now + 1e6)) == 1


def test_custom_readings_are_kept_under_their_series_key(store):
    now = time.time()
    history.record_custom(store, "home", [{"key": "q", "value": 3, "ts": now},
                                          {"key": 'r{a="b"}', "value": 4.5, "ts": now}])
    assert store.history("home", "custom:q", "raw", now - 1, now + 1)[0][1] == 3.0
    assert store.history("home", 'custom:r{a="b"}', "1m", now - 60, now + 1)[0][4] == 1


@pytest.mark.parametrize("span, tier", [(300, "raw"), (86400, "raw"), (86430, "raw"),
                                        (86461, "1m"),
                                        (30 * 86400, "1m"), (31 * 86400, "1h"),
                                        (400 * 86400, "1h")])
def test_tier_for_takes_the_finest_tier_that_reaches_back(span, tier):
    assert tier_for(span, Retention()) == tier


def test_tier_for_follows_the_retention_settings():
    assert tier_for(7200, Retention(raw=3600)) == "1m"
    assert tier_for(7200, Retention(raw=3600, minute=3600)) == "1h"
    assert tier_for(7200, Retention(raw=7200)) == "raw"


def test_a_short_range_answers_raw_samples(store):
    now = math.floor(time.time())
    for n in range(10):
        store.record_history("h", now - 100 + n, {"cpu_percent": float(n)})
    got = query(store, "h", "cpu_percent", now - RANGES["5m"], now)
    assert got["host"] == "h" and got["metric"] == "cpu_percent" and got["step"] is None
    assert got["points"][0] == {"t": now - 100, "min": 0.0, "avg": 0.0, "max": 0.0, "count": 1}
    assert len(got["points"]) == 10


def test_many_raw_samples_are_coarsened_to_at_most_max_points(store):
    now = math.floor(time.time())
    store.write_history("h", "raw", ((now - 21000 + n, {"cpu_percent": float(n % 100)})
                                     for n in range(0, 21000, 2)))
    got = query(store, "h", "cpu_percent", now - RANGES["6h"], now)
    assert len(got["points"]) <= 1000 and got["step"] == 30
    assert all(p["t"] % 30 == 0 for p in got["points"])
    assert sum(p["count"] for p in got["points"]) == 10500
    assert {p["count"] for p in got["points"][1:-1]} == {15}


@pytest.fixture(scope="module")
def week(tmp_path_factory):
    """A store with a filled week of host "w" (``app.domain.history_fill``), and its ``now``."""
    from app.domain.history_fill import fill

    now = math.floor(time.time())
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('week') / 's.sqlite3'}",
                       log_size=100, poll_interval=0.05)
    fill(store, "w", 7, now=now)
    yield store, now
    store.close()


@pytest.mark.parametrize("range_, step, tier", [
    ("1h", 5, "raw"), ("6h", 30, "raw"), ("24h", 120, "1m"), ("7d", 900, "1m"),
    ("30d", 3600, "1h"), ("1y", 43200, "1h")])
def test_each_range_reads_the_coarsest_tier_that_gives_the_same_buckets(week, range_, step,
                                                                        tier):
    store, now = week
    start = now - RANGES[range_]
    got = query(store, "w", "load1", start, now, now=now)
    assert got["step"] == step and 0 < len(got["points"]) <= 1000
    finest = tier_for(RANGES[range_], store.history_retention)
    whole = start - start % step  # the buckets are whole, the first one too
    expected = coarsen(store.history("w", "load1", finest, whole, now), step)
    points = [tuple(p.values()) for p in got["points"]]
    # The first bucket may begin before the finest tier's oldest point (the raw day's first
    # minutes): a coarser tier still holds that part.
    assert points[0][0] == expected[0][0] and points[0][4] >= expected[0][4]
    points, expected = points[1:], expected[1:]
    assert [p[0] for p in points] == [p[0] for p in expected]
    assert [(p[1], p[3], p[4]) for p in points] == [(p[1], p[3], p[4]) for p in expected]
    assert [p[2] for p in points] == pytest.approx([p[2] for p in expected], rel=1e-9)


def test_max_points_bounds_any_range(week):
    store, now = week
    for max_points in (2, 10, 99):
        got = query(store, "w", "cpu_percent", now - 7 * 86400, now, max_points=max_points)
        assert 0 < len(got["points"]) <= max_points


def test_step_asks_for_coarser_buckets(store):
    now = math.floor(time.time())
    start = now - now % 3600 - 7200
    store.write_history("h", "1m", [(start + 60 * n, {"cpu_percent": (n, n + 1.0, 2.0 * n, 2)})
                                    for n in range(120)])
    # 25 hours back: the raw tier no longer reaches, the 1-minute one does.
    got = query(store, "h", "cpu_percent", now - 90000, now, step=900)
    assert got["step"] == 900  # from the minutes: no hour was written
    first = got["points"][0]
    assert first == {"t": start, "min": 0.0, "avg": 7.0, "max": 15.0, "count": 30}
    assert len(got["points"]) == 8
    assert query(store, "h", "cpu_percent", now - 90000, now, step=1)["step"] == 120  # 90000/999


def test_rolled_up_answers_keep_their_gaps(store):
    now = math.floor(time.time())
    start = now - now % 60 - 30 * 60
    store.write_history("h", "1m", [(start, {"cpu_percent": (1.0, 1.0, 1.0, 1)}),
                                    (start + 600, {"cpu_percent": (2.0, 2.0, 2.0, 1)})])
    got = query(store, "h", "cpu_percent", now - 2 * 86400, now, max_points=5000)
    assert got["step"] == 60 and [p["t"] for p in got["points"]] == [start, start + 600]


@pytest.mark.parametrize("args, param", [
    (("nope", 0, 10), "metric"), (("custom:unknown", 0, 10), "metric"),
    (("cpu_count", 0, 10), "metric"), (("cpu_percent", 10, 0), "from"),
    (("cpu_percent", float("nan"), 0), "from")])
def test_bad_queries_name_the_parameter(store, args, param):
    with pytest.raises(BadHistoryQuery) as caught:
        query(store, "h", *args)
    assert caught.value.param == param and isinstance(caught.value, ValueError)


@pytest.mark.parametrize("step", [0, -5, float("inf")])
def test_a_step_must_be_a_positive_number(store, step):
    with pytest.raises(BadHistoryQuery) as caught:
        query(store, "h", "cpu_percent", 0, 10, step=step)
    assert caught.value.param == "step"


def test_custom_series_are_queried_once_known(store):
    custom.ingest(store, [{"name": "q", "value": 5.0, "type": "gauge", "unit": "",
                           "labels": {}}])
    history.record_custom(store, "home", [{"key": "q", "value": 5.0, "ts": time.time()}])
    got = query(store, "home", "custom:q", time.time() - 60, time.time() + 1)
    assert [p["avg"] for p in got["points"]] == [5.0]


def test_coarsen_weights_the_average_by_count():
    points = [(0, 1.0, 2.0, 3.0, 1), (30, 0.0, 5.0, 9.0, 3), (60, 4.0, 4.0, 4.0, 2)]
    assert coarsen(points, 60) == [(0, 0.0, 17.0 / 4, 9.0, 4), (60, 4.0, 4.0, 4.0, 2)]
    assert coarsen([], 60) == []


def test_a_fine_step_over_more_than_six_hours_reads_minutes(store):
    # Before: step=1 over 8 hours read every raw row of the range.
    now = math.floor(time.time())
    store.write_history("h", "raw", ((now - 8 * 3600 + n, {"cpu_percent": 1.0})
                                     for n in range(0, 8 * 3600, 10)))
    got = query(store, "h", "cpu_percent", now - 8 * 3600, now, step=1, now=now)
    assert got["step"] >= 60
