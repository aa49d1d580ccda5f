"""History of host samples and custom metrics: what is kept, and how a range is read back.

The store keeps three tiers (``app.store.tiers``): raw samples, 1-minute and 1-hour buckets
(min, max, sum, count). :func:`record` is what every writer of samples calls, once per sample;
:func:`query` answers "what did ``metric`` of ``host`` do between ``start`` and ``end``" from the
finest tier that still covers ``start``, coarsened to at most ``max_points`` points. Custom
metrics are kept under ``custom:<series key>`` for the dashboard's own host (they are pushed to
this dashboard, not measured on a host).
"""

from __future__ import annotations

import math
import time

from app.sources.sample import METRICS
from app.store import Store
from app.store.tiers import TIERS, Point, Retention

#: Range names of the page's switcher and the API's ``range=``, in order, as seconds back from now.
RANGES: dict[str, float] = {"5m": 300, "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800,
                            "30d": 2592000, "1y": 31536000}
#: Tier -> the length of its points in seconds (None: raw samples, as often as they come).
TIER_STEPS: dict[str, int | None] = {tier: step or None for tier, step in TIERS.items()}
#: The sample keys kept. Left out: ``cpu_count``, ``mem_total`` and ``disk_total`` (they change
#: only when the machine does, and the latest sample holds them) and ``uptime`` (a clock, not a
#: measure: its chart would be a ramp).
HISTORY_KEYS: tuple[str, ...] = tuple(
    key for key in METRICS if key not in {"cpu_count", "mem_total", "disk_total", "uptime"})
#: Prefix of a custom series' key in the history (``custom:queue_depth{queue="mail"}``).
CUSTOM_PREFIX = "custom:"
#: Steps a coarsened answer uses, in seconds: the smallest that fits is taken, so buckets
#: start on round times (beyond a day: whole days).
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
               43200, 86400)


_GRACE = 60.0


class BadHistoryQuery(ValueError):
    """A history query names something unknown or impossible; ``param`` is the parameter at fault
    (``metric``, ``from``, ``to``, ``step``), the message says why."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def record(store: Store, sample: dict) -> None:
    """Keep the :data:`HISTORY_KEYS` of one host sample (``{"host", "ts", key: value, ...}``,
    as ``app.sources.sampler`` makes it) in the store's history. Keys missing or not finite
    numbers (no temperature sensor: None) are left out; a sample with none is not recorded.

    :raise StoreUnavailable: nothing was recorded.
    """
    values = {key: float(v) for key in HISTORY_KEYS
              if isinstance(v := sample.get(key), (int, float)) and not isinstance(v, bool)
              and math.isfinite(v)}
    if values:
        store.record_history(sample["host"], float(sample["ts"]), values)


def record_custom(store: Store, host: str, readings: list[dict]) -> None:
    """Keep custom readings (``{"key", "value", "ts"}``, as ``app.domain.custom.ingest`` stores
    them) under ``custom:<key>`` for ``host`` (the dashboard's own), one sample per time.

    :raise StoreUnavailable: nothing more was recorded.
    """
    by_time: dict[float, dict[str, float]] = {}
    for reading in readings:
        value = reading.get("value")
        if isinstance(value, (int, float)) and math.isfinite(value):
            by_time.setdefault(float(reading["ts"]), {})[CUSTOM_PREFIX + reading["key"]] = value
    for ts, values in by_time.items():
        store.record_history(host, ts, values)


def tier_for(span: float, retention: Retention) -> str:
    """The finest tier whose retention reaches ``span`` seconds back from now (``raw``, ``1m``
    or ``1h``); ``1h`` when none does (the oldest points are simply gone).

    A minute's grace: a range as long as a tier's retention, computed a moment before the
    query runs, still reads that tier (its first few seconds are trimmed, nothing more).
    """
    for tier in ("raw", "1m"):
        if span <= retention.of(tier) + _GRACE:
            return tier
    return "1h"


def known_metric(metric: str, custom_keys) -> bool:
    """Whether ``metric`` is a history key or ``custom:`` + one of ``custom_keys``."""
    return metric in HISTORY_KEYS or (metric.startswith(CUSTOM_PREFIX)
                                      and metric[len(CUSTOM_PREFIX):] in custom_keys)


def query(store: Store, host: str, metric: str, start: float, end: float, *,
          step: float | None = None, max_points: int = 1000, now: float | None = None,
          custom_keys=None) -> dict:
    """Read ``metric`` of ``host`` over ``[start, end)`` (Unix seconds).

    Returns ``{"host", "metric", "step", "points": [{"t", "min", "avg", "max", "count"}]}``,
    oldest first. The tier is the finest whose retention covers ``start`` (``now`` minus the
    store's :attr:`~app.store.Store.history_retention`); its points are merged into buckets of
    ``step`` seconds (aligned on multiples of it: min of mins, max of maxes, count-weighted
    average) when ``step`` is given or when there would be more than ``max_points``; then
    ``step`` is the smallest round step (:data:`_NICE_STEPS`) at or above the asked one that
    fits. ``"step"`` in the answer is the points' length in seconds, or None for raw samples.
    Times without data have no point. ``custom_keys`` are the custom series that
    ``custom:<key>`` may name (``app.domain.custom.latest``); None: read them from the store.

    :raise BadHistoryQuery: an unknown metric, ``start > end``, or a step that is not a positive
        number.
    """
    if custom_keys is None and metric.startswith(CUSTOM_PREFIX):
        from app.domain.custom import latest  # here: custom imports this module to record

        custom_keys = latest(store)
    if not known_metric(metric, custom_keys or ()):
        raise BadHistoryQuery("metric", f"unknown metric {metric!r}: one of "
                              f"{', '.join(HISTORY_KEYS)} or custom:<series key>")
    if not (math.isfinite(start) and math.isfinite(end)):
        raise BadHistoryQuery("from", "from and to must be finite Unix times")
    if start > end:
        raise BadHistoryQuery("from", f"from ({start:g}) is after to ({end:g})")
    if step is not None and not (math.isfinite(step) and step > 0):
        raise BadHistoryQuery("step", "step must be a positive number of seconds")
    now = time.time() if now is None else now
    tier = tier_for(now - start, store.history_retention)
    points = store.history(host, metric, tier, start, end)
    native = TIER_STEPS[tier]
    wanted = max(step or 0, native or 0, (end - start) / max(max_points - 1, 1))
    if step is None and len(points) <= max_points:
        out_step = native
    else:
        out_step = next((s for s in _NICE_STEPS if s >= wanted),
                        math.ceil(wanted / 86400) * 86400)
        points = coarsen(points, out_step)
    return {"host": host, "metric": metric, "step": out_step,
            "points": [{"t": t, "min": lo, "avg": avg, "max": hi, "count": n}
                       for t, lo, avg, hi, n in points]}


def coarsen(points: list[Point], step: float) -> list[Point]:
    """Merge ``points`` (oldest first) into buckets of ``step`` seconds aligned on multiples of
    it: each bucket's t is its start, min the least min, max the greatest max, avg the average
    weighted by count, count the sum."""
    merged: list[Point] = []
    t0 = lo = hi = total = None
    count = 0
    for t, p_lo, p_avg, p_hi, n in points:
        b = math.floor(t / step) * step
        if b != t0:
            if t0 is not None:
                merged.append((t0, lo, total / count, hi, count))
            t0, lo, hi, total, count = b, p_lo, p_hi, 0.0, 0
        lo, hi = min(lo, p_lo), max(hi, p_hi)
        total += p_avg * n
        count += n
    if t0 is not None:
        merged.append((t0, lo, total / count, hi, count))
    return merged
