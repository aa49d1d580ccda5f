"""The SSE demo's streams: ``GET /api/events/metrics``, ``/api/events/alerts`` and
``/api/events/all`` (the first release's paths).

The dashboard's JSON streams (``app.live.jsonstream``: replay after ``Last-Event-ID``, or
``?last_event_id=``, as on ``/api/v1/stream``) with the demo's encoding
(:class:`app.live.compat.formats.Demo`): unnamed messages ``{"type": "metric", "name", "value",
"timestamp"}``, one per figure of each of this host's samples, and ``{"type": "alert", "level",
"message", "timestamp", "source"}`` per event of the feed (alert transitions and approval
decisions are in the feed too). ``/api/v1/stream`` keeps the dashboard's own shapes.
"""

from __future__ import annotations

from flask import Blueprint, current_app

from ..access import needs
from ..api.stream import open_stream
from ..payload import parse_query

bp = Blueprint("demo", __name__)

#: The demo's path -> the channels of the JSON stream it reads (its ``alert`` is an event).
CHANNELS = {"metrics": frozenset({"metrics"}), "alerts": frozenset({"events"}),
            "all": frozenset({"metrics", "events"})}


@bp.get("/api/events/<any(metrics, alerts, all):name>")
@needs("read")
def stream(name: str):
    """The demo's ``metric`` and ``alert`` messages of ``name``'s channels (module docstring)."""
    # The query's schema loads on the first request: a worker at rest never imports pydantic
    # (docs/performance.md).
    from ..api.stream_schemas import ResumeQuery

    query = parse_query(ResumeQuery)
    return open_stream(CHANNELS[name], query.last_event_id,
                       current_app.extensions["dashboard"].compat.demo)
