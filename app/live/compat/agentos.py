"""The agent OS dashboard's figures (``GET /api/metrics`` and ``/api/metrics/stream``): this
host's CPU and memory and the task totals, as ``{"counters": {...}, "gauges": {...}}``
(:func:`.shapes.agentos_metrics`), read from the tailer's view.

:class:`MetricsFeed` has one :class:`~app.live.hub.Hub` for every stream of the process. Once a
second while it has streams, the tailer's tick builds the object once, encodes it once as an
unnamed message and hands the same bytes to the hub, which writes them to every stream (the
tailer's once-a-second sweep, not a timer of its own: the tailer wakes for it on time). A new
stream's first message is the latest of those (or one made then, before the first sweep).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.live.hub import Hub
from app.view.folds import task_summary

from .. import sse
from .shapes import agentos_metrics
from .formats import dumps

#: Seconds for which the streams' latest message is a new stream's first (the tailer sends
#: one a second).
STEP = 1.0


class MetricsFeed:
    """This process's ``/api/metrics/stream`` streams.

    :param view: the tailer's :class:`~app.view.regions.LiveView` (its sample and tasks).
    :param make_hub: makes a hub whose counts reach ``/metrics`` (``Live``'s).
    :param retry_ms: the reconnection delay of the last message.
    """

    def __init__(self, view, make_hub: Callable[[], Hub], retry_ms: int) -> None:
        self.view = view
        self.hub = make_hub()
        self.retry_ms = retry_ms
        self.encodes = 0  # messages encoded since start: the bench reads it
        self._latest: tuple[float, bytes] | None = None  # (time.monotonic(), message)

    def __len__(self) -> int:
        return len(self.hub)

    def figures(self) -> dict:
        """The object the page reads: :func:`.shapes.agentos_metrics` of the view now."""
        return agentos_metrics(self.view.sample, task_summary(self.view.tasks))

    def first(self) -> bytes:
        """A new stream's first message: the one the streams got last, if it is under
        :data:`STEP` old, else the figures now."""
        now = time.monotonic()
        if self._latest is None or now - self._latest[0] >= STEP:
            self._latest = (now, self._message())
        return self._latest[1]

    def sweep(self, now: float) -> None:
        """Send the figures to every stream, and end those whose lifetime is over (the
        tailer, once a second; ``now``: time.monotonic())."""
        if not len(self.hub):
            return
        self._latest = (now, self._message())
        self.hub.publish(self._latest[1])
        self.hub.expire(now)

    def farewell(self) -> bytes:
        """The last message of a stream the server ends: ``retry:``, no data."""
        return sse.encode(retry=self.retry_ms)

    def _message(self) -> bytes:
        self.encodes += 1
        return sse.encode(dumps(self.figures()))
