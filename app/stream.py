"""``GET /stream``: the HTML stream that htmx swaps into the page (one per browser tab)."""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app

from .hub import CLOSE

bp = Blueprint("stream", __name__)

#: DESIGN.md, "The wire". No ``Connection`` header: PEP 3333 forbids hop-by-hop headers.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@bp.get("/stream")
def stream():
    """A full snapshot of every region, then one unnamed message per change, with ``id:``.

    A ``Last-Event-ID`` changes nothing here: the snapshot already holds the current state.
    The stream ends cleanly after ``DASHBOARD_STREAM_LIFETIME`` seconds or at worker shutdown.
    """
    live = current_app.extensions["dashboard"]
    lifetime = current_app.config["SETTINGS"].stream_lifetime
    # direct_passthrough: hand our generator of bytes to the server as it is, without
    # Werkzeug's encoding and closing wrappers, which would add two generator hops per message.
    return Response(_messages(live, lifetime), mimetype="text/event-stream",
                    headers=STREAM_HEADERS, direct_passthrough=True)


def _messages(live, lifetime: float):
    # A plain generator fed what it needs (no stream_with_context): the request context is not
    # kept alive for the stream's whole life.
    hub = live.hub
    sub = hub.subscribe(live.snapshot())
    ends_at = time.monotonic() + lifetime
    try:
        while True:
            data = sub.queue.get()
            if data is CLOSE or sub.dropped:
                break
            yield data
            # Checked after each message or heartbeat: no timer of its own per client.
            if time.monotonic() >= ends_at:
                break
        if not sub.dropped:
            yield live.farewell()
    finally:
        hub.unsubscribe(sub)
