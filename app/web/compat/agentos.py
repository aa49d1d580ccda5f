"""The agent OS dashboard's API: ``GET /api/metrics/stream`` (SSE, an unnamed message once a
second), ``GET /api/metrics`` (the same object once) and ``GET /api/events`` (the latest 10
events, newest first). The figures are :func:`app.live.compat.shapes.agentos_metrics`."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from app.live.compat import metrics_stream
from app.live.compat.shapes import AGENTOS_EVENTS, agentos_event
from app.live.delivery import client_socket, direct_socket

from ..access import needs
from ..headers import STREAM_HEADERS

bp = Blueprint("agentos", __name__)


def _live():
    return current_app.extensions["dashboard"]


@bp.get("/api/metrics/stream")
@needs("read")
def stream():
    """``data: {"counters": {...}, "gauges": {...}}`` at once, then once a second."""
    live, environ = _live(), request.environ
    body = metrics_stream(live.compat, live.settings.stream_lifetime, direct_socket(environ),
                          client_socket(environ))
    return Response(body, mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)


@bp.get("/api/metrics")
@needs("read")
def snapshot():
    """``{"counters": {...}, "gauges": {...}}``: what the stream sends, now."""
    return jsonify(_live().compat.metrics.figures())


@bp.get("/api/events")
@needs("read")
def events():
    """The latest 10 events, newest first: ``[{"id", "level", "message", "source",
    "timestamp"}]``, ``level`` info, warning or error."""
    return jsonify([agentos_event(item) for item in _live().store.recent("event", AGENTOS_EVENTS)])
