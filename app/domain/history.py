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
#: The sample keys kept. Left out: ``cpu_count`` and the ``*_total`` keys (they change
#: only when the machine does, and the latest sample holds them) and ``uptime`` (a clock, not a
#: measure: its chart would be a ramp).
HISTORY_KEYS: tuple[str, ...] = tuple(
    key for key in METRICS
    if key not in {"cpu_count", "mem_total", "disk_total", "swap_total", "uptime"})
#: Prefixes of a container's series in the history (a container name follows).
CONTAINER_PREFIXES = ("container_cpu:", "container_memory:")
#: Prefix of a custom series' key in the history (``custom:queue_depth{queue="mail"}``).
CUSTOM_PREFIX = "custom:"
#: Steps a coarsened answer uses, in seconds: the smallest that fits is taken, so buckets
#: start on round times (beyond a day: whole days).
_NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
               43200, 86400)
#: Seconds a range may reach past a tier's retention and still read that tier (:func:`tier_for`).
_GRACE = 60.0
#: Largest magnitude of a value kept in the history.
LARGEST = 1e300
#: Seconds a sample's time may be ahead of this dashboard's clock (an agent's clock is off).
MAX_AHEAD = 3600.0


class BadHistoryQuery(ValueError):
    """A history query names something unknown or impossible; ``param`` is the parameter at fault
    (``metric``, ``from``, ``to``, ``step``), the message says why."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def _kept(value) -> bool:
    """A number the tiers can sum: not a bool, finite, and within ±:data:`LARGEST` (nothing
    measured comes near it; beyond it a bucket's sum could overflow to infinity)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and abs(value) <= LARGEST)


def _in_time(ts: float, now: float) -> bool:
    """A sample time the history takes: not more than :data:`MAX_AHEAD` ahead of this clock
    (a bucket in the far future would outlive every retention) and after 1970."""
    return 0 <= ts <= now + MAX_AHEAD


def record(store: Store, sample: dict, now: float | None = None) -> None:
    """Keep the :data:`HISTORY_KEYS` of one host sample (``{"host", "ts", key: value, ...}``,
    as ``app.sources.sampler`` makes it) in the store's history. Keys missing or not numbers
    the tiers can sum (no temperature sensor: None) are left out; a sample with none, or
    whose ``ts`` is more than :data:`MAX_AHEAD` seconds ahead of ``now``, is not recorded.

    :raise StoreUnavailable: nothing was recorded.
    """
    found = row(sample, now)
    if found is not None:
        store.record_history(*found)


def row(sample: dict, now: float | None = None) -> tuple[str, float, dict[str, float]] | None:
    """What :func:`record` keeps of ``sample``: ``(host, ts, {key: value})`` for
    ``Store.record_history`` (or ``append_batch``), or None when it keeps nothing."""
    values = {key: float(v) for key in HISTORY_KEYS if _kept(v := sample.get(key))}
    ts = float(sample["ts"])
    if values and _in_time(ts, time.time() if now is None else now):
        return sample["host"], ts, values
    return None


def record_custom(store: Store, host: str, readings: list[dict]) -> None:
    """Keep custom readings (``{"key", "value", "ts"}``, as ``app.domain.custom.ingest`` stores
    them) under ``custom:<key>`` for ``host`` (the dashboard's own), one sample per time.

    :raise StoreUnavailable: nothing more was recorded.
    """
    by_time: dict[float, dict[str, float]] = {}
    now = time.time()
    for reading in readings:
        if _kept(value := reading.get("value")) and _in_time(ts := float(reading["ts"]), now):
            by_time.setdefault(ts, {})[CUSTOM_PREFIX + reading["key"]] = float(value)
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
    """Whether ``metric`` is a history key, ``custom:`` + one of ``custom_keys``, or a
    container's series (``container_cpu:<name>``, ``container_memory:<name>``: what
    ``app.live.containerwatch`` records, CPU in percent of one CPU, memory used in bytes)."""
    return (metric in HISTORY_KEYS or metric.startswith(CONTAINER_PREFIXES)
            or (metric.startswith(CUSTOM_PREFIX) and metric[len(CUSTOM_PREFIX):] in custom_keys))


def query(store: Store, host: str, metric: str, start: float, end: float, *,
          step: float | None = None, max_points: int = 1000, now: float | None = None,
          custom_keys=None) -> dict:
    """Read ``metric`` of ``host`` over ``[start, end)`` (Unix seconds).

    Returns ``{"host", "metric", "step", "points": [{"t", "min", "avg", "max", "count"}]}``,
    oldest first. The points come from the finest tier whose retention covers ``start``
    (``now`` minus the store's :attr:`~app.store.Store.history_retention`), merged into
    buckets aligned on multiples of a round step (:data:`_NICE_STEPS`: min of mins, max of
    maxes, count-weighted average) when ``step`` asks for it or there would be more than
    ``max_points``; that step is the smallest round one at or above both ``step`` and the
    range over ``max_points - 1`` (so ``max_points`` must be 2 or more). Such buckets are
    whole, the first one holding its tier's points from before ``start`` too, and are read
    from the coarsest tier that gives the same ones (a 30-day range merged to hours reads the
    hour tier). ``"step"`` in the answer is the points' length in seconds, or None for raw
    samples as they are; over more than :data:`MAX_RAW_SPAN` the step is a minute at least.
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
    keep = store.history_retention
    tier = tier_for(now - start, keep)
    need = max(step or 0.0, (end - start) / max(max_points - 1, 1))
    if tier == "raw" and end - start > MAX_RAW_SPAN:
        need = max(need, TIER_STEPS["1m"])  # minutes, not up to a day of raw rows
    coarse = _nice(max(need, TIER_STEPS[tier] or 1))
    # Buckets of ``coarse`` seconds merged from a tier are the very buckets merged from any
    # coarser tier whose step divides it, and the coarser tier has far fewer rows to read
    # (30 days: 720 hours, not 43,200 minutes). So read the coarsest such tier that covers.
    for coarser in ("1m", "1h"):
        length = TIER_STEPS[coarser]
        if (length > (TIER_STEPS[tier] or 0) and coarse % length == 0
                and now - start <= keep.of(coarser) + _GRACE):
            tier = coarser
    native = TIER_STEPS[tier]
    points = store.history(host, metric, tier, start, end)
    if native is not None and need <= native:
        out_step = native  # the tier's own points
    elif native is None and step is None and len(points) <= max_points:
        out_step = None  # raw samples, as they are
    else:
        # Whole buckets: the first one also holds what its tier has before ``start``.
        out_step = coarse
        begin = math.floor(start / coarse) * coarse
        if begin < start:
            points = store.history(host, metric, tier, begin, start) + points
        points = coarsen(points, out_step)
    return {"host": host, "metric": metric, "step": out_step,
            "points": [{"t": t, "min": lo, "avg": avg, "max": hi, "count": n}
                       for t, lo, avg, hi, n in points]}


#: The longest range read from the raw tier, seconds: at most one raw sample a second
#: (``app.store.tiers.raw_stamp``), so a request reads at most 21,600 raw rows (the 6-hour
#: chart reads that many); a longer one
#: asking for a finer step gets minutes.
MAX_RAW_SPAN = 6 * 3600


def _nice(seconds: float) -> int:
    """The smallest of :data:`_NICE_STEPS` at or above ``seconds``, beyond them whole days."""
    return next((s for s in _NICE_STEPS if s >= seconds), math.ceil(seconds / 86400) * 86400)


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
