"""Small charts as inline SVG, rendered on the server: the alerts' donut and the fleet row's
trend lines (the time-series charts with axes are :mod:`app.view.timechart`).

Pure functions from numbers to :class:`markupsafe.Markup`; nothing of Flask or the store. Each
chart is an ``<svg role="img">`` whose ``aria-label`` carries the figures, so a screen reader
hears what a sighted viewer sees. Colours come from CSS (``static/dashboard.css``) through class
names and ``currentColor``, so the dark theme needs no second set of charts.

Every label is escaped here: a chart may be titled by text a program sent (custom metrics).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup


def _num(value: float) -> str:
    """Format a coordinate with at most one decimal and no trailing zeros: ``12.0 -> '12'``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


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


def trend(points: Sequence[tuple[float, float]], start: float, end: float, step: float, *,
          label: str) -> Markup:
    """Draw a percentage over time as a line without axes, 60 x 16 units (a few hundred bytes).

    :param points: ``[(t, percent), ...]``, oldest first, ``t`` in Unix seconds within
        ``[start, end]``; two points more than ``1.5 * step`` seconds apart leave a gap (no
        data is no data, never a line across it). Values are clamped to 0-100.
    :param label: what a screen reader hears before the range of values, e.g. ``"CPU, last
        15 minutes"``; escaped here.
    :return: ``<svg class="trend" role="img" aria-label="...: 3-41 %">``; with no point, an
        empty one labelled "no data".
    """
    if not points:
        return Markup('<svg class="trend" viewBox="0 0 60 16" preserveAspectRatio="none" '
                      'role="img" aria-label="{label}: no data"></svg>').format(label=label)
    span = max(end - start, 1e-9)
    path, previous = [], None
    for t, value in points:
        x = (t - start) / span * 60
        y = 16 - min(max(value, 0.0), 100.0) * 0.16
        move = previous is None or t - previous > 1.5 * step
        path.append(f"{'M' if move else 'L'}{_num(x)} {_num(y)}")
        previous = t
    if len(points) == 1 or all(p[0] == "M" for p in path):  # lone points: a dot each
        path = [f"{p}h.5" for p in path]
    low, high = min(v for _, v in points), max(v for _, v in points)
    # Stretched to the card's width ("none"); the stroke keeps its width (CSS).
    return Markup('<svg class="trend" viewBox="0 0 60 16" preserveAspectRatio="none" role="img" '
                  'aria-label="{label}: {low}–{high} %"><path d="{d}"/></svg>').format(
        label=label, low=f"{low:.0f}", high=f"{high:.0f}", d="".join(path))


#: What templates may call (registered as Jinja globals by ``create_app``).
GLOBALS = {"donut": donut}
