"""Small charts as inline SVG, rendered on the server: the alerts' donut (the time-series charts
are :mod:`app.view.timechart`).

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


#: What templates may call (registered as Jinja globals by ``create_app``).
GLOBALS = {"donut": donut}
