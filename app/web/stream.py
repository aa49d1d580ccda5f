"""``GET /stream``: the HTML stream that htmx swaps into the page (one per browser tab).

``?host=NAME`` streams another host's page (``app.live.pages``); without it, this dashboard's own.
``?range=`` names the page's time range (its charts); without it, live.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from app.live.delivery import client_socket, direct_socket, page_key, page_messages

from .access import needs
from .auth import stream_owner
from .dashboard import page_of
from .errors import error_response
from .headers import STREAM_HEADERS

bp = Blueprint("stream", __name__)


def too_many_streams(live, page):
    """The 429 answer if a stream of ``page`` would be one page more than this client may
    stream in this process (``DASHBOARD_STREAMS_PER_CLIENT``, ``app.live.clients``), else
    None."""
    if not live.client_streams.full(request.remote_addr or "", page_key(page)):
        return None
    response = error_response(429, f"this address streams {live.client_streams.per_client} "
                                   "different pages already (DASHBOARD_STREAMS_PER_CLIENT); "
                                   "close one")
    response.headers["Retry-After"] = "5"
    return response


@bp.get("/stream")
@needs("read")
def stream():
    """A full snapshot of every region, then one unnamed message per change, with ``id:``.

    A ``Last-Event-ID`` changes nothing here: the snapshot already holds the current state.
    The stream ends cleanly after ``DASHBOARD_STREAM_LIFETIME`` seconds or at worker shutdown.

    :raise 400: unknown ``?range=``. :raise 404: ``?host=`` names an unknown host.
    :raise 503: too many pages watched. :raise 429: this client streams
        ``DASHBOARD_STREAMS_PER_CLIENT`` other pages already.
    """
    live = current_app.extensions["dashboard"]
    page = page_of(live)  # 400 / 404 / 503 now, before the response starts
    refused = too_many_streams(live, page)
    if refused is not None:
        return refused
    host, range_name, language = page.key
    lifetime = current_app.config["SETTINGS"].stream_lifetime
    # direct_passthrough: hand our generator of bytes to the server as it is, without
    # Werkzeug's encoding and closing wrappers, which would add two generator hops per message.
    environ = request.environ
    return Response(page_messages(live, lifetime, direct_socket(environ), host,
                                  client_socket(environ), range_name, stream_owner(),
                                  request.remote_addr or "", language),
                    mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)
