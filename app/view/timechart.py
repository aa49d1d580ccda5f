"""Time-series charts of the chart panel: axes, grid, local-time ticks, min-max band, hover titles.

A chart is two ``<svg>`` roots of the same viewBox laid one over the other by the CSS: the
**frame** (grid, axes, tick labels, legend) and the **plot** (band, lines, latest value, the
chart's ``aria-label``). Each is a whole ``<svg>`` inside an HTML element, so an htmx swap of
either parses it as SVG (an SVG child swapped on its own would land in the HTML namespace and
not render). On the live range the plot changes every few seconds and the frame once a minute,
so a viewer is not sent the whole chart each time (``app.view.panel``).

Hovering shows a bucket's time and figures through an SVG ``<title>`` on a transparent ``rect``
spanning the bucket (no script). Coordinates are whole viewBox units (the viewBox is about as
wide as the chart is on screen), lines are one ``path`` per series with gaps as new subpaths,
the band one path; colours come from ``static/dashboard.css`` classes, so the dark theme works.
Every text is escaped here: custom metric names and units come from programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from babel.dates import format_datetime
from markupsafe import Markup, escape

from .language import Language, N_, gettext_of
from .timeaxis import axis_label, figure

#: The viewBox: width, height, and the plot area's margins (value labels left, times below,
#: legend and latest value above).
W, H = 600, 190
LEFT, RIGHT, TOP, BOTTOM = 58, 8, 22, 22
PW, PH = W - LEFT - RIGHT, H - TOP - BOTTOM

#: A point: (Unix seconds at the bucket's start, min, avg, max), as ``app.domain.history``
#: gives them (its ``count`` is not drawn).
Point = tuple[float, float, float, float]


@dataclass
class Series:
    """One line: its legend name (may be empty for a single series) and its points, oldest first."""

    name: str
    points: Sequence[Point]


@dataclass
class Chart:
    """What one chart shows.

    :param slug: the chart's id part (``chart-<slug>``); CSS-safe.
    :param title: what is measured ("CPU"); escaped where written.
    :param series: one or more :class:`Series` on one value axis.
    :param start, end: the time window, Unix seconds.
    :param step: seconds a point covers (the bucket width); points further apart are a gap.
    :param axis: ``"percent"`` (0-100 %), ``"bytes"`` (binary prefixes, unit ``B/s``),
        ``"size"`` (binary prefixes, unit ``B``) or ``"plain"`` (decimal, ``unit`` appended).
    :param unit: the unit written after plain figures (custom metrics: the program's).
    :param band: draw the min-max band (rolled-up ranges).
    :param span_label: the range in words for the ``aria-label`` ("last 5 minutes").
    :param language: the language of its words (None: the source's); ``title``,
        ``span_label`` and the series' names come translated already.
    """

    slug: str
    title: str
    series: list[Series]
    start: float
    end: float
    step: float
    axis: str = "plain"
    unit: str = ""
    band: bool = False
    span_label: str = ""
    ticks: list[tuple[float, str]] = field(default_factory=list)
    language: Language | None = None

    def say(self, message: str, **values) -> str:
        """``message`` in the chart's language, with its ``%(name)s`` placeholders filled."""
        return gettext_of(self.language)(message, **values)

    def day_time(self, moment: datetime) -> str:
        """A day and time of day in the chart's language: ``'Wed 02 Dec 14:05'``."""
        if self.language is None:
            return moment.strftime("%a %d %b %H:%M")
        return format_datetime(moment, "EEE dd MMM HH:mm", locale=self.language.locale)


# -- drawing ------------------------------------------------------------------------------------

class _Map:
    """Unix seconds and values to whole viewBox units."""

    def __init__(self, chart: Chart, lo: float, hi: float) -> None:
        self.t0, self.scale_t = chart.start, PW / max(chart.end - chart.start, 1e-9)
        self.lo, self.scale_v = lo, PH / ((hi - lo) or 1.0)

    def x(self, t: float) -> int:
        return round(LEFT + min(max((t - self.t0) * self.scale_t, 0), PW))

    def y(self, v: float) -> int:
        return round(TOP + PH - min(max((v - self.lo) * self.scale_v, 0), PH))


def _runs(points: Sequence[Point], step: float) -> list[list[Point]]:
    """Split points into runs without gaps: a gap is more than 1.5 steps between two points."""
    runs: list[list[Point]] = []
    last = None
    for point in points:
        if last is None or point[0] - last > 1.5 * step:
            runs.append([])
        runs[-1].append(point)
        last = point[0]
    return runs


def _line(xy: list[tuple[int, int]]) -> str:
    """One subpath through ``xy``: absolute start, then relative moves (shorter)."""
    (x, y), rest = xy[0], xy[1:]
    if not rest:  # a lone point: a short flat stroke, so it shows at all
        return f"M{x - 2} {y}h4"
    parts = [f"M{x} {y}l"]
    for nx, ny in rest:
        dy = ny - y
        parts.append(f"{nx - x}{'' if dy < 0 else ' '}{dy} ")
        x, y = nx, ny
    return "".join(parts).rstrip()


def _mid(chart: Chart, t: float) -> float:
    """A point is drawn at its bucket's middle."""
    return t + chart.step / 2


def frame(chart: Chart, lo: float, hi: float, vstep: float, divisor: int,
          hovers: Sequence[tuple[float, float, str]] = (), legend: bool = True) -> Markup:
    """The chart's frame: grid, axes, value labels with units, time tick labels, legend.

    :param lo, hi, vstep, divisor: the value scale (:func:`value_axis`).
    :param hovers: ``(t0, t1, text)`` buckets whose ``<title>`` shows on hover here.
    :param legend: draw the legend (series keys and names) along the top when there are
        several series; False where the page lists them itself (``app.view.compare``).
    :return: ``<svg class="frame" aria-hidden="true">``: the plot above it carries the label.
    """
    m = _Map(chart, lo, hi)
    grid, labels = [], []
    count = round((hi - lo) / vstep)
    for i in range(count + 1):
        value = lo + i * vstep
        y = m.y(value)
        if 0 < i < count:
            grid.append(f"M{LEFT} {y}h{PW}")
        labels.append(Markup('<text class="v" x="{x}" y="{y}">{t}</text>').format(
            x=LEFT - 4, y=y + 4, t=axis_label(value, chart.axis, chart.unit, divisor)))
    for t, text in chart.ticks:
        x = m.x(t)
        if LEFT < x < W - RIGHT:
            grid.append(f"M{x} {TOP}v{PH}")
        labels.append(Markup('<text class="t" x="{x}" y="{y}">{t}</text>').format(
            x=x, y=H - 6, t=text))
    keys = []
    if legend and len(chart.series) > 1:
        x = LEFT
        for index, series in enumerate(chart.series):
            keys.append(Markup('<path class="key s{i}" d="M{x} 11h14"/><text class="k" x="{tx}" '
                                 'y="15">{name}</text>').format(i=index, x=x, tx=x + 18,
                                                                name=series.name))
            x += 28 + 7 * len(series.name)
    return Markup(
        '<svg class="frame" viewBox="0 0 {w} {h}" aria-hidden="true">'
        '<path class="grid" d="{grid}"/><path class="axis" d="M{l} {t}v{ph}h{pw}"/>'
        '{labels}{legend}{hovers}</svg>'
    ).format(w=W, h=H, grid="".join(grid), l=LEFT, t=TOP, ph=PH, pw=PW,
             labels=Markup("").join(labels), legend=Markup("").join(keys),
             hovers=_hovers(m, hovers))


def _hovers(m: _Map, hovers: Sequence[tuple[float, float, str]]) -> Markup:
    # Plain f-strings with escape(): Markup.format costs most of a 30-day panel's time here.
    # y and height come from the CSS (SVG 2 geometry properties): the same for every rect.
    rects = []
    for t0, t1, text in hovers:
        x0, x1 = m.x(t0), m.x(t1)
        if x1 > x0:
            rects.append(f'<rect x="{x0}" width="{x1 - x0}"><title>{escape(text)}</title></rect>')
    return Markup("".join(rects))


def plot(chart: Chart, lo: float, hi: float, latest: str,
         hovers: Sequence[tuple[float, float, str]] = ()) -> Markup:
    """The chart's data: the min-max band (if ``chart.band``), one line per series, the latest
    value written top right, and the ``aria-label`` that says what is drawn.

    :param latest: the latest value(s) in words ("42.1 %"), also in the label.
    :return: ``<svg class="plot" role="img" aria-label="CPU, last 24 hours: latest 42.1 %,
        min 3.0 %, max 97.2 %">``; a series without points adds "no data" to the label.
    """
    m = _Map(chart, lo, hi)
    shapes, said = [], []
    for index, series in enumerate(chart.series):
        runs = _runs(series.points, chart.step)
        if chart.band:
            band = []
            for run in runs:
                top = [(m.x(_mid(chart, p[0])), m.y(p[3])) for p in run]
                bottom = [(m.x(_mid(chart, p[0])), m.y(p[1])) for p in reversed(run)]
                if len(run) == 1:  # a bucket alone: a thin bar from its min to its max
                    (x, ytop), (_, ybottom) = top[0], bottom[0]
                    band.append(f"M{x - 1} {ytop}h2V{ybottom}h-2Z")
                else:
                    band.append(_line(top + bottom) + "Z")
            if band:
                shapes.append(f'<path class="band s{index}" d="{"".join(band)}"/>')
        line = "".join(_line([(m.x(_mid(chart, p[0])), m.y(p[2])) for p in run]) for run in runs)
        if line:
            shapes.append(f'<path class="line s{index}" d="{line}"/>')
        name = f"{series.name} " if series.name else ""
        if series.points:
            low = min(p[1] for p in series.points)
            high = max(p[3] for p in series.points)
            said.append(name + chart.say(N_("min %(low)s, max %(high)s"),
                                         low=figure(low, chart.axis, chart.unit),
                                         high=figure(high, chart.axis, chart.unit)))
        else:
            said.append(name + chart.say(N_("no data")))
    aria = chart.say(N_("%(title)s, %(span)s: latest %(latest)s; "), title=chart.title,
                     span=chart.span_label, latest=latest or chart.say(N_("none"))) + "; ".join(said)
    return Markup(
        '<svg class="plot" viewBox="0 0 {w} {h}" role="img" aria-label="{aria}">{shapes}'
        '<text class="now" x="{x}" y="15">{latest}</text>{hovers}</svg>'
    ).format(w=W, h=H, aria=aria, shapes=Markup("".join(shapes)), x=W - RIGHT, latest=latest,
             hovers=_hovers(m, hovers))


def bucket_title(chart: Chart, t0: float, t1: float | None, zone: tzinfo,
                 values: Sequence[Point | None], spread: bool = True) -> str:
    """A hover title: the bucket's local time span, then each series' avg (min, max):
    ``"Wed 02 Dec 14:05–14:06: 42.1 % (min 40.0 %, max 45.3 %)"``.

    ``t1`` None: the bucket is still filling ("14:05–now"). ``values`` has one point (or None:
    no data) per series of ``chart``. ``spread`` False: the averages only (ten hosts' min and
    max would make a title too long to read).
    """
    a = datetime.fromtimestamp(t0, zone)
    if t1 is None:
        until = chart.say(N_("now"))
    else:
        b = datetime.fromtimestamp(t1, zone)
        until = (b.strftime("%H:%M") if a.date() == b.date() or b == b.replace(
            hour=0, minute=0) and t1 - t0 <= 86400 else chart.day_time(b))
    # The date only where the window spans more than one (a 5-minute chart says "14:05–now").
    short = chart.end - chart.start <= 6 * 3600
    when = f"{a.strftime('%H:%M') if short else chart.day_time(a)}–{until}"

    def fmt(value: float) -> str:
        return figure(value, chart.axis, chart.unit)

    parts = []
    for series, point in zip(chart.series, values):
        name = f"{series.name} " if series.name else ""
        if point is None:
            parts.append(name + chart.say(N_("no data")))
        elif point[1] == point[3] or not spread:
            parts.append(f"{name}{fmt(point[2])}")
        else:
            parts.append(name + chart.say(N_("%(avg)s (min %(low)s, max %(high)s)"),
                                          avg=fmt(point[2]), low=fmt(point[1]),
                                          high=fmt(point[3])))
    return f"{when}: " + "; ".join(parts)
