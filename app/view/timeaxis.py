"""The axes of the chart panel's charts: value scales with units, local-time ticks, the zone.

Pure functions of numbers and a time zone; :mod:`app.view.timechart` draws with them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo


def _nice(raw: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is >= ``raw`` (> 0)."""
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10 * power


_PREFIXES = ("", "Ki", "Mi", "Gi", "Ti")
#: Axes of binary-prefixed figures, by unit: a rate (bytes per second) or a size (bytes).
_BINARY = {"bytes": "B/s", "size": "B"}


def value_axis(values: Sequence[float], axis: str) -> tuple[float, float, float, int]:
    """The value scale of a chart: ``(lo, hi, step, divisor)``, about 4 grid intervals.

    Percent is always 0-100. Otherwise the scale starts at 0 (or below, for negative custom
    values) and ends at the next nice figure above the maximum; ``divisor`` is the binary
    prefix's (1024**k) for ``bytes`` and ``size`` so every label of one axis has the same
    unit, else 1.
    """
    if axis == "percent":
        return 0.0, 100.0, 25.0, 1
    top = max(values, default=0.0)
    bottom = min(min(values, default=0.0), 0.0)
    if top == bottom == 0:  # nothing, or only zeros: a 0-1 axis rather than none at all
        top = 1.0
    divisor = 1
    if axis in _BINARY:
        while top / divisor >= 1000 and divisor < 1024 ** 4:
            divisor *= 1024
    span = (max(top, 0.0) - bottom) / divisor or 1.0
    step = _nice(span / 4)
    lo = math.floor(bottom / divisor / step) * step
    hi = max(math.ceil(top / divisor / step - 1e-9) * step, lo + step)
    return lo * divisor, hi * divisor, step * divisor, divisor


def axis_label(value: float, axis: str, unit: str, divisor: int = 1) -> str:
    """A value-axis label: ``"50 %"``, ``"1.5 MiB/s"``, ``"2 GiB"``, ``"0.25"``."""
    if axis == "percent":
        return f"{value:g} %"
    if axis in _BINARY:
        prefix = _PREFIXES[round(math.log(divisor, 1024))] if divisor > 1 else ""
        return f"{round(value / divisor, 3):g} {prefix}{_BINARY[axis]}"
    text = f"{round(value, 6):g}"
    return f"{text} {unit}" if unit else text


def figure(value: float, axis: str, unit: str) -> str:
    """A figure for titles and the latest value: ``"42.1 %"``, ``"1.5 MiB/s"``, ``"3.2 GiB"``,
    ``"0.42"``."""
    if axis == "percent":
        return f"{value:.1f} %"
    if axis in _BINARY:
        suffix = _BINARY[axis]
        for prefix in _PREFIXES:
            if abs(value) < 1024 or prefix == "Ti":
                return f"{value:.0f} {suffix}" if not prefix else f"{value:.1f} {prefix}{suffix}"
            value /= 1024
    text = f"{value:.2f}" if abs(value) < 10 else f"{value:.4g}" if abs(value) < 1e4 else f"{value:.3g}"
    return f"{text} {unit}" if unit else text


#: Tick spacings tried in order, seconds; past them, months.
_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800)


def time_ticks(start: float, end: float, zone: tzinfo, most: int = 7) -> list[tuple[float, str]]:
    """Tick times in ``[start, end]`` on round wall-clock times of ``zone``, with labels.

    Spacing: the first of :data:`_STEPS` giving at most ``most`` ticks, counted from local
    midnight (so "06:00", not "05:59" after a DST change); labels ``14:05`` under a day,
    ``Mon 30`` or ``30 Nov`` for days, ``Jan`` for months (a year).
    """
    span = end - start
    step = next((s for s in _STEPS if span / s <= most), None)
    first = datetime.fromtimestamp(start, zone)
    ticks: list[tuple[float, str]] = []
    if step is None:  # months: every ceil(months / most) months, from the 1st
        every = max(1, math.ceil(span / (30.4 * 86400) / most))
        year, month = first.year, first.month
        while True:
            month += 1
            if month > 12:
                year, month = year + 1, 1
            if (month - 1) % every:
                continue
            at = datetime(year, month, 1, tzinfo=zone).timestamp()
            if at > end:
                return ticks
            ticks.append((at, datetime.fromtimestamp(at, zone).strftime("%b")))
    midnight = first.replace(hour=0, minute=0, second=0, microsecond=0)
    if step >= 86400:
        days = step // 86400
        label = "%a %d" if span <= 8 * 86400 else "%d %b"
        day = midnight.replace(tzinfo=None)
        while True:
            at = day.replace(tzinfo=zone).timestamp()
            if at > end:
                return ticks
            if at >= start and day.toordinal() % days == 0:
                ticks.append((at, day.strftime(label)))
            day += timedelta(days=1)
    wall = midnight.replace(tzinfo=None)
    offset = (first.replace(tzinfo=None) - wall).total_seconds()
    k = math.ceil(offset / step)
    while True:
        moment = wall + timedelta(seconds=k * step)
        at = moment.replace(tzinfo=zone).timestamp()
        if at > end:
            return ticks
        # A wall time skipped by a DST change (02:30 in spring) is the instant after it: once.
        if at >= start and (not ticks or at > ticks[-1][0]):
            ticks.append((at, datetime.fromtimestamp(at, zone).strftime("%H:%M")))
        k += 1



def zone_of(name: str) -> tzinfo:
    """The time zone of chart times: the IANA ``name`` (``DASHBOARD_TIMEZONE``), or when empty
    the server's own: ``$TZ``, else the zone ``/etc/localtime`` links to, else its fixed
    offset now. The viewer's zone cannot be known without script, so the page says which.

    :raise zoneinfo.ZoneInfoNotFoundError: unknown name (``app.config`` checks it at start).
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name:
        return ZoneInfo(name)
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(os.path.realpath("/etc/localtime").split("/zoneinfo/", 1)[1])
    except IndexError:
        pass
    for candidate in filter(None, candidates):
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return datetime.now().astimezone().tzinfo
