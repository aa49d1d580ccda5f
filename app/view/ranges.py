"""The ranges a host's page may show (:data:`SPANS`), the charts drawn over them
(:data:`HOST_CHARTS` and one per custom series) and what they are read from: the history tiers
(:func:`read_tier`) or, live, the samples in memory put into buckets (:func:`buckets`).
``app.view.panel`` draws them.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain import custom as custom_mod
from app.domain import history
from app.store import Store

from . import timechart as tc
from .language import N_


@dataclass(frozen=True)
class Span:
    """How one range is drawn.

    :param seconds: the window (``app.domain.history.RANGES``).
    :param step: seconds one drawn point (a bucket) covers.
    :param tier: the history tier it is read from, None for live (the samples in memory).
    :param words: the range in words, for labels; :param link: the switcher's text.
    """

    seconds: int
    step: int
    tier: str | None
    words: str
    link: str


LIVE = "live"
#: The ranges a page may show, in the switcher's order. Buckets keep every chart between about
#: 60 and 120 points: enough for its width in pixels' worth of detail, small to send.
SPANS: dict[str, Span] = {
    LIVE: Span(int(history.RANGES["5m"]), 5, None, N_("last 5 minutes"), N_("live")),
    "1h": Span(int(history.RANGES["1h"]), 60, "1m", N_("last hour"), N_("1 h")),
    "6h": Span(int(history.RANGES["6h"]), 300, "1m", N_("last 6 hours"), N_("6 h")),
    "24h": Span(int(history.RANGES["24h"]), 900, "1m", N_("last 24 hours"), N_("24 h")),
    "7d": Span(int(history.RANGES["7d"]), 7200, "1h", N_("last 7 days"), N_("7 d")),
    "30d": Span(int(history.RANGES["30d"]), 21600, "1h", N_("last 30 days"), N_("30 d")),
    "1y": Span(int(history.RANGES["1y"]), 259200, "1h", N_("last year"), N_("1 y")),
}
#: Seconds between two sends of the live plots.
LIVE_STEP = 5
#: Seconds after a tier point's end before it is read: the sampler writes the rollup with the
#: first sample after the boundary, and the sample of one second may arrive a little late.
TIER_LAG = 3.0


@dataclass(frozen=True)
class Spec:
    """One chart: ``slug`` (id part), title, ``(history key, legend name)`` per series, axis
    kind and unit (see :class:`app.view.timechart.Chart`)."""

    slug: str
    title: str
    keys: tuple[tuple[str, str], ...]
    axis: str
    unit: str = ""


#: The host's charts, in panel order; custom metrics follow, by series key.
HOST_CHARTS = (
    Spec("cpu", N_("CPU"), (("cpu_percent", ""),), "percent"),
    Spec("memory", N_("Memory"), (("mem_percent", ""),), "percent"),
    Spec("load", N_("Load (1 min)"), (("load1", ""),), "plain"),
    Spec("network", N_("Network"), (("net_rx_bps", N_("received")), ("net_tx_bps", N_("sent"))),
         "bytes"),
    Spec("disk", N_("Disk usage"), (("disk_percent", ""),), "percent"),
)


def custom_spec(reading: dict) -> Spec:
    """The chart of one custom series (its latest ``reading``: key, name, labels, unit)."""
    labels = ", ".join(f"{k}={v}" for k, v in sorted(reading.get("labels", {}).items()))
    title = f"{reading['name']} ({labels})" if labels else reading["name"]
    return Spec(custom_mod.slug(reading["key"]), title,
                ((history.CUSTOM_PREFIX + reading["key"], ""),),
                "plain", reading.get("unit") or "")


def read_tier(store: Store, host: str, keys: list[str], tier: str, start: float, end: float,
              step: int) -> dict[str, list[tc.Point]]:
    """The points of ``keys`` in ``tier`` over ``[start, end)`` merged into ``step``-second
    buckets (:func:`app.domain.history.coarsen`), by key.

    Not :func:`app.domain.history.query`, which reads one metric at a time: ``history_many``
    reads each row once for all the keys of a host (a row holds them all), and the range's own
    tier is the one whose completed points decide when the panel is redrawn.
    """
    found = store.history_many(host, keys, tier, start, end)
    return {key: history.coarsen(points, step) for key, points in found.items()}




def buckets(readings: list[tuple[float, float]], start: float, step: int) -> list[tc.Point]:
    """Readings as ``step``-second points (t, min, avg, max) from ``start``, oldest first."""
    sums: dict[float, list[float]] = {}
    for t, value in readings:
        sums.setdefault(start + (t - start) // step * step, []).append(value)
    return [(t, min(v), sum(v) / len(v), max(v)) for t, v in sorted(sums.items())]


def buckets_of(points: list[tc.Point], step: int) -> dict[float, tc.Point]:
    """Points merged into ``step``-second buckets (by their start), as ``{t: point}``."""
    merged: dict[float, list[tc.Point]] = {}
    for point in points:
        merged.setdefault(point[0] // step * step, []).append(point)
    return {t: (t, min(p[1] for p in ps), sum(p[2] for p in ps) / len(ps), max(p[3] for p in ps))
            for t, ps in merged.items()}


#: Containers a containers chart draws at most (the busiest running ones, by the latest list).
CONTAINERS_CHARTED = 5


def container_specs(found: dict | None) -> tuple[Spec, ...]:
    """The History panel's two container charts for a host's latest containers list: CPU
    (percent of one CPU) and memory used (bytes) of the :data:`CONTAINERS_CHARTED` busiest
    running containers by each, in name order (their series ``container_cpu:<name>``,
    ``container_memory:<name>``: ``app.live.containerwatch``); none without such a container."""
    rows = [r for r in (found or {}).get("containers") or () if r.get("state") == "running"
            and r.get("cpu_percent") is not None] if found and found.get("engine") else []
    specs = []
    for slug, title, field, family, axis in (
            ("containers-cpu", N_("Containers: CPU"), "cpu_percent", "container_cpu", "plain"),
            ("containers-memory", N_("Containers: memory"), "mem_used", "container_memory", "size")):
        busiest = sorted(rows, key=lambda r: -(r.get(field) or 0))[:CONTAINERS_CHARTED]
        if busiest:
            keys = tuple((f"{family}:{r['name']}", r["name"])
                         for r in sorted(busiest, key=lambda r: r["name"]))
            specs.append(Spec(slug, title, keys, axis, "%" if axis == "plain" else ""))
    return tuple(specs)
