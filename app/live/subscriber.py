"""One open stream as the Hub sees it: its :class:`Subscriber` record and the bounded
:class:`Mailbox` of what it must still be sent (``app.live.hub`` fans out to them).
"""

from __future__ import annotations

import socket
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

    def unget(self, item) -> None:
        """Put ``item`` back in front (the rest of a partial write), whatever the size."""
        self._items.insert(0, item)

    def drain(self) -> list:
        """Take every item out, oldest first."""
        items, self._items = self._items, []
        return items

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)


def chunk(data: bytes) -> bytes:
    """Frame ``data`` as one HTTP/1.1 chunk (RFC 9112, 7.1), as gunicorn would."""
    return b"%X\r\n%b\r\n" % (len(data), data)


class Subscriber:
    """One open stream.

    ``queue`` holds what must still be sent: SSE messages for the stream's greenlet (queued
    mode) or chunk-framed bytes after a partial write (direct mode). ``sock`` is the socket a
    queued stream shuts down when dropped (``closer``), or None. In direct mode ``fd`` is the
    connection the Hub owns, ``busy`` says the queue must drain before the next write,
    ``watcher`` waits for the socket to be writable meanwhile, ``ending`` says the connection
    closes once the queue is written, ``farewell()`` gives the last message and ``ended()`` is
    called once it is over (None until the Hub owns the connection). ``dropped`` means the stream ends without a farewell (slow or gone
    client); ``ends_at`` is when its lifetime is over (``time.monotonic()``); ``owner`` is the
    signed-in person's ``(name, session hash)`` whose sign-out ends it, or None.
    """

    __slots__ = ("queue", "dropped", "sock", "fd", "busy", "ends_at", "watcher", "ending",
                 "farewell", "ended", "owner")

    def __init__(self, maxsize: int, ends_at: float, owner: tuple[str, str] | None = None) -> None:
        self.queue = Mailbox(maxsize)
        self.dropped = False
        self.sock: socket.socket | None = None
        self.fd: int | None = None
        self.busy = False
        self.ends_at = ends_at
        self.watcher = None
        self.ending = False
        self.farewell: Callable[[], bytes] | None = None
        self.ended: Callable[[], None] | None = None
        self.owner = owner
