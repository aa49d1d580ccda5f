"""The audit page's live feed: one :class:`AuditFeed` per process (an
:class:`~app.view.audit.AuditRows` and a Hub), like a fleet page's
:class:`~app.live.overview.Overview`.

Render once: every ``audit`` item the tailer (``app.live.tailer``) hands over is folded into the
newest entries, and while someone streams ``/audit`` the region is rendered and encoded once and
the same bytes go to every admin watching. Only the unfiltered first page is live; a filtered
or older page is a plain read (``app.web.audit``).
"""

from __future__ import annotations

from collections.abc import Callable

from app.view.audit import AuditRows

from . import sse
from .hub import Hub
from .pages import RECONNECT_MS


class AuditFeed:
    """The newest audit entries, the hub of the streams that show them and their snapshot.

    :param store: read once, on the first :meth:`current` (and again after :meth:`reset`).
    :param last_id: the log id the process has folded up to (the tailer's): the messages' ``id:``.
    """

    def __init__(self, rows: AuditRows, hub: Hub, store, last_id: Callable[[], int]) -> None:
        self.rows = rows
        self.hub = hub
        self.store = store
        self._last_id = last_id
        self._snapshot: bytes | None = None

    def current(self) -> AuditRows:
        """The rows, read from the store first if they were not yet. :raise StoreUnavailable:"""
        if not self.rows.loaded:
            self.rows.load(self.store)
            self._snapshot = None
        return self.rows

    def message(self) -> str:
        """The region as the stream sends it: an out-of-band swap of ``#audit-rows``."""
        return self.current().html

    def snapshot(self) -> bytes:
        """The region as one SSE message, encoded once per change."""
        if self._snapshot is None:
            self._snapshot = sse.encode(self.message(), id=self._last_id(), retry=RECONNECT_MS)
        return self._snapshot

    def farewell(self) -> bytes:
        """The last message of a stream that the server ends: reconnect after ``retry`` ms."""
        return sse.encode("", id=self._last_id(), retry=RECONNECT_MS)

    def feed(self, items) -> bool:
        """Fold new log items; when the rows changed and someone watches, send them to every
        stream (once). True if it sent."""
        if not self.rows.apply(items):
            return False
        self._snapshot = None
        if not (self.rows.loaded and len(self.hub)):
            return False
        self.hub.publish(sse.encode(self.rows.html, id=self._last_id()))
        return True

    def reset(self) -> None:
        """Start over (the store's log went back): read again on the next look, and end every
        stream, each of which reconnects to a fresh snapshot."""
        self.rows.unload()
        self._snapshot = None
        self.hub.expire(float("inf"))

