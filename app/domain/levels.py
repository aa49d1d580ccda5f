"""Levels of a figure against its thresholds: ``ok``, ``warning`` or ``critical``.

The one rule every part of the page uses (metric cards, inside-the-host panels, the fleet row
and page), so a figure reads the same everywhere. Bounds come from ``DASHBOARD_THRESHOLDS``.
"""

from __future__ import annotations

#: Worst first: the index of a level is its rank (0 needs attention most).
SEVERITY = ("critical", "warning", "ok")


def level_of(value: float | None, bounds: tuple[float, float]) -> str:
    """Map a value to ``ok``, ``warning`` or ``critical`` by its (warning, critical) bounds;
    None (no reading) is ``ok``."""
    if value is None:
        return "ok"
    warning, critical = bounds
    return "critical" if value >= critical else "warning" if value >= warning else "ok"


def sample_value(sample: dict, key: str) -> float | None:
    """The figure ``key`` of a host sample that thresholds compare, or None where it has none
    (or holds no number). ``load_per_cpu`` is ``load1 / cpu_count``: one bound fits every host."""
    if key == "load_per_cpu":
        load = sample.get("load1")
        cpus = sample.get("cpu_count")
        if not _number(load):
            return None
        return float(load) / max(cpus if _number(cpus) else 1, 1)
    value = sample.get(key)
    return float(value) if _number(value) else None


def sample_level(sample: dict, thresholds: dict[str, tuple[float, float]]) -> str:
    """The worst level of a sample's figures over every key of ``thresholds``."""
    levels = {level_of(sample_value(sample, key), bounds) for key, bounds in thresholds.items()}
    return next((level for level in SEVERITY if level in levels), "ok")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
