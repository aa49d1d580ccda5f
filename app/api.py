"""The JSON API under ``/api/v1``: ingest for other programs."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify
from pydantic import BaseModel

from .schemas import EventIn, parse

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def store_event(event: EventIn | dict) -> int:
    """Append one event to the log; return its id. ``ts`` is set here (Unix seconds)."""
    data = event.model_dump() if isinstance(event, BaseModel) else event
    return current_app.extensions["dashboard"].store.append("event", {**data, "ts": time.time()})


@bp.post("/events")
def post_event():
    """Take ``{"level", "message", "source"}``; 201 with ``{"id": N}`` once it is stored."""
    event_id = store_event(parse(EventIn))
    return jsonify({"id": event_id}), 201


# Routes kept in modules of their own, registered on ``bp`` (imported last: they import ``bp``).
from . import alerts_api, metrics_api  # noqa: E402,F401
