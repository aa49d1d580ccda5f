"""A made-up past for a host: days of history written straight into the tiers in seconds.

``flask --app wsgi history-fill`` and the simulator's ``history`` scenario call :func:`fill`, so
that a new user sees the long ranges filled at once, and tests and benchmarks need not wait for
real time. The days follow a daily cycle (busy afternoons, quiet nights, on the UTC clock) with
noise, a CPU spike at 03:00 two nights ago, a network burst the day before, a disk clean-up, and
one hour, three days ago, in which the host was down (no points at all: a gap, not zeros).

Raw samples are made only for the raw tier's retention (the last 24 hours by default), one per
``interval`` seconds, and folded exactly into their minute buckets; older minutes get their
min, max, sum and count from the same model directly, and each hour bucket is the merge of its
minutes (older than the minute tier's retention: computed from the model per hour). Everything
goes through ``Store.write_history``, the bulk path. With one ``seed`` and one ``now`` the
result is the same every time.
"""

from __future__ import annotations

import math
import random
import time

from app.domain.history import HISTORY_KEYS
from app.store import Store

GIB = 1 << 30
MEM_TOTAL = 16 * GIB
DISK_TOTAL = 500 * GIB
CPU_COUNT = 8
DAY = 86400


def _model(t: float, now: float) -> dict[str, float]:
    """Smooth values of every history key at time ``t``: the daily cycle and the events."""
    hour = (t % DAY) / 3600
    busy = max(0.0, math.sin((hour - 7) / 24 * 2 * math.pi)) ** 1.5  # 0 at night, 1 at 13:00
    ago = now - t
    cpu = 12 + 48 * busy
    night = now - now % DAY - DAY  # the start of yesterday, UTC
    if 0 <= t - (night - DAY + 3 * 3600) < 1200:  # 03:00-03:20 two nights ago
        cpu = 96.0
    rx = 150e3 + 2.5e6 * busy
    if 0 <= t - (night + 15 * 3600) < 600:  # 15:00-15:10 yesterday
        rx = 45e6
    mem = 38 + 22 * busy + 4 * math.sin(t / (3.5 * DAY) * math.pi)
    disk = 61 + 6 * (1 - (ago % (4 * DAY)) / (4 * DAY))  # fills up, cleaned every 4 days
    load = cpu / 100 * CPU_COUNT * 1.1
    return {"cpu_percent": cpu, "mem_percent": mem, "mem_used": mem / 100 * MEM_TOTAL,
            "disk_percent": disk, "disk_used": disk / 100 * DISK_TOTAL, "net_rx_bps": rx,
            "net_tx_bps": rx * 0.3, "load1": load, "load5": load * 0.95, "load15": load * 0.9,
            "temperature": 40 + cpu * 0.35}


#: Noise around the model, as a fraction of the value (percent keys: points).
_NOISE = {"cpu_percent": 6.0, "mem_percent": 1.0, "mem_used": 0.02, "disk_percent": 0.05,
          "disk_used": 0.001, "net_rx_bps": 0.5, "net_tx_bps": 0.5, "load1": 0.25,
          "load5": 0.1, "load15": 0.05, "temperature": 1.5}
_ABSOLUTE = {"cpu_percent", "mem_percent", "disk_percent", "temperature"}
_BOUNDS = {"cpu_percent": 100.0, "mem_percent": 100.0, "disk_percent": 100.0}


def _noisy(key: str, base: float, rnd: random.Random) -> float:
    spread = _NOISE[key] if key in _ABSOLUTE else _NOISE[key] * base
    return min(max(base + spread * (rnd.random() * 2 - 1), 0.0), _BOUNDS.get(key, math.inf))


def _noisy_column(key: str, base: float, n: int, rnd: random.Random) -> list[float]:
    """``n`` values of :func:`_noisy` at once."""
    spread = _NOISE[key] if key in _ABSOLUTE else _NOISE[key] * base
    low, high, r = base - spread, 2 * spread, rnd.random
    column = [low + high * r() for _ in range(n)]
    top = _BOUNDS.get(key, math.inf)
    if low < 0 or low + high > top:
        column = [min(max(v, 0.0), top) for v in column]
    return column


def _spread(key: str, base: float) -> tuple[float, float]:
    """The (min, max) that many noisy samples around ``base`` reach."""
    spread = _NOISE[key] if key in _ABSOLUTE else _NOISE[key] * base
    return max(base - spread * 0.95, 0.0), min(base + spread * 0.95, _BOUNDS.get(key, math.inf))


def down(t: float, now: float) -> bool:
    """Whether the made-up host was down at ``t``: the hour that began 75 hours (on an hour)
    before ``now``'s hour."""
    start = now - now % 3600 - 75 * 3600
    return start <= t < start + 3600


def fill(store: Store, host: str, days: float = 7, *, seed: int = 1, interval: float = 1.0,
         now: float | None = None) -> dict[str, int]:
    """Write ``days`` of made-up history of ``host`` (module docstring) ending at ``now``.

    :param interval: seconds between two raw samples (``DASHBOARD_SAMPLE_INTERVAL``).
    :return: points written per tier, ``{"raw": N, "1m": N, "1h": N}``.
    :raise StoreUnavailable: the store failed part-way; what was written stays.
    """
    now = math.floor(time.time() if now is None else now)
    keep = store.history_retention
    rnd = random.Random(seed)
    first = now - days * DAY
    raw_from = max(first, now - keep.raw)
    minute_from = max(first, now - keep.minute)
    minutes: dict[int, dict[str, list]] = {}
    raw: list[tuple[float, dict[str, float]]] = []
    t0 = math.floor(minute_from / 60) * 60
    for start in range(t0, now, 60):
        base = _model(start + 30, now)
        if start + 60 <= raw_from:  # no raw samples: the bucket from the model
            if down(start, now) or start < first:
                continue
            aggs = {}
            for key in HISTORY_KEYS:
                value = _noisy(key, base[key], rnd)
                low, high = _spread(key, base[key])
                aggs[key] = [min(low, value), max(high, value), value * 60 / interval,
                             round(60 / interval)]
            minutes[start] = aggs
            continue
        t = max(start + (-start % interval), math.ceil(raw_from / interval) * interval)
        times = []
        while t < min(start + 60, now):
            if not down(t, now):
                times.append(t)
            t += interval
        if not times:
            continue
        # Column by column: the values of one key over the minute, then folded exactly.
        columns = [_noisy_column(key, base[key], len(times), rnd) for key in HISTORY_KEYS]
        minutes[start] = {key: [min(c), max(c), sum(c), len(c)]
                          for key, c in zip(HISTORY_KEYS, columns)}
        raw.extend(zip(times, (dict(zip(HISTORY_KEYS, row)) for row in zip(*columns))))
    hours = _hours_from_minutes(minutes)
    for start in range(math.floor(max(first, now - keep.hour) / 3600) * 3600,
                       math.floor(minute_from / 3600) * 3600, 3600):
        if not down(start, now):
            hours[start] = _model_hour(start, now, rnd, interval)
    store.write_history(host, "raw", raw)
    store.write_history(host, "1m", ((t, {k: tuple(a) for k, a in aggs.items()})
                                     for t, aggs in sorted(minutes.items())))
    store.write_history(host, "1h", ((t, {k: tuple(a) for k, a in aggs.items()})
                                     for t, aggs in sorted(hours.items())))
    return {"raw": len(raw), "1m": len(minutes), "1h": len(hours)}


def _hours_from_minutes(minutes: dict[int, dict[str, list]]) -> dict[int, dict[str, list]]:
    hours: dict[int, dict[str, list]] = {}
    for start, aggs in minutes.items():
        into = hours.setdefault(start - start % 3600, {})
        for key, (low, high, total, count) in aggs.items():
            agg = into.get(key)
            if agg is None:
                into[key] = [low, high, total, count]
            else:
                agg[0], agg[1] = min(agg[0], low), max(agg[1], high)
                agg[2] += total
                agg[3] += count
    return hours


def _model_hour(start: int, now: float, rnd: random.Random, interval: float) -> dict[str, list]:
    """An hour bucket from the model: the range of its minutes' values, and their mean."""
    per_minute = [_model(start + 60 * m + 30, now) for m in range(0, 60, 5)]
    count = round(3600 / interval)
    aggs = {}
    for key in HISTORY_KEYS:
        bases = [b[key] for b in per_minute]
        low = min(_spread(key, b)[0] for b in bases)
        high = max(_spread(key, b)[1] for b in bases)
        mean = _noisy(key, sum(bases) / len(bases), rnd)
        aggs[key] = [min(low, mean), max(high, mean), mean * count, count]
    return aggs


def latest_sample(host: str, now: float | None = None, seed: int = 1) -> dict:
    """A sample of ``host`` at ``now`` on the same model (every key of a host sample), so a
    filled host has a latest sample and a place in the fleet."""
    now = time.time() if now is None else now
    rnd = random.Random(seed)
    values = {key: _noisy(key, v, rnd) for key, v in _model(now, now).items()}
    return {"host": host, "ts": now, **values, "cpu_count": CPU_COUNT, "mem_total": float(MEM_TOTAL),
            "disk_total": float(DISK_TOTAL), "uptime": 74 * 3600.0, "simulated": True}
