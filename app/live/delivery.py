"""Delivering a stream's messages to its client: through the server, or written to the client
socket directly by the :class:`~app.live.hub.Hub`, which then owns the connection (``Hub.own``).

Shared by the HTML stream (:func:`page_messages`, served by ``app.web.stream``) and the JSON
stream (:mod:`app.live.jsonstream`).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterator

import gevent.socket

from .clients import ClientStreams
from .hub import Hub
from .subscriber import CLOSE, Subscriber
from .pages import TooManyPages, UnknownHost, UnknownRange


class Detached(BaseException):
    """Raised out of a stream's generator once the Hub owns the connection: the server must
    end the request's greenlet and neither write to nor close the connection (what
    ``gunicorn.conf.py``'s ``StreamWorker`` does). A ``BaseException``, so that no
    ``except Exception`` on its way takes it for an error."""


class Handover:
    """How many connections the hubs of this process may own (direct mode), and own now.

    ``limit`` is 0 unless the server lets a stream leave its greenlet: ``gunicorn.conf.py``'s
    ``StreamWorker`` sets it to its ``worker_connections`` (``GUNICORN_WORKER_CONNECTIONS``).
    A stream past the limit stays in its greenlet, where gunicorn's pool bounds it.
    """

    def __init__(self) -> None:
        self.limit = 0
        self.owned = 0


#: This process's :class:`Handover` (one server, one worker per process).
HANDOVER = Handover()


def direct_socket(environ) -> socket.socket | None:
    """The client socket the Hub may own and write chunks to itself, or None (``app.live.hub``).

    Only a plain HTTP/1.1 GET on gunicorn's gevent worker of ``gunicorn.conf.py`` qualifies
    (:data:`HANDOVER`): gunicorn frames such a response as chunks (no Content-Length) and
    hands us its socket, whose file descriptor gevent keeps non-blocking; TLS, HTTP/2,
    HTTP/1.0, HEAD and other workers do not.
    """
    sock = environ.get("gunicorn.socket")
    if (not HANDOVER.limit or not isinstance(sock, gevent.socket.socket)
            or isinstance(sock, ssl.SSLSocket)
            or environ["REQUEST_METHOD"] != "GET"
            or environ.get("SERVER_PROTOCOL") != "HTTP/1.1"):
        return None
    return sock


def client_socket(environ) -> socket.socket | None:
    """The client's socket on gunicorn whatever the protocol (TLS included), or None: what a
    stream that is not written directly shuts down when it is dropped as a slow consumer."""
    sock = environ.get("gunicorn.socket")
    return sock if isinstance(sock, socket.socket) else None


def deliver(hub: Hub, sub: Subscriber, sock: socket.socket | None,
            farewell: Callable[[], bytes], closer: socket.socket | None = None,
            ended: Callable[[], None] | None = None) -> Iterator[bytes]:
    """Hand the client what ``hub`` gives ``sub`` until the stream is closed, then ``farewell()``.

    Call it once the stream's first message went out through the server (the headers are
    sent), as ``yield from deliver(...)``. With ``sock`` (see :func:`direct_socket`) the Hub
    takes the connection over (``Hub.own``) and this raises :class:`Detached`: the request's
    greenlet ends, and an open stream keeps no greenlet, stack or request objects; the Hub
    calls ``ended()`` once the stream is over. Without ``sock``, or past
    :data:`HANDOVER`'s limit, it returns a generator that yields every message, and
    ``closer`` (:func:`client_socket`) is what the Hub shuts down if the client stops reading:
    the server's write that generator waits in would otherwise wait forever; the caller
    unsubscribes then. A dropped subscriber (slow or gone client) ends with no farewell.

    :raise Detached: the Hub owns the connection now.
    """
    if sub.dropped:  # dropped while the caller sent other things (a replay): nothing to finish
        return iter(())
    if sock is None or HANDOVER.owned >= HANDOVER.limit:
        return _queued(sub, farewell, closer)

    def over() -> None:
        HANDOVER.owned -= 1
        if ended is not None:
            ended()

    HANDOVER.owned += 1
    hub.own(sub, sock.detach(), farewell, over)
    raise Detached


def _queued(sub: Subscriber, farewell: Callable[[], bytes],
            closer: socket.socket | None) -> Iterator[bytes]:
    sub.sock = closer  # shut down on a drop; no fd: the Hub still only queues
    while (data := sub.queue.get()) is not CLOSE and not sub.dropped:
        yield data
    if not sub.dropped:
        yield farewell()


def page_messages(live, lifetime: float, sock: socket.socket | None,
                  host: str | None = None, closer: socket.socket | None = None,
                  range_name: str | None = None, owner: tuple[str, str] | None = None,
                  client: str | None = None, language: str | None = None) -> Iterator[bytes]:
    """Yield one HTML stream (``GET /stream``) of ``host``'s page (None: the dashboard's own)
    over ``range_name`` (None: live) in ``language`` (None: the default page's):
    the snapshot, then what the page's hub gives, until the stream ends (:func:`deliver`).

    :param live: the process's :class:`~app.live.engine.Live`.
    :param lifetime: seconds until the server ends the stream (``DASHBOARD_STREAM_LIFETIME``).
    :param sock: the client socket for direct writes (:func:`direct_socket`), or None.
    :param closer: the client socket to shut down if it stops reading (:func:`deliver`).
    :param owner: the signed-in person's ``(name, session hash)``: their sign-out ends it.
    :param client: the client's address, counted in ``live.client_streams`` while it is open.

    A plain generator fed what it needs (no ``stream_with_context``): the request context is
    not kept alive for the stream's whole life. An unknown host or range, or a page past the
    limit, gives an empty stream: the browser reconnects and gets the answer then.
    """
    return _messages(lambda: live.page(host, range_name, language), lifetime, sock, closer, owner,
                     None if client is None else (live.client_streams, client))


def overview_messages(live, lifetime: float, sock: socket.socket | None, sort: str, q: str,
                      closer: socket.socket | None = None,
                      owner: tuple[str, str] | None = None,
                      client: str | None = None, language: str | None = None) -> Iterator[bytes]:
    """Yield one HTML stream of the fleet page of ``(sort, q)`` in ``language`` (a code; None:
    the default) (``GET /fleet/stream``, checked
    by :func:`app.view.overview.check_query`), as :func:`page_messages` does for a host's page."""
    return _messages(lambda: live.overviews.get(sort, q, language), lifetime, sock, closer, owner,
                     None if client is None else (live.client_streams, client))


def audit_messages(live, lifetime: float, sock: socket.socket | None,
                   closer: socket.socket | None = None,
                   owner: tuple[str, str] | None = None,
                   language: str | None = None) -> Iterator[bytes]:
    """Yield one HTML stream of the audit page's newest entries in ``language`` (a code; None:
    the default) (``GET /audit/stream``, for admins), as :func:`page_messages` does for a
    host's page; ``owner``'s sign-out, disabling or new role ends it."""
    return _messages(lambda: live.audit.get(language), lifetime, sock, closer, owner)


def page_key(page) -> tuple[str, tuple[str, str]]:
    """What tells ``page`` (a host's :class:`~app.live.pages.Page` or a fleet
    :class:`~app.live.overview.Overview`) from every other, for ``app.live.clients``."""
    return type(page).__name__, page.key


def _messages(lookup, lifetime: float, sock: socket.socket | None,
              closer: socket.socket | None, owner: tuple[str, str] | None = None,
              client: tuple[ClientStreams, str] | None = None) -> Iterator[bytes]:
    """The snapshot of the page ``lookup()`` gives (a :class:`~app.live.pages.Page`, an
    :class:`~app.live.overview.Overview` or the :class:`~app.live.audit.AuditFeed`), then what
    its hub gives. One generator per stream:
    every open stream keeps its frames. ``client``: the process's
    :class:`~app.live.clients.ClientStreams` and the client's address, counted while it is open."""
    try:
        # Looked up here, at the first iteration, and subscribed to before any greenlet
        # switch: an unwatched page may be dropped (app.live.pages) between the route's
        # look-up and now.
        page = lookup()
    except (UnknownHost, UnknownRange, TooManyPages):
        return
    # Taken here, not in the route: a generator that never runs never gives it back.
    if client is not None and not client[0].take(client[1], page_key(page)):
        return  # the client opened others meanwhile: it reconnects and gets the 429 then
    release = ((lambda: client[0].give_back(client[1], page_key(page)))
               if client is not None else None)
    hub = page.hub
    sub = hub.subscribe(page.snapshot(), lifetime, owner)
    try:
        first = sub.queue.get()
        if first is CLOSE:
            yield page.farewell()
            return
        yield first  # through the server, which sends the headers with it
        yield from deliver(hub, sub, sock, page.farewell, closer, ended=release)
    finally:
        if sub.ended is None:  # not owned by the Hub, which forgets it when it ends
            hub.unsubscribe(sub)
            if release is not None:
                release()
