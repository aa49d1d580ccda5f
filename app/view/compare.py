"""Hosts compared: one metric over one range, a line per host for the busiest ones
(``/fleet/compare?metric=cpu_percent&range=1h``).

Drawn by :mod:`app.view.timechart` from the history tiers (:func:`app.domain.busiest.busiest`),
without the min-max band (ten bands would hide each other) and with the legend as an HTML list
beside the chart (host names are long; the list also gives each host's average and a link to
its page). Each line has its own colour class ``s0``-``s9`` (``static/dashboard.css``: five
colour-blind-safe colours, solid then dashed, so no two lines rely on hue alone).

When it changes: like the host page's panel (``app.view.panel``), when a point of the range's
tier is complete (live: every :data:`~app.view.ranges.LIVE_STEP` seconds from the raw tier).
:class:`Comparisons` renders each (metric, range) once per such point and keeps the HTML, so
every viewer in this process gets the same string, and its ETag (the point's number) makes
an unchanged poll a ``304``. Pages poll it (``hx-trigger="every Ns"``, :data:`POLL`) rather
than hold a stream: it changes at most once a minute beyond the live range.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

import gevent.event
from jinja2 import Environment

from app.domain import history
from app.domain.busiest import COMPARED, busiest
from app.sources.sample import METRICS
from app.store import Store, StoreUnavailable

from . import timeaxis as ta
from . import timechart as tc
from .language import Language, N_, Say, gettext_of, source
from .ranges import LIVE, LIVE_STEP, SPANS, TIER_LAG



def _axis(key: str) -> tuple[str, str, str]:
    """``(label, axis, unit)`` of a sample key (``app.sources.sample.METRICS``) for
    :class:`app.view.timechart.Chart`."""
    metric = METRICS[key]
    axis = {"%": "percent", "bytes/s": "bytes", "bytes": "size"}.get(metric.unit, "plain")
    return metric.label, axis, metric.unit if axis == "plain" else ""


#: What may be compared: every history key (custom series are kept for the dashboard's own
#: host only: there is nothing to compare them with), as ``key -> (label, axis, unit)``.
COMPARABLE: dict[str, tuple[str, str, str]] = {key: _axis(key) for key in history.HISTORY_KEYS}
#: A container's series (``app.live.containerwatch``): comparable across the hosts that run a
#: container of that name, though not listed among the page's metrics.
CONTAINER_METRIC = re.compile(r"container_(cpu|memory):[A-Za-z0-9_.-]{1,128}")


def describe(metric: str, say: Say = source) -> tuple[str, str, str]:
    """``(label, axis, unit)`` of a comparable ``metric`` (checked by :func:`check`); a
    container's label in ``say``'s language."""
    if metric in COMPARABLE:
        return COMPARABLE[metric]
    family, _, name = metric.partition(":")
    if family == "container_cpu":
        return say(N_("CPU of container %(name)s"), name=name), "plain", "%"
    return say(N_("Memory of container %(name)s"), name=name), "size", ""


#: Seconds between two polls of the chart by a page, by tier (None: live, the raw tier). A
#: point shows at most this long after it is complete; an unchanged poll is a bare 304.
POLL = {None: LIVE_STEP, "1m": 15, "1h": 60}
#: (metric, range) renders kept per process: every pair, so that a client cycling through them
#: cannot make each request render again (about 20 KB each at 100 hosts); each is drawn at most
#: once per tier point whatever the number of clients.
KEPT = len(COMPARABLE) * len(SPANS)
#: Seconds a request waits for another's first render of the same chart.
WAIT = 30.0


class BadCompare(ValueError):
    """An unknown ``metric`` or ``range`` (``param`` names which): 400."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def check(metric: str, range_name: str) -> str:
    """The range's key in :data:`~app.view.ranges.SPANS` (``5m`` is ``live``).

    :raise BadCompare: ``metric`` is not in :data:`COMPARABLE` or the range not in ``SPANS``.
    """
    if metric not in COMPARABLE and not CONTAINER_METRIC.fullmatch(metric):
        raise BadCompare("metric", f"unknown metric {metric!r}; one of {', '.join(COMPARABLE)}"
                                   ", or container_cpu:<name> / container_memory:<name>")
    range_name = LIVE if range_name == "5m" else range_name
    if range_name not in SPANS:
        raise BadCompare("range", f"unknown range {range_name!r}; one of {', '.join(SPANS)}")
    return range_name


@dataclass(frozen=True)
class Rendered:
    """One render: its ETag (``"<metric>.<range>.<slot>"``) and the region's HTML."""

    etag: str
    html: str


def slot(range_name: str, now: float) -> int:
    """The number of the range's latest complete tier point at ``now`` (Unix seconds): the
    render changes when it does (live: every :data:`~app.view.ranges.LIVE_STEP` seconds)."""
    tier = SPANS[range_name].tier
    if tier is None:
        return math.floor(now / LIVE_STEP)
    return math.floor((now - TIER_LAG) / history.TIER_STEPS[tier])


def draw(store: Store, hosts: Iterable[str], metric: str, range_name: str, zone: tzinfo,
         now: float, language: Language | None = None) -> dict:
    """What ``_compare.html`` shows for ``metric`` over ``range_name`` at ``now``:
    ``{"metric", "range", "label", "span", "frame", "plot", "ranked", "hosts", "poll", "zone"}``
    (``ranked``: :class:`~app.domain.busiest.Ranked` per line, busiest first, with the figure
    of its average; ``hosts``: how many were looked at), the chart's words in ``language``.

    :raise app.store.StoreUnavailable: the history could not be read.
    """
    span = SPANS[range_name]
    tier = span.tier or "raw"
    say = gettext_of(language)
    label, axis, unit = describe(metric, say)
    end = (math.floor(now / span.step) + 1) * span.step
    start = end - span.seconds
    hosts = sorted(set(hosts))
    ranked = busiest(store, hosts, metric, tier, start, end, span.step)
    chart = tc.Chart("compare", say(N_("%(what)s of the %(count)s busiest hosts"),
                                    what=say(label), count=COMPARED),
                     [tc.Series(r.host, r.points) for r in ranked], start, end, span.step,
                     axis=axis, unit=unit, span_label=say(span.words),
                     ticks=ta.time_ticks(start, end, zone), language=language)
    lo, hi, vstep, divisor = ta.value_axis([p[2] for r in ranked for p in r.points], axis)
    by_series = [{p[0]: p for p in r.points} for r in ranked]
    hovers = [(t, t + span.step, tc.bucket_title(chart, t, t + span.step, zone,
                                                 [points.get(t) for points in by_series],
                                                 spread=False))
              for t in sorted({t for points in by_series for t in points})]
    return {
        "metric": metric, "range": range_name, "label": label, "span": span,
        "frame": tc.frame(chart, lo, hi, vstep, divisor, legend=False),
        "plot": tc.plot(chart, lo, hi, say(N_("busiest %(host)s, average %(average)s"),
                                           host=ranked[0].host,
                                           average=ta.figure(ranked[0].average, axis, unit))
                        if ranked else "", hovers),
        "ranked": [(r, ta.figure(r.average, axis, unit)) for r in ranked],
        "hosts": len(hosts), "poll": POLL[span.tier],
        "zone": datetime.now(zone).tzname() or str(zone),
    }


class Comparisons:
    """This process's renders of the compare chart, one per (metric, range) and tier point.

    :param env: the Jinja environment (autoescaping on: host names are user text).
    :param zone: the time zone of the times (``DASHBOARD_TIMEZONE``).
    """

    def __init__(self, env: Environment, zone: tzinfo, kept: int = KEPT) -> None:
        self.template = env.get_template("_compare.html")
        self.zone = zone
        self.kept = kept
        self._renders: OrderedDict[tuple[str, str], Rendered] = OrderedDict()
        #: keys being rendered now, and what the others asking for them wait on
        self._busy: dict[tuple[str, str], gevent.event.Event] = {}

    def get(self, store: Store, hosts: Iterable[str], metric: str, range_name: str,
            now: float) -> Rendered:
        """The chart of ``metric`` over ``range_name`` (checked by :func:`check`) as of
        ``now``, rendered if its tier point changed since the last call.

        :raise app.store.StoreUnavailable: a new render could not read the history (or, for a
            request that waited for another's first render, that one could not).
        """
        key = (metric, range_name)
        etag = f"{metric}.{range_name}.{slot(range_name, now)}"
        found = self._renders.get(key)
        rendering = self._busy.get(key)
        if rendering is not None:
            # One request renders a key at a time (its reads let other greenlets run): the
            # others get the previous render, or wait for the first one (a gevent event: the
            # requests are greenlets of one worker).
            if found is None:
                rendering.wait(WAIT)
                found = self._renders.get(key)
                if found is None:  # it failed: its error was that request's
                    raise StoreUnavailable("the compare chart could not be drawn; retry")
            return found
        if found is None or found.etag != etag:
            self._busy[key] = gevent.event.Event()
            try:
                html = self.template.render(
                    **draw(store, hosts, metric, range_name, self.zone, now,
                           self.template.environment.globals.get("language")),
                    metrics=COMPARABLE, spans=SPANS)
                found = self._renders[key] = Rendered(etag, html)
            finally:
                self._busy.pop(key).set()
            while len(self._renders) > self.kept:
                self._renders.popitem(last=False)
        if key in self._renders:
            self._renders.move_to_end(key)
        return found
