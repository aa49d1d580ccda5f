"""Charts as inline SVG, rendered on the server: sparklines, a gauge and a donut.

Pure functions from numbers to :class:`markupsafe.Markup`; nothing of Flask or the store. Each
chart is an ``<svg role="img">`` whose ``aria-label`` carries the figures, so a screen reader
hears what a sighted viewer sees. Colours come from CSS (``static/dashboard.css``) through class
names and ``currentColor``, so the dark theme needs no second set of charts.

Every label is escaped here: a chart may be titled by text a program sent (custom metrics).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup

#: Height of a sparkline's viewBox; its width is one unit per sample of a full history.
SPARK_HEIGHT = 40


def _num(value: float) -> str:
    """Format a coordinate with at most one decimal and no trailing zeros: ``12.0 -> '12'``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _plain(value: float) -> str:
    return f"{value:.1f}"


def _path(values: Sequence[float], capacity: int, lo: float, hi: float) -> str:
    """The ``d`` of a polyline whose newest point sits at the right edge (x = capacity - 1).

    x are whole units (one per sample), y has one decimal: a full 300-sample line is ~2.5 kB.
    """
    span = (hi - lo) or 1.0
    offset = capacity - len(values)
    points = []
    for index, value in enumerate(values):
        share = min(max((value - lo) / span, 0.0), 1.0)
        points.append(f"{offset + index} {_num(SPARK_HEIGHT - share * SPARK_HEIGHT)}")
    if len(points) == 1:  # one sample: a short flat stroke, so it is visible at all
        x, y = points[0].split()
        return f"M{int(x) - 1} {y}L{points[0]}"
    return "M" + points[0] + "L" + " ".join(points[1:])


def sparkline(series: Sequence[float] | Mapping[str, Sequence[float]], *, label: str,
              unit: str = "", capacity: int = 300, lo: float | None = 0.0,
              hi: float | None = None, fmt: Callable[[float], str] = _plain) -> Markup:
    """Draw the recent values of one or more series as a line chart.

    :param series: values oldest first, or ``{name: values}`` for several lines on one scale
        (each path gets ``class="s<index>"`` and its name in the label).
    :param label: what is measured, for the ``aria-label`` (escaped).
    :param unit: appended to each figure in the label, e.g. ``"%"``.
    :param capacity: samples a full history holds; the width of the viewBox.
    :param lo, hi: the vertical scale; None takes the minimum / maximum of the data.
    :param fmt: formats a figure for the label (default one decimal).
    :return: ``<svg class="spark" role="img" aria-label="...">``; without any value a
        placeholder with a dashed baseline and the label "no data yet".
    """
    named = dict(series) if isinstance(series, Mapping) else {"": list(series)}
    named = {name: list(values)[-capacity:] for name, values in named.items()}
    width = max(capacity - 1, 1)
    suffix = f" {unit}" if unit else ""
    every = [v for values in named.values() for v in values]
    if not every:
        return Markup(
            '<svg class="spark empty" viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" '
            'aria-label="{label}: no data yet"><path d="M0 {h}H{w}"/></svg>'
        ).format(w=width, h=SPARK_HEIGHT, label=label)
    low = min(every) if lo is None else lo
    high = max(every) if hi is None else hi
    if high <= low:
        high = low + 1.0
    paths, figures = [], []
    for index, (name, values) in enumerate(named.items()):
        if not values:
            continue
        paths.append(f'<path class="s{index}" d="{_path(values, width + 1, low, high)}"/>')
        figures.append(
            f"{name + ' ' if name else ''}now {fmt(values[-1])}{suffix}, "
            f"min {fmt(min(values))}, max {fmt(max(values))}")
    count = max(len(values) for values in named.values())
    aria = f"{label}, last {count} sample{'s' if count != 1 else ''}: " + "; ".join(figures)
    return Markup(
        '<svg class="spark" viewBox="0 0 {w} {h}" preserveAspectRatio="none" role="img" '
        'aria-label="{aria}">{paths}</svg>'
    ).format(w=width, h=SPARK_HEIGHT, aria=aria, paths=Markup("".join(paths)))


def gauge(value: float | None, *, label: str, unit: str = "%", maximum: float = 100.0,
          level: str = "ok") -> Markup:
    """Draw ``value`` out of ``maximum`` as a half-circle arc.

    ``pathLength="100"`` lets the filled share be a plain ``stroke-dasharray`` of the track, so
    no trigonometry and no float noise ends up in the markup.

    :param level: ``ok``, ``warning`` or ``critical``; becomes the class of the filled arc.
    :return: ``<svg class="gauge" role="img" aria-label="CPU 42.0 % of 100 %">``; for None an
        empty track labelled "no data yet".
    """
    track = "M5 50A45 45 0 0 1 95 50"
    suffix = f" {unit}" if unit else ""
    if value is None:
        return Markup(
            '<svg class="gauge" viewBox="0 0 100 55" role="img" aria-label="{label}: no data yet">'
            '<path class="track" d="{d}"/></svg>').format(label=label, d=track)
    share = min(max(value / maximum, 0.0), 1.0) * 100 if maximum > 0 else 0.0
    return Markup(
        '<svg class="gauge" viewBox="0 0 100 55" role="img" aria-label="{aria}">'
        '<path class="track" d="{d}"/>'
        '<path class="fill level-{level}" d="{d}" pathLength="100" stroke-dasharray="{share} 100"/>'
        '</svg>'
    ).format(aria=f"{label} {value:.1f}{suffix} of {maximum:g}{suffix}", d=track,
             level=level, share=_num(share))


def donut(parts: Sequence[tuple[str, int]], *, label: str) -> Markup:
    """Draw counts as the segments of a ring, with the first count in the middle.

    :param parts: ``[(name, count), ...]``; each segment gets ``class="<name>"`` (so names are
        CSS class words like ``firing``) and the label lists every count.
    :return: ``<svg class="donut" role="img" aria-label="Alerts: 2 firing, 5 resolved">``; with
        every count 0 an empty ring.
    """
    total = sum(count for _, count in parts)
    aria = f"{label}: " + ", ".join(f"{count} {name}" for name, count in parts)
    # r = 100 / (2 pi): the circumference is 100, so a dash length is a percentage.
    ring = '<circle class="{cls}" cx="21" cy="21" r="15.9155" pathLength="100"{dash}/>'
    segments = [Markup(ring).format(cls="track", dash="")]
    start = 0.0
    for name, count in parts:
        if not count:
            continue
        share = count / total * 100
        # Segments start at 12 o'clock (offset 25) and go clockwise.
        dash = Markup(' stroke-dasharray="{a} {b}" stroke-dashoffset="{o}"').format(
            a=_num(share), b=_num(100 - share), o=_num((25 - start) % 100))
        segments.append(Markup(ring).format(cls=name, dash=dash))
        start += share
    middle = parts[0][1] if parts else 0
    return Markup(
        '<svg class="donut" viewBox="0 0 42 42" role="img" aria-label="{aria}">{segments}'
        '<text x="21" y="21" text-anchor="middle" dominant-baseline="central">{middle}</text></svg>'
    ).format(aria=aria, segments=Markup("".join(segments)), middle=middle)


#: What templates may call (registered as Jinja globals by ``create_app``).
GLOBALS = {"sparkline": sparkline, "gauge": gauge, "donut": donut}
