"""The value types of the settings (``app.config``): durations such as ``24h``, the trusted
proxies, the default thresholds, and the error a bad value raises."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

#: (warning, critical) thresholds per metric key of a sample; a value at or above a bound takes
#: that level. Load is compared per logical CPU (load1 / cpu count) so one table fits every host.
DEFAULT_THRESHOLDS: dict[str, tuple[float, float]] = {
    "cpu_percent": (70.0, 90.0),
    "mem_percent": (80.0, 95.0),
    "disk_percent": (80.0, 95.0),
    "load_per_cpu": (1.0, 2.0),
    "temperature": (70.0, 85.0),
    "swap_percent": (50.0, 80.0),
}

Seconds = Annotated[float, Field(gt=0)]
#: Seconds per unit of a duration such as ``30d`` (a year is 365 days).
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def parse_duration(value):
    """``"24h"`` -> 86400.0: a number of seconds, or a whole number followed by one of
    :data:`DURATION_UNITS`; values that are not text go to pydantic as they are.

    :raise ValueError: a text that is neither.
    """
    if not isinstance(value, str):
        return value
    if found := re.fullmatch(r"\s*(\d+)\s*([smhdwy])\s*", value):
        return float(found[1]) * DURATION_UNITS[found[2]]
    try:
        return float(value)
    except ValueError:
        raise ValueError("must be seconds or a whole number with a unit s, m, h, d, w or y "
                         "(24h, 30d, 1y)") from None


def Duration(least: float):  # noqa: N802 - reads as a type in the annotations below
    """Seconds, written ``86400`` or ``24h`` / ``30d`` / ``1y`` (:func:`parse_duration`), at
    least ``least``."""
    return Annotated[float, BeforeValidator(parse_duration), Field(ge=least, allow_inf_nan=False)]


def proxies(value):
    """``DASHBOARD_TRUSTED_PROXIES``: a count (``"1"``) or addresses and networks, comma- or
    space-separated, as a tuple of network texts. :raise ValueError: neither."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
        if len(value) == 1 and value[0].isdigit():
            return int(value[0])
        if not value:
            return 0
    if isinstance(value, (list, tuple)):
        import ipaddress

        try:
            return tuple(str(ipaddress.ip_network(v, strict=False)) for v in value)
        except ValueError:
            raise ValueError("must be a number of proxies (0-10) or their addresses and "
                             "networks (127.0.0.1, 10.0.0.0/8)") from None
    if isinstance(value, int) and not 0 <= value <= 10:
        raise ValueError("must be a number of proxies from 0 to 10, or their addresses")
    return value


#: Shortest token accepted: a shorter one could be guessed even at the throttled rate.
MIN_TOKEN_LENGTH = 16


class ConfigError(RuntimeError):
    """A ``DASHBOARD_*`` variable holds a value the dashboard cannot run with."""


def over_defaults(value: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """``DASHBOARD_THRESHOLDS`` merged over :data:`DEFAULT_THRESHOLDS`.

    :raise ValueError: an unknown metric, or a warning bound above its critical one.
    """
    for key, (warning, critical) in value.items():
        if key not in DEFAULT_THRESHOLDS:
            raise ValueError(f"unknown metric {key!r}; known: {', '.join(DEFAULT_THRESHOLDS)}")
        if warning > critical:
            raise ValueError(f"{key}: warning {warning} is above critical {critical}")
    return {**DEFAULT_THRESHOLDS, **value}


def known_zone(value: str) -> str:
    """``DASHBOARD_TIMEZONE``: empty, or an IANA time zone name. :raise ValueError: unknown."""
    if value:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError("unknown time zone; use an IANA name such as UTC or "
                             "Europe/Paris") from None
    return value
