"""The chart panel of one host's page over one time range: what it draws and when it changes.

A page is one host and one range (``app.live.pages``). Its panel has a chart for CPU, memory,
load, network (received and sent), disk usage and each custom metric, drawn by
:mod:`app.view.timechart`, and is two regions of the page:

- ``charts``: the whole panel, frames and plots (the page, the snapshot, ``/poll``);
- ``plots``: only the plots, each a whole ``<svg>`` in its own ``div`` (the stream sends it).

**Live** (the last 5 minutes, the default) is drawn from the samples of the log this process
reads anyway, in 5-second buckets, on a window that moves by whole minutes: the frame (axes,
clock-time ticks and the hover titles of the minutes already over) changes once a minute, and
only the plots are sent every :data:`LIVE_STEP` seconds. That keeps what a viewer receives
small (``bench/charts.py``: bytes per viewer per second) while the figures still change each
second. **Other ranges** are drawn from the store's history tiers (``app.domain.history``) and
redrawn when a new point of their tier is complete: once a minute from the 1-minute tier (1 h,
6 h, 24 h), once an hour from the 1-hour tier (7 d, 30 d, 1 y). Nothing here runs per viewer:
the tailer's once-a-second sweep calls :meth:`ChartPanel.due` for every page.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from markupsafe import Markup

from app.domain import history
from app.store import Store

from . import timeaxis as ta
from .ranges import (HOST_CHARTS, LIVE_STEP, SPANS, TIER_LAG, Spec, buckets, buckets_of,
                     container_specs, custom_spec, read_tier)
from . import timechart as tc
from .language import Language, gettext_of

log = logging.getLogger(__name__)


#: Samples kept for the live range: its 5-minute window and the minute it is in.
_LIVE_KEPT = 360


@dataclass
class Drawn:
    """One drawn chart, as the ``_charts.html`` and ``_plots.html`` templates write it."""

    slug: str
    title: str
    frame: Markup
    plot: Markup
    #: The history key ``/fleet/compare`` compares hosts by for this chart (its first
    #: series'), or None for a custom metric (kept for this dashboard's own host only).
    metric: str | None = None


class ChartPanel:
    """The charts of one host over one range, drawn when :meth:`due` says so.

    :param host: whose samples and history; :param range_name: a key of :data:`SPANS`.
    :param zone: the time zone of the tick labels and titles (``DASHBOARD_TIMEZONE``).
    :param custom_host: the host whose history holds the custom metrics (the dashboard's own:
        ``app.domain.history.record_custom``); None: ``host``.
    :param fetch: reads a tier (:func:`read_tier`; tests pass a fake).
    :param language: the language of the charts' words (None: the source's).
    """

    def __init__(self, host: str, range_name: str, zone: tzinfo, custom_host: str | None = None,
                 fetch: Callable[..., dict[str, list[tc.Point]]] = read_tier,
                 language: Language | None = None) -> None:
        self.host = host
        self.language = language
        self.custom_host = custom_host or host
        self.range = range_name
        self.span = SPANS[range_name]
        self.zone = zone
        self.fetch = fetch
        #: Live only: (Unix seconds, sample) of the latest samples, oldest first.
        self.samples: deque[tuple[float, dict]] = deque(maxlen=_LIVE_KEPT)
        #: Live only: series key -> deque of (Unix seconds, value).
        self.custom: dict[str, deque[tuple[float, float]]] = {}
        self.custom_specs: dict[str, Spec] = {}
        #: The container charts (:func:`~app.view.ranges.container_specs`) and, live only,
        #: each of their series' readings: history key -> deque of (Unix seconds, value).
        self.container_specs: tuple[Spec, ...] = ()
        self.containers: dict[str, deque[tuple[float, float]]] = {}
        self.drawn: list[Drawn] = []
        #: The zone's name as the page writes it ("UTC", "CET").
        self.zone_name = datetime.now(zone).tzname() or str(zone)
        self._frames: tuple = ()  # what the frames were drawn from: a change re-sends them
        self._slot: int | None = None  # the live step or tier point last drawn

    # -- what goes in ---------------------------------------------------------------------------
    def fold_sample(self, sample: dict) -> None:
        """Keep one sample of this host (live only: other ranges read the store)."""
        if self.span.tier is None:
            self.samples.append((sample.get("ts", 0.0), sample))

    def fold_custom(self, reading: dict) -> None:
        """Keep one custom reading ``{"key", "name", "labels", "unit", "value", "ts"}``."""
        key = reading["key"]
        self.custom_specs[key] = custom_spec(reading)
        if self.span.tier is None:
            kept = self.custom.setdefault(key, deque(maxlen=_LIVE_KEPT))
            kept.append((reading["ts"], reading["value"]))

    def fold_containers(self, found: dict | None) -> None:
        """Take a host's latest containers list: which containers the charts draw and, live,
        their figures (they come with the lists read while someone views the host)."""
        self.container_specs = container_specs(found)
        if self.span.tier is not None or not found or not found.get("engine"):
            return
        for row in found["containers"]:
            for key, field in ((f"container_cpu:{row['name']}", "cpu_percent"),
                               (f"container_memory:{row['name']}", "mem_used")):
                if row.get(field) is not None:
                    kept = self.containers.setdefault(key, deque(maxlen=_LIVE_KEPT))
                    if not kept or kept[-1][0] != found["ts"]:
                        kept.append((found["ts"], row[field]))

    def forget_custom(self, keys: Iterable[str]) -> None:
        """Drop the charts of custom series the view no longer keeps."""
        for key in keys:
            self.custom_specs.pop(key, None)
            self.custom.pop(key, None)

    def clear(self) -> None:
        """Forget every sample and custom series; the next :meth:`due` says yes."""
        self.samples.clear()
        self.custom.clear()
        self.custom_specs.clear()
        self.containers.clear()
        self._slot = None

    def load_recent(self, store: Store, now: float) -> None:
        """Live only: take the last minutes from the history's raw tier (every sample, beside
        the log, so a busy log with many hosts does not shorten them), after :meth:`clear`
        and the custom readings of the log were folded. Samples folded later that the read
        already had count twice in their bucket, which changes neither its average, min nor max.
        """
        if self.span.tier is not None:
            return
        start = now - _LIVE_KEPT
        keys = [k for spec in HOST_CHARTS for k, _ in spec.keys]
        rows: dict[float, dict] = {}
        for key, points in store.history_many(self.host, keys, "raw", start, now + 1).items():
            for t, _lo, value, _hi, _n in points:
                rows.setdefault(t, {"ts": t})[key] = value
        self.samples.extend(sorted(rows.items()))
        if self.custom_specs:
            found = store.history_many(self.custom_host,
                                       [f"{history.CUSTOM_PREFIX}{k}" for k in self.custom_specs],
                                       "raw", start, now + 1)
            for key, points in found.items():
                if points:
                    self.custom[key[len(history.CUSTOM_PREFIX):]] = deque(
                        ((t, avg) for t, _lo, avg, _hi, _n in points), maxlen=_LIVE_KEPT)
        keys = [k for spec in self.container_specs for k, _ in spec.keys]
        for key, points in (store.history_many(self.host, keys, "raw", start, now + 1).items()
                            if keys else ()):
            self.containers[key] = deque(((t, avg) for t, _lo, avg, _hi, _n in points),
                                         maxlen=_LIVE_KEPT)

    # -- when it is drawn -----------------------------------------------------------------------
    def due(self, now: float) -> bool:
        """Whether the charts must be drawn again at ``now`` (Unix seconds): a new live step,
        or a new point of the range's tier complete (:data:`TIER_LAG` after its end). The slot
        before the one last drawn is not due: the sweep asks with a grace (``now`` a little in
        the past, ``LiveView.draw_due``) after figures took the charts along; a clock set back
        further is."""
        every = LIVE_STEP if self.span.tier is None else history.TIER_STEPS[self.span.tier]
        slot = math.floor((now - (0 if self.span.tier is None else TIER_LAG)) / every)
        return self._slot is None or not self._slot - 1 <= slot <= self._slot

    def draw(self, store: Store | None, now: float) -> bool:
        """Draw every chart for ``now``; return True if the frames changed too (then the whole
        panel must be sent, else only the plots). ``store`` is read for ranges other than live.
        """
        every = LIVE_STEP if self.span.tier is None else history.TIER_STEPS[self.span.tier]
        lag = 0 if self.span.tier is None else TIER_LAG
        self._slot = math.floor((now - lag) / every)
        step = self.span.step
        if self.span.tier is None:  # the window moves by whole minutes (module docstring)
            end = (math.floor(now / 60) + 1) * 60
        else:
            end = (math.floor(now / step) + 1) * step
        start = end - self.span.seconds
        specs = [*HOST_CHARTS, *self.container_specs,
                 *(self.custom_specs[k] for k in sorted(self.custom_specs))]
        ticks = ta.time_ticks(start, end, self.zone)
        tiers = {} if self.span.tier is None else self._read(store, specs, start, end)
        drawn, frames = [], []
        for spec in specs:
            say = gettext_of(self.language)
            chart = tc.Chart(spec.slug, say(spec.title), [], start, end, step, axis=spec.axis,
                             unit=spec.unit, band=self.span.tier is not None,
                             span_label=say(self.span.words), ticks=ticks,
                             language=self.language)
            if self.span.tier is None:
                frame, plot, scale = self._draw_live(chart, spec, now)
            else:
                frame, plot, scale = self._draw_tier(chart, spec, tiers)
            first = spec.keys[0][0]
            drawn.append(Drawn(spec.slug, spec.title, frame, plot,
                               first if first in history.HISTORY_KEYS
                               or first.startswith(history.CONTAINER_PREFIXES) else None))
            frames.append((spec, scale))
        self.drawn = drawn
        key = (start, tuple(frames))
        changed = key != self._frames
        self._frames = key
        return changed

    # -- drawing --------------------------------------------------------------------------------
    def _series_live(self, spec: Spec, start: float, end: float) -> list[tuple[list, float | None]]:
        """Per series: its 5-second points in the window and its latest value."""
        out = []
        for key, _name in spec.keys:
            if key.startswith(history.CUSTOM_PREFIX):
                readings = list(self.custom.get(key[len(history.CUSTOM_PREFIX):], ()))
            elif key.startswith(history.CONTAINER_PREFIXES):
                readings = list(self.containers.get(key, ()))
            else:
                readings = [(t, s[key]) for t, s in self.samples if s.get(key) is not None]
            points = buckets([(t, v) for t, v in readings if start <= t < end], start,
                              self.span.step)
            out.append((points, readings[-1][1] if readings else None))
        return out

    def _draw_live(self, chart: tc.Chart, spec: Spec, now: float):
        data = self._series_live(spec, chart.start, chart.end)
        chart.series = [tc.Series(chart.say(name) if name else "", points)
                        for (_k, name), (points, _) in zip(spec.keys, data)]
        lo, hi, vstep, divisor = ta.value_axis(_extent(chart), chart.axis)
        minute = math.floor(now / 60) * 60
        # Hover titles per minute: the minutes over in the frame (sent once a minute), the
        # current one in the plot (sent every LIVE_STEP seconds).
        per_minute = {name: buckets_of(points, 60) for name, (points, _) in
                      zip((n for _, n in spec.keys), data)}
        over, current = [], []
        for t0 in range(int(chart.start), int(chart.end), 60):
            values = [per_minute[name].get(t0) for _, name in spec.keys]
            if all(v is None for v in values):
                continue
            title = tc.bucket_title(chart, t0, None if t0 == minute else t0 + 60, self.zone,
                                    values)
            (current if t0 >= minute else over).append((t0, t0 + 60, title))
        latest = self._latest(chart, [v for _, v in data])
        frame = tc.frame(chart, lo, hi, vstep, divisor, over)
        plot = tc.plot(chart, lo, hi, latest, current)
        return frame, plot, (lo, hi, tuple(over))

    def _read(self, store: Store | None, specs: list[Spec], start: float,
              end: float) -> dict[str, list[tc.Point]]:
        """Every chart's points, one read per host (its keys' rows are read once)."""
        found: dict[str, list[tc.Point]] = {}
        for host, custom in ((self.host, False), (self.custom_host, True)):
            keys = [k for spec in specs for k, _ in spec.keys
                    if k.startswith(history.CUSTOM_PREFIX) == custom]
            if not keys or store is None:
                continue
            try:
                found.update(self.fetch(store, host, keys, self.span.tier, start, end,
                                        self.span.step))
            except Exception:  # noqa: BLE001 - a failed read leaves gaps, not a broken page
                log.exception("history of %r could not be read; drawn empty", host)
        return found

    def _draw_tier(self, chart: tc.Chart, spec: Spec, tiers: dict[str, list[tc.Point]]):
        for key, name in spec.keys:
            chart.series.append(tc.Series(chart.say(name) if name else "", tiers.get(key, [])))
        lo, hi, vstep, divisor = ta.value_axis(_extent(chart), chart.axis)
        by_series = [{p[0]: p for p in s.points} for s in chart.series]
        times = sorted({t for points in by_series for t in points})
        hovers = [(t, t + chart.step, tc.bucket_title(chart, t, t + chart.step, self.zone,
                                                        [points.get(t) for points in by_series]))
                  for t in times]
        latest = self._latest(chart, [s.points[-1][2] if s.points else None
                                      for s in chart.series])
        frame = tc.frame(chart, lo, hi, vstep, divisor)
        plot = tc.plot(chart, lo, hi, latest, hovers)
        return frame, plot, (lo, hi)

    @staticmethod
    def _latest(chart: tc.Chart, values: list[float | None]) -> str:
        parts = [f"{s.name} {ta.figure(v, chart.axis, chart.unit)}" if s.name
                 else ta.figure(v, chart.axis, chart.unit)
                 for s, v in zip(chart.series, values) if v is not None]
        return " · ".join(parts)


def _extent(chart: tc.Chart) -> list[float]:
    """Every value the scale must hold: the band's extremes where a band is drawn."""
    index = (1, 3) if chart.band else (2,)
    return [p[i] for s in chart.series for p in s.points for i in index]
