"""The Hub: this process's stream subscribers and the fan-out of encoded messages to them.

It knows nothing of HTML or of the store: it is handed bytes that were encoded once and gives
the very same bytes to every subscriber. Two ways to deliver, chosen per stream:

- **Direct** (gunicorn, plain HTTP/1.1): once the stream's first message went out through WSGI,
  :meth:`Hub.publish` frames each message once as an HTTP chunk and writes it straight to every
  socket with one non-blocking ``os.write``, the way a bare gevent server would. No greenlet is
  woken per client. When a socket does not take the whole frame (its buffer is full), the rest
  goes to that stream's bounded queue and its own greenlet finishes the write cooperatively;
  later messages queue behind it, in order, until the queue is empty again.
- **Queued** (any other WSGI server, the test client): every message goes to the stream's
  bounded queue and the stream's generator yields it.

A subscriber whose queue is full (a client that stopped reading) is dropped at once, never
waited for, so one slow client cannot delay the others; it reconnects and gets a snapshot.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable

from gevent import get_hub
from gevent._waiter import Waiter

#: Put in a queue to end that stream: the generator sends its farewell message and returns.
CLOSE = object()


class Full(Exception):
    """:meth:`Mailbox.put_nowait` on a full mailbox."""


class Mailbox:
    """A bounded first-in, first-out queue read by one greenlet: a stream's pending messages.

    What ``gevent.queue.Queue`` does for one reader, in a fraction of its memory (about 150
    bytes against 3 KB): every open stream has one, and at 10,000 viewers that is 30 MB.

    :param maxsize: items it holds at most (``DASHBOARD_QUEUE_SIZE``).
    """

    __slots__ = ("_items", "_maxsize", "_waiter")

    def __init__(self, maxsize: int) -> None:
        self._items: list = []
        self._maxsize = maxsize
        self._waiter: Waiter | None = None

    def put_nowait(self, item) -> None:
        """Append ``item`` and wake the reader; :raise Full: ``maxsize`` items are waiting."""
        if len(self._items) >= self._maxsize:
            raise Full
        self._items.append(item)
        if self._waiter is not None:
            waiter, self._waiter = self._waiter, None
            # A Waiter is switched to from the event loop only: the reader runs after the
            # writer's turn, as with a gevent queue.
            get_hub().loop.run_callback(waiter.switch, None)

    def get(self):
        """The oldest item, waiting for one (from one greenlet at a time)."""
        while not self._items:
            self._waiter = Waiter()
            try:
                self._waiter.get()
            finally:
                self._waiter = None
        return self._items.pop(0)

    def get_nowait(self):
        """The oldest item; :raise IndexError: there is none."""
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one HTTP/1.1 chunk (RFC 9112, 7.1), as gunicorn would."""
    return b"%X\r\n%b\r\n" % (len(data), data)


class Subscriber:
    """One open stream.

    ``queue`` holds what the stream's greenlet must still send: SSE messages (queued mode) or
    chunk-framed bytes (direct mode, after a partial write). ``sock`` is the client's socket in
    direct mode, else None, and ``fd`` its file descriptor; ``busy`` says the queue must drain
    before the next direct write. ``dropped`` means the stream ends without a farewell (slow or gone client);
    ``ends_at`` is when its lifetime is over (``time.monotonic()``).
    """

    __slots__ = ("queue", "dropped", "sock", "fd", "busy", "ends_at")

    def __init__(self, maxsize: int, ends_at: float) -> None:
        self.queue = Mailbox(maxsize)
        self.dropped = False
        self.sock: socket.socket | None = None
        self.fd: int | None = None
        self.busy = False
        self.ends_at = ends_at


class Hub:
    """Subscribers of this worker process and the fan-out to them.

    :param queue_size: messages a subscriber may have pending (``DASHBOARD_QUEUE_SIZE``).
    :param on_count: called with the new subscriber count after every change.
    :param on_sent: called once per :meth:`publish` with the number of subscribers it reached
        (``app.web.ops`` counts SSE messages sent with it: one call per message, not per client).
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

    def subscribe(self, first: bytes, lifetime: float = float("inf")) -> Subscriber:
        """Register a subscriber whose queue already holds ``first`` (the snapshot).

        :param lifetime: seconds until :meth:`expire` ends the stream.
        """
        sub = Subscriber(self.queue_size, time.monotonic() + lifetime)
        sub.queue.put_nowait(first)
        if self.closing:
            sub.queue.put_nowait(CLOSE)
        self._subscribers.add(sub)
        self._counted()
        return sub

    def go_direct(self, sub: Subscriber, sock: socket.socket) -> None:
        """Deliver to ``sub`` by writing chunks to ``sock`` from now on (module docstring).

        ``sock`` must be a gevent socket: its file descriptor is non-blocking (gevent waits in
        its event loop, never in the kernel), so a write to a full socket returns at once.

        Call it once the stream's first message went out through the server, so the response
        headers and chunked framing are in place. What is already queued is re-framed.
        """
        pending = []
        while not sub.queue.empty():
            item = sub.queue.get_nowait()
            pending.append(item if item is CLOSE else chunk(item))
        for item in pending:
            sub.queue.put_nowait(item)
        sub.sock, sub.fd = sock, sock.fileno()
        sub.busy = bool(pending)

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget ``sub``; safe to call twice (a dropped subscriber is already gone)."""
        if sub in self._subscribers:
            self._subscribers.discard(sub)
            self._counted()

    def publish(self, data: bytes) -> None:
        """Deliver ``data`` to every subscriber; drop those whose queue is full."""
        frame = None
        full, gone = [], []
        for sub in self._subscribers:
            if sub.fd is None:
                item = data
            else:
                if frame is None:
                    frame = chunk(data)
                item = frame
                if not sub.busy:
                    try:
                        written = os.write(sub.fd, frame)
                    except BlockingIOError:
                        written = 0
                    except OSError:  # the peer hung up (EPIPE, ECONNRESET)
                        gone.append(sub)
                        continue
                    if written == len(frame):
                        continue
                    sub.busy = True
                    item = frame[written:]
            try:
                sub.queue.put_nowait(item)
            except Full:
                full.append(sub)
        for sub in gone:
            self._end(sub)
        for sub in full:
            self._drop(sub)
        if self.on_sent is not None:
            self.on_sent(len(self._subscribers))

    def expire(self, now: float) -> None:
        """End the streams whose lifetime is over (called by the tailer, about once a second:
        one sweep instead of a timer per client)."""
        for sub in [s for s in self._subscribers if s.ends_at <= now]:
            self._close(sub)

    def close_all(self) -> None:
        """End every stream (worker shutdown); streams opened afterwards end at once."""
        self.closing = True
        for sub in list(self._subscribers):
            self._close(sub)

    def _close(self, sub: Subscriber) -> None:
        # The stream sends its farewell, then returns; it is no longer fed from now on.
        self._subscribers.discard(sub)
        self._counted()
        try:
            sub.queue.put_nowait(CLOSE)
        except Full:
            self._drop(sub)

    def _end(self, sub: Subscriber) -> None:
        # The client is gone: wake its stream so the server closes the connection.
        sub.dropped = True
        self._subscribers.discard(sub)
        self._counted()
        try:
            sub.queue.put_nowait(CLOSE)
        except Full:
            pass  # the stream's greenlet is in a write that will fail and end it

    def _drop(self, sub: Subscriber) -> None:
        # A slow consumer: its stream ends after the message in hand, with no farewell. In
        # direct mode its greenlet may wait forever in a write to a client that reads nothing,
        # so the connection is shut down under it.
        sub.dropped = True
        if sub.sock is not None:
            try:
                sub.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.dropped_total += 1
        self._subscribers.discard(sub)
        self._counted()
        if self.on_drop is not None:
            self.on_drop()

    def _counted(self) -> None:
        if self.on_count is not None:
            self.on_count(len(self._subscribers))
