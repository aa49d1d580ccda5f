"""The per-task JSON event stream, ``GET /api/v1/tasks/<id>/stream``.

It does not poll the store: the tailer (``app.live.tailer``) hands every ``task`` item it folds
to :class:`TaskWatchers` (keyed :class:`~app.live.watchers.Watchers`), which puts it in the
queue of each stream watching that task. A stream reads the store once, when it opens, for the
current state.
"""

from __future__ import annotations

import json
import time

import gevent.queue

from app.domain.payloads import FINAL_STATES
from app.domain.tasks import state_key
from app.store import Store

from . import sse
from .watchers import CLOSE, Watchers

#: The fields of a stream message's JSON, in this order.
STREAM_FIELDS = ("task_id", "state", "progress", "estimated_seconds", "updated_at")


class TaskWatchers(Watchers):
    """This process's task streams: task_id -> the queues of the streams that watch it.

    :param queue_size: updates a stream may have pending (see :class:`~app.live.watchers.Watchers`).
    """

    def __init__(self, queue_size: int) -> None:
        super().__init__("task", "task_id", queue_size)


def message(task: dict, log_id: int) -> bytes:
    """One stream message for ``task``: ``event: progress``, or ``complete`` / ``error`` for a
    task that succeeded / failed, with the JSON of :data:`STREAM_FIELDS` and ``id: log_id``."""
    event = {"succeeded": "complete", "failed": "error"}.get(task["state"], "progress")
    data = json.dumps({key: task.get(key) for key in STREAM_FIELDS}, separators=(",", ":"))
    return sse.encode(data, event=event, id=log_id)


def stream(watchers: TaskWatchers, store: Store, view, task_id: str, heartbeat: float,
           lifetime: float = float("inf"), closer=None, encode=message):
    """Yield the SSE bytes of one task stream (the route checked that the task exists).

    :param view: the :class:`~app.view.regions.LiveView` the tailer keeps, for the first message's id.
    :param heartbeat: seconds without an update after which a ``: ping`` comment is sent.
    :param lifetime: seconds after which the stream ends (``DASHBOARD_STREAM_LIFETIME``, as
        ``/stream``); the client reconnects and starts from the current state.
    :param closer: the client socket, shut down if the client stops reading (``Watchers``).
    :param encode: ``encode(task, log_id)`` -> one message: :func:`message`, or another
        client's shape of it (``app.live.compat.formats.progress_message``); each update is
        encoded once for every stream of that task that encodes it alike.

    The stream registers with ``watchers`` first and reads the task's state after, so no
    update falls between the two; registering here rather than in the view means a response
    that is never iterated leaves nothing behind. The first message carries that state with
    the id of its log item if the tailer folded it already, else the newest id the tailer has
    seen (a client's ``Last-Event-ID`` is then never ahead of the log). The final update
    (succeeded / failed) is sent as ``complete`` / ``error`` and ends the stream. An item the
    first message already covered (the tailer may fold the very update that was read) or an
    older one is skipped.
    """
    queue = watchers.watch(task_id, closer, encode)
    ends_at = time.monotonic() + lifetime
    try:
        task = store.get_state(state_key(task_id))
        if task is None:  # removed since the route looked: nothing to stream
            return
        known = view.tasks.get(task_id)
        yield encode(task, known.id if known is not None and known.data == task else view.last_id)
        last = task
        while last["state"] not in FINAL_STATES:
            remaining = ends_at - time.monotonic()
            if remaining <= 0:
                return
            try:
                item = queue.get(timeout=min(heartbeat, remaining))
            except gevent.queue.Empty:
                if time.monotonic() < ends_at:
                    yield sse.HEARTBEAT
                continue
            if item is CLOSE:
                return
            item, data = item
            if item.data == last or item.data["updated_at"] < last["updated_at"]:
                continue
            last = item.data
            yield data
    finally:
        watchers.unwatch(task_id, queue)
