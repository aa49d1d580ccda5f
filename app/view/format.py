"""What the templates use in every language: levels, the ``isotime`` filter (``<time
datetime>``, a machine format) and the small chart builders. Words, figures and times of a
language are its own filters (``app.view.language``); the app installs both (``create_app``)."""

from __future__ import annotations

from datetime import datetime, timezone

from app.domain.levels import level_of

from . import charts

__all__ = ["level_of", "isotime"]


def isotime(ts: float) -> str:
    """Format Unix seconds as ISO 8601 in UTC, for ``<time datetime>``."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


FILTERS = {"isotime": isotime}

#: Functions the region templates call: the small chart builders.
GLOBALS = dict(charts.GLOBALS)
