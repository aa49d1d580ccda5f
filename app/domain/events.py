"""Events for the feed: what the API, the simulator and other producers append to the log."""

from __future__ import annotations

import time

from app.store import Store


def record_event(store: Store, event: dict) -> int:
    """Append ``event`` (``{"level", "message", "source"}``, as :class:`~app.domain.schemas.EventIn`
    dumps it) to the log as an ``event`` item; return its log id. ``ts`` is set here (Unix
    seconds at which the dashboard accepted it).

    :raise app.store.StoreUnavailable: nothing was written.
    """
    return store.append("event", {**event, "ts": time.time()})
