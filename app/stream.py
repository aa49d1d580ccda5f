"""``GET /stream``: the HTML stream that htmx swaps into the page (one per browser tab).

``?host=NAME`` streams another host's page (``app.pages``); without it, this dashboard's own.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator

import gevent.socket
from flask import Blueprint, Response, current_app, request

from .dashboard import page_of
from .hub import CLOSE, Hub, Subscriber, chunk
from .pages import TooManyPages, UnknownHost

bp = Blueprint("stream", __name__)

#: DESIGN.md, "The wire". No ``Connection`` header: PEP 3333 forbids hop-by-hop headers.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@bp.get("/stream")
def stream():
    """A full snapshot of every region, then one unnamed message per change, with ``id:``.

    A ``Last-Event-ID`` changes nothing here: the snapshot already holds the current state.
    The stream ends cleanly after ``DASHBOARD_STREAM_LIFETIME`` seconds or at worker shutdown.

    :raise 404: ``?host=`` names an unknown host. :raise 503: too many hosts watched.
    """
    live = current_app.extensions["dashboard"]
    host = page_of(live).host  # 404 / 503 now, before the response starts
    lifetime = current_app.config["SETTINGS"].stream_lifetime
    # direct_passthrough: hand our generator of bytes to the server as it is, without
    # Werkzeug's encoding and closing wrappers, which would add two generator hops per message.
    return Response(_messages(live, lifetime, direct_socket(request.environ), host),
                    mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)


def direct_socket(environ) -> socket.socket | None:
    """The client socket the Hub may write chunks to itself, or None (see ``app.hub``).

    Only a plain HTTP/1.1 GET on gunicorn's gevent worker qualifies: gunicorn frames such a
    response as chunks (no Content-Length) and hands us its socket, whose file descriptor
    gevent keeps non-blocking; TLS, HTTP/2, HTTP/1.0, HEAD and other workers do not.
    """
    sock = environ.get("gunicorn.socket")
    if (not isinstance(sock, gevent.socket.socket) or isinstance(sock, ssl.SSLSocket)
            or environ["REQUEST_METHOD"] != "GET"
            or environ.get("SERVER_PROTOCOL") != "HTTP/1.1"):
        return None
    return sock


def _messages(live, lifetime: float, sock: socket.socket | None, host: str | None = None):
    # A plain generator fed what it needs (no stream_with_context): the request context is not
    # kept alive for the stream's whole life.
    try:
        # Looked up again here, and subscribed to before any greenlet switch: an unwatched page
        # may be dropped (app.pages) between the route's look-up and the first iteration.
        page = live.page(host)
    except (UnknownHost, TooManyPages):
        return  # an empty stream: the browser reconnects, and gets the answer then
    hub = page.hub
    sub = hub.subscribe(page.snapshot(), lifetime)
    try:
        first = sub.queue.get()
        if first is CLOSE:
            yield page.farewell()
            return
        yield first  # through the server, which sends the headers with it
        yield from deliver(hub, sub, sock, page.farewell)
    finally:
        hub.unsubscribe(sub)


def deliver(hub: Hub, sub: Subscriber, sock: socket.socket | None,
            farewell: Callable[[], bytes]) -> Iterator[bytes]:
    """Hand the client what ``hub`` gives ``sub`` until the stream is closed, then ``farewell()``.

    Call it once the stream's first message went out through the server (the headers are
    sent). With ``sock`` (see :func:`direct_socket`) the Hub writes to it directly from now on
    and this only finishes writes the Hub could not; without, every message is yielded. A
    dropped subscriber (slow or gone client) ends with no farewell. The caller unsubscribes.
    """
    if sub.dropped:  # dropped while the caller sent other things (a replay): nothing to finish
        return
    if sock is not None:
        hub.go_direct(sub, sock)
        try:
            while (frame := sub.queue.get()) is not CLOSE:
                sock.sendall(frame)  # only what a direct write could not finish
                if sub.queue.empty():
                    sub.busy = False
            if not sub.dropped:
                sock.sendall(chunk(farewell()))
        except OSError:
            pass  # the client left, or was dropped as a slow consumer
        return
    while (data := sub.queue.get()) is not CLOSE and not sub.dropped:
        yield data
    if not sub.dropped:
        yield farewell()
