"""The Hub: this process's stream subscribers and the fan-out of encoded messages to them.

It knows nothing of HTML or of the store: it is handed bytes that were encoded once and puts the
very same ``bytes`` object in every subscriber's bounded queue. A subscriber whose queue is full
(a client that stopped reading) is dropped at once, never waited for, so one slow client cannot
delay the others; it reconnects and gets a fresh snapshot.
"""

from __future__ import annotations

from collections.abc import Callable

import gevent.queue

#: Put in a queue to end that stream: the generator sends its farewell message and returns.
CLOSE = object()


class Subscriber:
    """One open stream: a bounded queue of encoded messages and whether it was dropped."""

    __slots__ = ("queue", "dropped")

    def __init__(self, maxsize: int) -> None:
        self.queue: gevent.queue.Queue = gevent.queue.Queue(maxsize)
        self.dropped = False


class Hub:
    """Subscribers of this worker process and the fan-out to them.

    :param queue_size: messages a subscriber may have pending (``DASHBOARD_QUEUE_SIZE``).
    :param on_count: called with the new subscriber count after every change.
    :param on_sent: called once per :meth:`publish` with the number of subscribers it reached
        (``app.ops`` counts SSE messages sent with it: one call per message, not per client).
    :param on_drop: called once per slow consumer dropped.
    """

    def __init__(self, queue_size: int, on_count: Callable[[int], None] | None = None,
                 on_sent: Callable[[int], None] | None = None,
                 on_drop: Callable[[], None] | None = None) -> None:
        self.queue_size = queue_size
        self.on_count = on_count
        self.on_sent = on_sent
        self.on_drop = on_drop
        self.dropped_total = 0  # slow consumers dropped since start (a counter)
        self._subscribers: set[Subscriber] = set()
        self.closing = False

    def __len__(self) -> int:
        return len(self._subscribers)

    def subscribe(self, first: bytes) -> Subscriber:
        """Register a subscriber whose queue already holds ``first`` (the snapshot)."""
        sub = Subscriber(self.queue_size)
        sub.queue.put_nowait(first)
        if self.closing:
            sub.queue.put_nowait(CLOSE)
        self._subscribers.add(sub)
        self._counted()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget ``sub``; safe to call twice (a dropped subscriber is already gone)."""
        if sub in self._subscribers:
            self._subscribers.discard(sub)
            self._counted()

    def publish(self, data: bytes) -> None:
        """Queue ``data`` for every subscriber; drop those whose queue is full."""
        full = []
        for sub in self._subscribers:
            try:
                sub.queue.put_nowait(data)
            except gevent.queue.Full:
                full.append(sub)
        for sub in full:
            self._drop(sub)
        if self.on_sent is not None:
            self.on_sent(len(self._subscribers))

    def _drop(self, sub: Subscriber) -> None:
        # The stream notices the flag after its next queued message and ends; it is no longer
        # counted or fed from now on.
        sub.dropped = True
        self.dropped_total += 1
        self._subscribers.discard(sub)
        self._counted()
        if self.on_drop is not None:
            self.on_drop()

    def close_all(self) -> None:
        """End every stream (worker shutdown); streams opened afterwards end at once."""
        self.closing = True
        for sub in list(self._subscribers):
            try:
                sub.queue.put_nowait(CLOSE)
            except gevent.queue.Full:
                self._drop(sub)

    def _counted(self) -> None:
        if self.on_count is not None:
            self.on_count(len(self._subscribers))
