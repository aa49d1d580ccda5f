"""Keyed watchers: the streams of this process that follow one thing each (a task, an
approval), fed by the tailer.

A stream registers a queue under a key (``task_id``, an approval's ``id``) with the function
that encodes an item as its stream sends it; the tailer hands every log item of the watched kind
to the queues registered under the value of that item's key field, as ``(item, bytes)``. Each
item is encoded once per encoding for all the streams that watch it, as on every stream.
Nothing here polls the store or knows what the streams send.
"""

from __future__ import annotations

import socket
from collections import defaultdict
from collections.abc import Callable

import gevent.queue

from app.store import Item

#: Put in a watcher's queue to end its stream (worker shutdown, or a client too slow to read).
CLOSE = object()
#: What a stream sends for an item: ``encode(item.data, item.id)`` -> SSE bytes, or None.
Encode = Callable[[dict, int], "bytes | None"]


class Watchers:
    """This process's streams of one ``kind``: key -> the queues of the streams that watch it.

    :param kind: the log item kind they follow (``task``, ``approval``).
    :param key_field: the field of an item's data that names what it is about (``task_id``, ``id``).
    :param queue_size: items a stream may have pending; a stream that falls further behind is
        ended (its client reconnects and starts from the current state).
    """

    def __init__(self, kind: str, key_field: str, queue_size: int) -> None:
        self.kind = kind
        self.key_field = key_field
        self.queue_size = queue_size
        self._watchers: dict[str, set[gevent.queue.Queue]] = defaultdict(set)
        self._closers: dict[gevent.queue.Queue, socket.socket] = {}
        self._encoders: dict[gevent.queue.Queue, Encode | None] = {}

    def __len__(self) -> int:
        return sum(len(queues) for queues in self._watchers.values())

    def watch(self, key: str, closer: socket.socket | None = None,
              encode: Encode | None = None) -> gevent.queue.Queue:
        """Register a stream for ``key``; it gets ``(item, encode(item.data, item.id))`` for
        every later item of that key (``(item, None)`` without ``encode``).

        :param closer: the client socket (``app.live.delivery.client_socket``): shut down if
            the stream falls behind, since its greenlet then waits in a write to a client that
            reads nothing and would never see the end.
        :param encode: a module-level function (streams that pass the same one share each
            item's bytes).
        """
        queue = gevent.queue.Queue(self.queue_size)
        self._watchers[key].add(queue)
        if closer is not None:
            self._closers[queue] = closer
        self._encoders[queue] = encode
        return queue

    def unwatch(self, key: str, queue: gevent.queue.Queue) -> None:
        """Forget a stream; safe to call twice."""
        queues = self._watchers.get(key)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._watchers[key]
        self._closers.pop(queue, None)
        self._encoders.pop(queue, None)

    def feed(self, items: list[Item]) -> None:
        """Hand new log items to the streams that watch them (called by the tailer only)."""
        if not self._watchers:
            return
        for item in items:
            if item.kind != self.kind:
                continue
            key = item.data[self.key_field]
            encoded: dict[Encode | None, bytes | None] = {None: None}
            for queue in list(self._watchers.get(key, ())):
                encode = self._encoders.get(queue)
                if encode not in encoded:
                    encoded[encode] = encode(item.data, item.id)
                try:
                    queue.put_nowait((item, encoded[encode]))
                except gevent.queue.Full:
                    closer = self._closers.get(queue)
                    self._end(key, queue)
                    if closer is not None:
                        try:
                            closer.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass

    def close_all(self) -> None:
        """End every stream (worker shutdown)."""
        for key, queues in list(self._watchers.items()):
            for queue in list(queues):
                self._end(key, queue)

    def _end(self, key: str, queue: gevent.queue.Queue) -> None:
        # Drop what is pending so CLOSE fits: a stream that is ended has no use for it.
        self.unwatch(key, queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(CLOSE)
