"""``GET /stream``: the HTML stream that htmx swaps into the page (one per browser tab).

``?host=NAME`` streams another host's page (``app.live.pages``); without it, this dashboard's own.
``?range=`` names the page's time range (its charts); without it, live.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from app.live.delivery import client_socket, direct_socket, page_messages

from .access import needs
from .auth import stream_owner
from .dashboard import page_of
from .headers import STREAM_HEADERS

bp = Blueprint("stream", __name__)


@bp.get("/stream")
@needs("read")
def stream():
    """A full snapshot of every region, then one unnamed message per change, with ``id:``.

    A ``Last-Event-ID`` changes nothing here: the snapshot already holds the current state.
    The stream ends cleanly after ``DASHBOARD_STREAM_LIFETIME`` seconds or at worker shutdown.

    :raise 400: unknown ``?range=``. :raise 404: ``?host=`` names an unknown host.
    :raise 503: too many pages watched.
    """
    live = current_app.extensions["dashboard"]
    host, range_name = page_of(live).key  # 400 / 404 / 503 now, before the response starts
    lifetime = current_app.config["SETTINGS"].stream_lifetime
    # direct_passthrough: hand our generator of bytes to the server as it is, without
    # Werkzeug's encoding and closing wrappers, which would add two generator hops per message.
    environ = request.environ
    return Response(page_messages(live, lifetime, direct_socket(environ), host,
                                  client_socket(environ), range_name, stream_owner()),
                    mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)
