"""The audit page's live feed: one :class:`AuditFeed` (an :class:`~app.view.audit.AuditRows`
and a Hub) per language the page is read in, in :class:`AuditFeeds`, like a fleet page's
:class:`~app.live.overview.Overview`.

Render once per language: every ``audit`` item the tailer (``app.live.tailer``) hands over is
folded into each feed's newest entries, and while someone streams ``/audit`` in a language the
region is rendered and encoded once in it and the same bytes go to every admin watching in that
language. A language's feed is made when its first reader comes; while nobody streams it, it
renders nothing (its region is rendered when read). Only the unfiltered first page is live; a
filtered or older page is a plain read (``app.web.audit``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

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


class AuditFeeds:
    """This process's audit feeds by language code, each made on first use.

    :param make: makes the feed of a language code (``make(code)``).
    :param default: the code a request without one reads (``DASHBOARD_LANGUAGE``).
    """

    def __init__(self, make: Callable[[str], AuditFeed], default: str) -> None:
        self._make = make
        self.default = default
        self._feeds: dict[str, AuditFeed] = {}

    def __iter__(self) -> Iterator[AuditFeed]:
        return iter(list(self._feeds.values()))  # a copy: a feed may be added meanwhile

    def get(self, language: str | None = None) -> AuditFeed:
        """The feed in ``language`` (a code; None: the default), made now if needed (it reads
        the store on its first :meth:`AuditFeed.current`)."""
        code = language or self.default
        feed = self._feeds.get(code)
        if feed is None:
            feed = self._feeds[code] = self._make(code)
        return feed

    def hubs(self) -> list[Hub]:
        """Every feed's hub."""
        return [feed.hub for feed in self._feeds.values()]

    def watching(self) -> int:
        """Open audit streams of this process, over every language."""
        return sum(len(feed.hub) for feed in self._feeds.values())

    def feed(self, items) -> list[AuditFeed]:
        """Fold new log items into every feed (:meth:`AuditFeed.feed`); the feeds that sent."""
        return [feed for feed in list(self._feeds.values()) if feed.feed(items)]

    def reset(self) -> None:
        """Start every feed over (:meth:`AuditFeed.reset`)."""
        for feed in list(self._feeds.values()):
            feed.reset()
