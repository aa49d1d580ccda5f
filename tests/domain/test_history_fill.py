"""The made-up past of ``flask history-fill`` and the simulator's ``history`` scenario."""

import math
import time

import pytest

from app.domain.history import HISTORY_KEYS
from app.domain.history_fill import down, fill
from app.store import open_store

NOW = math.floor(time.time() / 60) * 60 + 17  # fixed for the module: fills are comparable
DAY = 86400


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """Four days of host "h", filled once for the module."""
    path = tmp_path_factory.mktemp("fill") / "store.sqlite3"
    store = open_store(f"sqlite:///{path}", log_size=100, poll_interval=0.05)
    counts = fill(store, "h", 4, now=NOW)
    yield store, counts
    store.close()


def test_tiers_are_filled_for_their_retention(filled):
    store, counts = filled
    assert counts["raw"] == DAY  # one a second for the raw tier's 24 hours
    assert counts["1m"] == 4 * 1440 - 60  # every minute but the hour down
    assert 4 * 24 - 1 <= counts["1h"] <= 4 * 24 + 1
    raw = store.history("h", "cpu_percent", "raw", 0, NOW + 1)
    assert len(raw) == DAY and raw[-1][0] < NOW and raw[0][0] >= NOW - DAY


def test_the_minutes_of_the_raw_day_fold_its_samples_exactly(filled):
    store, _ = filled
    start = NOW - NOW % 60 - 3600
    for key in ("cpu_percent", "net_rx_bps", "load15"):
        raw = [p[1] for p in store.history("h", key, "raw", start, start + 60)]
        [minute] = store.history("h", key, "1m", start, start + 60)
        assert minute == (start, min(raw), sum(raw) / 60, max(raw), 60)


def test_the_host_was_down_for_one_hour(filled):
    store, _ = filled
    start = NOW - NOW % 3600 - 75 * 3600
    assert down(start, NOW) and not down(start - 1, NOW) and not down(start + 3600, NOW)
    for tier, before, after in (("1m", start - 60, start + 3600), ("1h", start - 3600,
                                                                     start + 3600)):
        points = store.history("h", "cpu_percent", tier, start - 3600, start + 7200)
        assert [p[0] for p in points if start - 3600 <= p[0] < start + 7200][:1]
        assert not [p for p in points if start <= p[0] < start + 3600], tier
        assert before in [p[0] for p in points] and after in [p[0] for p in points]


def test_a_daily_cycle_a_spike_and_sane_values(filled):
    store, _ = filled
    hours = store.history_many("h", HISTORY_KEYS, "1h", 0, NOW + 1)
    cpu = hours["cpu_percent"]
    assert max(p[3] for p in cpu) >= 95  # the spike two nights ago
    by_hour = {}
    for t, _, avg, _, _ in cpu:
        by_hour.setdefault(int(t % DAY // 3600), []).append(avg)
    assert sum(by_hour[13]) / len(by_hour[13]) > sum(by_hour[1]) / len(by_hour[1]) + 20
    for key in ("cpu_percent", "mem_percent", "disk_percent"):
        assert all(0 <= p[1] <= p[2] <= p[3] <= 100 for p in hours[key]), key
    assert all(p[1] >= 0 for key in HISTORY_KEYS for p in hours[key])


def test_the_same_seed_gives_the_same_history(filled, tmp_path):
    store, _ = filled
    other = open_store(f"sqlite:///{tmp_path / 'other.sqlite3'}", log_size=100,
                       poll_interval=0.05)
    try:
        fill(other, "h", 4, now=NOW)
        for tier in ("raw", "1m", "1h"):
            assert (other.history("h", "load1", tier, 0, NOW + 1)
                    == store.history("h", "load1", tier, 0, NOW + 1))
        fill(other, "h", 4, now=NOW, seed=2)
        assert (other.history("h", "load1", "1h", 0, NOW + 1)
                != store.history("h", "load1", "1h", 0, NOW + 1))
    finally:
        other.close()
