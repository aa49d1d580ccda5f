"""The compatibility streams' messages as SSE bytes: the shapes of :mod:`.shapes`, encoded with
the one encoder (``app.live.sse``) as compact JSON.

Each function here is handed to a stream that encodes once for all its subscribers: the demo's
:class:`Demo` to the JSON streams' hubs (``app.live.jsonstream``), :func:`progress_message` to
the task watchers (``app.live.tasks``), :func:`session_messages` to the session hubs.
"""

from __future__ import annotations

import json

from app.store import Item

from .. import sse
from .shapes import demo_alert, demo_metrics, progress, session_message


def dumps(value) -> str:
    """Compact JSON, as every stream of the dashboard sends it."""
    return json.dumps(value, separators=(",", ":"))


def unnamed(values) -> bytes:
    """One unnamed SSE message per object of ``values`` (what ``onmessage`` handlers read)."""
    return b"".join(sse.encode(dumps(value)) for value in values)


def progress_message(task: dict, log_id: int) -> bytes:
    """The task-progress service's message of a task update: ``event: progress`` (or
    ``complete`` / ``error``), ``id:`` the log id, data :func:`.shapes.progress`."""
    event, data = progress(task)
    return sse.encode(dumps(data), event=event, id=log_id)


class Demo:
    """The SSE demo's encoding of the JSON streams' items (``/api/events/...``): a sample of
    ``host`` is one unnamed message per figure, an event one ``alert`` message, each with
    ``id:`` the log id; anything else (other hosts' samples, custom metrics) is nothing.

    One object per process: the JSON streams keep one hub per channel set and encoding, and
    encode each item once per encoding.
    """

    def __init__(self, host: str) -> None:
        self.host = host

    def __call__(self, item: Item) -> bytes:
        if item.kind == "metrics" and item.data.get("host") == self.host:
            found = demo_metrics(item.data, item.ts)
        elif item.kind == "event":
            found = [demo_alert(item)]
        else:
            return b""
        return b"".join(sse.encode(dumps(value), id=item.id) for value in found)


def session_messages(item: Item) -> bytes:
    """The agent backend's messages of one item of a session (:func:`.shapes.session_message`),
    unnamed and without ``id:``, as that backend sent them."""
    return unnamed(session_message(item.kind, item.data, item.data["source"], item.ts))
