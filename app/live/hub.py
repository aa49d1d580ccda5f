"""The Hub: this process's stream subscribers and the fan-out of encoded messages to them.

It knows nothing of HTML or of the store: it is handed bytes that were encoded once and gives
the very same bytes to every subscriber. Two ways to deliver, chosen per stream:

- **Direct** (gunicorn's worker of ``gunicorn.conf.py``, plain HTTP/1.1): once the stream's
  first message went out through WSGI, the Hub owns the connection (:meth:`Hub.own`) and the
  request's greenlet ends. :meth:`Hub.publish` frames each message once as an HTTP chunk and
  writes it straight to every socket with one non-blocking ``os.write``, the way a bare gevent
  server would: an open stream costs no greenlet, no stack and no request objects. When a
  socket does not take the whole frame (its buffer is full), the rest goes to that stream's
  bounded queue and an event-loop watcher finishes the write when the socket is writable;
  later messages queue behind it, in order, until the queue is empty again. At the stream's
  end the Hub writes the farewell and the last chunk, and closes the connection.
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

from .subscriber import CLOSE, Full, Subscriber, chunk

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

    def subscribe(self, first: bytes, lifetime: float = float("inf"),
                  owner: tuple[str, str] | None = None) -> Subscriber:
        """Register a subscriber whose queue already holds ``first`` (the snapshot).

        :param lifetime: seconds until :meth:`expire` ends the stream.
        :param owner: the signed-in person's ``(name, session hash)``, for :meth:`end_sessions`.
        """
        sub = Subscriber(self.queue_size, time.monotonic() + lifetime, owner)
        sub.queue.put_nowait(first)
        if self.closing:
            sub.queue.put_nowait(CLOSE)
        self._subscribers.add(sub)
        self._counted()
        return sub

    def own(self, sub: Subscriber, fd: int, farewell: Callable[[], bytes],
            ended: Callable[[], None]) -> None:
        """Deliver to ``sub`` by writing chunks to the connection ``fd`` from now on, and own
        that connection: end it with ``farewell()`` and the last chunk (RFC 9112, 7.1) when the
        stream is closed, close it when the client is gone or dropped, then call ``ended()``.

        ``fd`` must be non-blocking (gevent's sockets are: gevent waits in its event loop,
        never in the kernel), so a write to a full socket returns at once. Call it once the
        stream's first message went out through the server, so the response headers and
        chunked framing are in place, and once nothing else writes to or closes ``fd``
        (``socket.detach()``). What is already queued is re-framed and written now.
        """
        sub.fd, sub.farewell, sub.ended = fd, farewell, ended
        items = sub.queue.drain()
        closed = CLOSE in items  # closed meanwhile (lifetime, shutdown): farewell after these
        for item in items:
            if item is not CLOSE:
                sub.queue.put_nowait(chunk(item))
        if sub.dropped:
            self._release(sub)
        elif closed:
            self._finish(sub)
        else:
            self._flush(sub)

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget ``sub``; safe to call twice (a dropped subscriber is already gone)."""
        self._forget(sub)

    def publish(self, data: bytes) -> None:
        """Deliver ``data`` to every subscriber; drop those whose queue is full."""
        frame = None
        full, gone, blocked = [], [], []
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
                    blocked.append(sub)
                    item = frame[written:]
            try:
                sub.queue.put_nowait(item)
            except Full:
                full.append(sub)
        for sub in blocked:
            self._watch(sub)
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

    def end_sessions(self, name: str, kept, last: bytes | None = None) -> None:
        """End the streams of ``name`` whose session hash is not in ``kept`` (the sessions
        the account still has): a person disabled, signed out or given another role. ``last``
        (encoded once) goes to each before its farewell."""
        for sub in [s for s in self._subscribers
                    if s.owner is not None and s.owner[0] == name and s.owner[1] not in kept]:
            if last is not None:
                try:
                    sub.queue.put_nowait(last if sub.fd is None else chunk(last))
                except Full:
                    pass  # it ends without it, and finds out on its reconnect
            self._close(sub)

    def close_all(self) -> None:
        """End every stream (worker shutdown); streams opened afterwards end at once."""
        self.closing = True
        for sub in list(self._subscribers):
            self._close(sub)

    def _close(self, sub: Subscriber) -> None:
        # The stream sends its farewell and ends; it is no longer fed from now on.
        self._forget(sub)
        if sub.fd is not None:
            self._finish(sub)
            return
        try:
            sub.queue.put_nowait(CLOSE)
        except Full:
            self._drop(sub)

    def _end(self, sub: Subscriber) -> None:
        # The client is gone: close the connection, or wake the stream so the server does.
        sub.dropped = True
        self._forget(sub)
        if sub.fd is not None:
            self._release(sub)
            return
        try:
            sub.queue.put_nowait(CLOSE)
        except Full:
            pass  # the stream's greenlet is in a write that will fail and end it

    def _drop(self, sub: Subscriber) -> None:
        # A slow consumer: its stream ends after the message in hand, with no farewell. A
        # queued stream's greenlet may wait forever in the server's write to a client that
        # reads nothing, so its connection is shut down under it.
        sub.dropped = True
        if sub.fd is not None:
            self._release(sub)
        elif sub.sock is not None:
            try:
                sub.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.dropped_total += 1
        self._forget(sub)
        if self.on_drop is not None:
            self.on_drop()

    # Direct mode: the connections the Hub owns (:meth:`own`).

    def _finish(self, sub: Subscriber) -> None:
        # The farewell and the last chunk, after what is queued; then the connection closes.
        try:
            sub.queue.put_nowait(chunk(sub.farewell()) + b"0\r\n\r\n")
        except Full:
            self._drop(sub)
            return
        sub.ending = True
        if not sub.busy:  # else the watcher writes it after the rest
            self._flush(sub)

    def _flush(self, sub: Subscriber) -> None:
        # Write what is queued, in order, until the socket is full (then wait until it is
        # writable again) or the queue is empty. Also the watcher's callback.
        queue = sub.queue
        while not queue.empty():
            frame = queue.get_nowait()
            try:
                written = os.write(sub.fd, frame)
            except BlockingIOError:
                written = 0
            except OSError:
                self._end(sub)
                return
            if written < len(frame):
                queue.unget(frame[written:])
                sub.busy = True
                self._watch(sub)
                return
        sub.busy = False
        if sub.ending:
            self._release(sub)
        elif sub.watcher is not None:
            sub.watcher.close()
            sub.watcher = None

    def _watch(self, sub: Subscriber) -> None:
        if sub.watcher is None:
            sub.watcher = get_hub().loop.io(sub.fd, 2)  # 2: writable (libev's EV_WRITE)
            sub.watcher.start(self._flush, sub)

    def _release(self, sub: Subscriber) -> None:
        # The end of an owned connection: closed once, ``ended()`` called once.
        if sub.watcher is not None:
            sub.watcher.close()
            sub.watcher = None
        fd, sub.fd = sub.fd, None
        if fd is None:
            return
        self._forget(sub)
        try:
            os.close(fd)
        except OSError:
            pass
        sub.ended()

    def _forget(self, sub: Subscriber) -> None:
        if sub in self._subscribers:
            self._subscribers.discard(sub)
            self._counted()

    def _counted(self) -> None:
        if self.on_count is not None:
            self.on_count(len(self._subscribers))
