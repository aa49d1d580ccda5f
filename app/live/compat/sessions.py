"""The agent backend's session streams (``GET /api/sse/events/<session_id>``): what an agent
posted with that session id as ``source`` (approvals, tasks, events), in that backend's shapes.

A session is not a thing of its own: it is the ``source`` of what the agent posts, so nothing
new is stored. :class:`SessionStreams` keeps one :class:`~app.live.hub.Hub` per session that has
a stream open in this process (made on first use, dropped with its last stream). The tailer
hands it every batch of new items: each item of a watched session is encoded once
(:func:`~.formats.session_messages`) and the session's hub gets one joined write per batch, for
all its streams. A stream opens with the session's current state, read from the tailer's view
(its latest task and its pending approvals), then what the hub gives. Every
``DASHBOARD_HEARTBEAT`` seconds without news, each hub gets the backend's JSON
``heartbeat`` message (encoded once per tick), and streams end after their lifetime as every
stream does.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.domain import approvals as approvals_mod
from app.live.hub import Hub
from app.live.subscriber import Subscriber
from app.store import Item

from .. import sse
from .shapes import SESSION_KINDS, heartbeat, session_message
from .formats import session_messages, unnamed


class SessionStreams:
    """This process's session streams: session id -> the hub of its streams.

    :param view: the tailer's :class:`~app.view.regions.LiveView` (its tasks and pending
        approvals give a new stream its first messages).
    :param make_hub: makes a hub whose counts reach ``/metrics`` (``Live``'s).
    :param heartbeat: seconds without a message after which a hub gets a ``heartbeat``.
    :param retry_ms: the reconnection delay of the first and last messages.
    """

    def __init__(self, view, make_hub: Callable[[], Hub], heartbeat: float,
                 retry_ms: int) -> None:
        self.view = view
        self.make_hub = make_hub
        self.heartbeat = heartbeat
        self.retry_ms = retry_ms
        self._hubs: dict[str, Hub] = {}
        self._written: dict[str, float] = {}  # last write per hub, time.monotonic()
        self._streams: dict[Subscriber, str] = {}

    def __len__(self) -> int:
        return len(self._streams)

    def count(self, session: str) -> int:
        """Open streams of ``session`` in this process."""
        hub = self._hubs.get(session)
        return len(hub) if hub is not None else 0

    def counts(self) -> dict[str, int]:
        """Session id -> its open streams in this process, for sessions that have some."""
        return {session: len(hub) for session, hub in self._hubs.items() if len(hub)}

    def subscribe(self, session: str, lifetime: float) -> tuple[Hub, Subscriber]:
        """Register a stream of ``session`` whose queue holds its first message: ``retry:``
        and the session's current state (:meth:`snapshot`)."""
        hub = self._hubs.get(session)
        if hub is None:
            hub = self._hubs[session] = self.make_hub()
            self._written[session] = time.monotonic()
        sub = hub.subscribe(sse.encode(retry=self.retry_ms) + self.snapshot(session), lifetime)
        self._streams[sub] = session
        return hub, sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Forget a stream, and its session's hub with its last stream; safe to call twice."""
        session = self._streams.pop(sub, None)
        hub = self._hubs.get(session) if session is not None else None
        if hub is None:
            return
        hub.unsubscribe(sub)
        if not len(hub):  # streams the hub dropped itself come back to an empty hub: fine
            del self._hubs[session]
            del self._written[session]

    def snapshot(self, session: str) -> bytes:
        """The session's state now: its latest task (``tool_status``, and ``tool_result`` once
        finished), then its pending approvals oldest first (``permission_request`` each)."""
        view = self.view
        found: list[dict] = []
        task = next((item for item in reversed(view.tasks.values())
                     if item.data.get("source") == session), None)
        if task is not None:
            found += session_message("task", task.data, session, task.ts)
        for approval in sorted((a for a in view.approvals.by_id.values()
                                if a.get("source") == session and
                                a["state"] == approvals_mod.PENDING),
                               key=lambda a: a["created_at"]):
            found += session_message("approval", approval, session, approval["created_at"])
        return unnamed(found)

    def feed(self, items: list[Item]) -> None:
        """Publish new log items to the hubs of their sessions (called by the tailer)."""
        if not self._hubs:
            return
        parts: dict[str, list[bytes]] = {}
        for item in items:
            if item.kind in SESSION_KINDS and item.data.get("source") in self._hubs:
                parts.setdefault(item.data["source"], []).append(session_messages(item))
        now = time.monotonic()
        for session, found in parts.items():
            hub = self._hubs.get(session)
            if hub is not None:
                self._publish(session, hub, b"".join(found), now)

    def tick(self, now: float) -> None:
        """Heartbeat the hubs idle for ``heartbeat`` seconds, one message for all of them
        (the tailer, at each wake-up; ``now``: time.monotonic())."""
        beat = None
        for session, hub in list(self._hubs.items()):
            if now - self._written.get(session, now) >= self.heartbeat:
                if beat is None:
                    beat = unnamed([heartbeat(time.time())])
                self._publish(session, hub, beat, now)

    def sweep(self, now: float) -> None:
        """End the streams whose lifetime is over (the tailer, once a second)."""
        for hub in list(self._hubs.values()):
            hub.expire(now)

    def close_all(self) -> None:
        """End every stream (worker shutdown)."""
        for hub in list(self._hubs.values()):
            hub.close_all()

    def farewell(self) -> bytes:
        """The last message of a stream the server ends: ``retry:``, no data."""
        return sse.encode(retry=self.retry_ms)

    def _publish(self, session: str, hub: Hub, data: bytes, now: float) -> None:
        self._written[session] = now
        hub.publish(data)  # may end streams: unsubscribe may drop this hub meanwhile

