"""How the region templates write figures: levels, bytes, durations, times; the Jinja filters
and globals that the app installs (``create_app``)."""

from __future__ import annotations

from datetime import datetime, timezone

from app.domain.levels import level_of

from . import charts

__all__ = ["level_of", "human_bytes", "human_duration", "clock", "isotime", "stamp"]


def human_bytes(value: float | None, suffix: str = "B") -> str:
    """Format bytes with IEC units: ``1536 -> '1.5 KiB'``."""
    if value is None:
        return "–"
    for unit in ("", "Ki", "Mi", "Gi", "Ti"):
        if abs(value) < 1024 or unit == "Ti":
            return f"{value:.0f} {unit}{suffix}" if not unit else f"{value:.1f} {unit}{suffix}"
        value /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float | None) -> str:
    """Format a duration in seconds to minutes' precision: ``93784 -> '1 d 2 h 3 min'``."""
    if seconds is None:
        return "–"
    minutes = int(seconds) // 60
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} d"] if days else []
    if days or hours:
        parts.append(f"{hours} h")
    parts.append(f"{minutes} min")
    return " ".join(parts)


def clock(ts: float) -> str:
    """Format Unix seconds as the UTC time of day, ``'14:03:07'``."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M:%S")


def isotime(ts: float) -> str:
    """Format Unix seconds as ISO 8601 in UTC, for ``<time datetime>``."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def stamp(ts: float) -> str:
    """Format Unix seconds as a UTC date and time of day, ``'2025-03-01 14:03:07'``."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


FILTERS = {"bytes": human_bytes, "duration": human_duration, "clock": clock, "isotime": isotime,
           "stamp": stamp}

#: Functions the region templates call: the small chart builders.
GLOBALS = dict(charts.GLOBALS)
