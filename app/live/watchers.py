"""Keyed watchers: the streams of this process that follow one thing each (a task, an
approval), fed by the tailer.

A stream registers a queue under a key (``task_id``, an approval's ``id``); the tailer hands
every log item of the watched kind to the queues registered under the value of that item's key
field. Nothing here polls the store or knows what the streams send.
"""

from __future__ import annotations

from collections import defaultdict

import gevent.queue

from app.store import Item

#: Put in a watcher's queue to end its stream (worker shutdown, or a client too slow to read).
CLOSE = object()


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

    def __len__(self) -> int:
        return sum(len(queues) for queues in self._watchers.values())

    def watch(self, key: str) -> gevent.queue.Queue:
        """Register a stream for ``key``; it gets every later item of that key."""
        queue = gevent.queue.Queue(self.queue_size)
        self._watchers[key].add(queue)
        return queue

    def unwatch(self, key: str, queue: gevent.queue.Queue) -> None:
        """Forget a stream; safe to call twice."""
        queues = self._watchers.get(key)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._watchers[key]

    def feed(self, items: list[Item]) -> None:
        """Hand new log items to the streams that watch them (called by the tailer only)."""
        if not self._watchers:
            return
        for item in items:
            if item.kind != self.kind:
                continue
            key = item.data[self.key_field]
            for queue in list(self._watchers.get(key, ())):
                try:
                    queue.put_nowait(item)
                except gevent.queue.Full:
                    self._end(key, queue)

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
