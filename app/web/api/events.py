"""``/api/v1/events``: add an event to the feed, list the latest ones."""

from __future__ import annotations

from flask import current_app, jsonify

from app.domain.events import record_event
from app.domain.i18n import public

from ..payload import parse, parse_query
from ..access import needs

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


def _store():
    return current_app.extensions["dashboard"].store


@needs("ingest")
def post_event():
    """Take ``{"level", "message", "source"}``; 201 with ``{"id": N}`` once it is stored."""
    from app.domain.schemas import EventIn

    event_id = record_event(_store(), parse(EventIn).model_dump())
    return jsonify({"id": event_id}), 201


@needs("read")
def get_events():
    """Up to ``limit`` (1-500, default 100) events, newest first, each ``{"id", "level",
    "message", "source", "ts"}``; ``level`` keeps one level, ``since`` (a log id) only later
    events. 400 naming the parameter for a bad value."""
    from app.domain.schemas import EventQuery

    query = parse_query(EventQuery)
    where = {"level": query.level} if query.level else None
    items = _store().find("event", after_id=query.since, limit=query.limit, where=where)
    return jsonify([{"id": item.id, **public(item.data)} for item in items])
