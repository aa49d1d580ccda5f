"""The compatibility layer's engine: the streams that clients of the four systems this dashboard
grew from read, mapped onto what the dashboard already keeps (the manual,
docs/compat.md; the routes are ``app.web.compat``).

- the agent OS dashboard: ``/api/metrics/stream`` (:mod:`.agentos`);
- the task-progress service: ``/api/v1/sse/tasks/<id>/progress``, the task streams
  (``app.live.tasks``) with :func:`~.formats.progress_message` as their encoding;
- the SSE demo: ``/api/events/{metrics,alerts,all}``, the JSON streams
  (``app.live.jsonstream``) with :class:`~.formats.Demo` as their encoding;
- the agent backend: ``/api/sse/events/<session>`` (:mod:`.sessions`).

No second store and no second fan-out: the tailer feeds these as it feeds every stream, every
message is encoded once for all the streams that send it, and a hub writes the same bytes to
each (``app.live.hub``). Their shapes are :mod:`.shapes`. Nothing here imports Flask.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from app.live.delivery import deliver
from app.live.hub import Hub
from app.live.subscriber import CLOSE, Subscriber
from app.store import Item

from .agentos import MetricsFeed
from .formats import Demo
from .sessions import SessionStreams


class Compat:
    """This process's compatibility streams, fed by the tailer.

    :param view: the tailer's :class:`~app.view.regions.LiveView`.
    :param make_hub: ``Live``'s hub factory (counted in ``/metrics``, closed at shutdown).
    :param host: this dashboard's host (the demo shows its samples).
    :param heartbeat: seconds without news after which a session stream gets a ``heartbeat``.
    :param retry_ms: the reconnection delay the streams' first and last messages carry.
    """

    def __init__(self, view, make_hub: Callable[[], Hub], *, host: str, heartbeat: float,
                 retry_ms: int) -> None:
        self.metrics = MetricsFeed(view, make_hub, retry_ms)
        self.sessions = SessionStreams(view, make_hub, heartbeat, retry_ms)
        #: The demo's encoding of the JSON streams' items: one object, so one hub per channel set.
        self.demo = Demo(host)

    def __len__(self) -> int:
        return len(self.metrics) + len(self.sessions)

    def feed(self, items: list[Item]) -> None:
        """New log items (the tailer, after folding them into the view)."""
        self.sessions.feed(items)

    def tick(self, now: float) -> None:
        """Each wake-up of the tailer (``now``: time.monotonic()): heartbeats."""
        self.sessions.tick(now)

    def sweep(self, now: float) -> None:
        """The tailer's once-a-second sweep: the agent OS figures, streams' lifetimes."""
        self.metrics.sweep(now)
        self.sessions.sweep(now)

    def close_all(self) -> None:
        """End every stream (worker shutdown)."""
        self.metrics.hub.close_all()
        self.sessions.close_all()


def follow(hub: Hub, sub: Subscriber, sock, farewell: Callable[[], bytes], closer,
           unsubscribe: Callable[[], None]) -> Iterator[bytes]:
    """Yield a subscribed stream: its first message, then what ``hub`` gives it until it ends
    (``app.live.delivery.deliver``: the hub may take the connection over); ``unsubscribe()``
    runs once it is over, whoever ends it."""
    try:
        first = sub.queue.get()  # Hub.subscribe queued it before any CLOSE
        if first is CLOSE:
            yield farewell()
            return
        yield first  # through the server, which sends the headers with it
        yield from deliver(hub, sub, sock, farewell, closer, unsubscribe)
    finally:
        if sub.ended is None:  # not owned by the Hub, which calls unsubscribe when it ends
            unsubscribe()


def metrics_stream(compat: Compat, lifetime: float, sock, closer=None) -> Iterator[bytes]:
    """One ``/api/metrics/stream``: the latest figures, then the hub's, once a second."""
    feed = compat.metrics
    sub = feed.hub.subscribe(feed.first(), lifetime)
    yield from follow(feed.hub, sub, sock, feed.farewell, closer,
                      lambda: feed.hub.unsubscribe(sub))


def session_stream(compat: Compat, session: str, lifetime: float, sock,
                     closer=None) -> Iterator[bytes]:
    """One ``/api/sse/events/<session>``: the session's state, then its news."""
    streams = compat.sessions
    hub, sub = streams.subscribe(session, lifetime)
    yield from follow(hub, sub, sock, streams.farewell, closer, lambda: streams.unsubscribe(sub))
