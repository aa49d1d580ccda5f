"""The value types of the settings (``app.config``): durations such as ``24h``, the trusted
proxies, secrets, the default thresholds, and the error a bad value raises.

Nothing here imports pydantic at import time: a worker reads settings that a process apart
validated (``app.config.load_settings_apart``), and never loads pydantic while at rest. The
annotations of :class:`app.config.Settings` name :func:`annotation_names`' objects, which
pydantic resolves only when it builds the validator.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated

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


def Duration(least: float):  # noqa: N802 - reads as a type in the annotations of Settings
    """Seconds, written ``86400`` or ``24h`` / ``30d`` / ``1y`` (:func:`parse_duration`), at
    least ``least``; called only when pydantic resolves the annotations."""
    from pydantic import BeforeValidator, Field

    return Annotated[float, BeforeValidator(parse_duration), Field(ge=least, allow_inf_nan=False)]


def known_zone(value: str) -> str:
    if value:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError("unknown time zone; use an IANA name such as UTC or "
                             "Europe/Paris") from None
    return value


def annotation_names() -> dict:
    """The pydantic objects the annotations of :class:`app.config.Settings` name, by name:
    ``Field``, the validators, ``Seconds`` (a number of seconds above 0) and ``Zone`` (an IANA
    time zone name such as ``Europe/Paris``, or empty for the server's own). Imports pydantic."""
    from pydantic import AfterValidator, BeforeValidator, Field

    return {"Field": Field, "AfterValidator": AfterValidator, "BeforeValidator": BeforeValidator,
            "Seconds": Annotated[float, Field(gt=0)],
            "Zone": Annotated[str, AfterValidator(known_zone)]}


class Secret:
    """A secret setting (a token, a key, URLs that hold credentials): :meth:`get_secret_value`
    gives the text; ``str`` and ``repr`` hide it, so that it never reaches a log or a page by
    accident. It does what pydantic's ``SecretStr`` did, without importing pydantic."""

    __slots__ = ("_value",)

    def __init__(self, value: str = ""):
        self._value = value

    def get_secret_value(self) -> str:
        """The secret text itself."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({str(self)!r})"

    def __str__(self) -> str:
        return "**********" if self._value else ""

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self._value.encode(),
                                                                 other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def __get_pydantic_core_schema__(cls, source, handler):
        """Validated as text, then wrapped (pydantic calls this when it builds a validator)."""
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(cls, core_schema.str_schema())


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


def known_scheme(value: str) -> str:
    """``DASHBOARD_STORE_URL``: empty, ``sqlite:///...`` or a Redis URL that parses.

    :raise ValueError: none of those (``app.store.redis_connect.check_url``)."""
    if value and not value.startswith("sqlite:///"):
        from app.store.redis_connect import check_url

        check_url(value)  # parses only: nothing connects before the first use
    return value


def url_path(value: str) -> str:
    """A mount point such as ``/agent_backend``, or empty. :raise ValueError: not one."""
    if value and not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", value):
        raise ValueError("must be empty or a path such as /agent_backend: segments of "
                         "A-Z a-z 0-9 . _ ~ -, each after a /, none at the end")
    return value


def absolute_url(value: str) -> str:
    """An ``http(s)://`` address without its trailing ``/``, or empty.

    :raise ValueError: another scheme or none."""
    if value and not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// address")
    return value.rstrip("/")


def long_enough(value: Secret) -> Secret:
    """A token of :data:`MIN_TOKEN_LENGTH` characters or more, or none.

    :raise ValueError: a shorter one."""
    if 0 < len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
        raise ValueError(f"must be at least {MIN_TOKEN_LENGTH} characters (make one with: "
                         "python3 -c 'import secrets; print(secrets.token_urlsafe(24))')")
    return value
