"""The fleet pages this process shows: one :class:`Overview` (a
:class:`~app.view.overview.FleetTable` and a Hub) per (sort, filter) pair.

Render once per pair: while someone streams a fleet page, the tailer (``app.live.tailer``)
draws its table every :data:`~app.view.overview.TABLE_STEP` seconds and publishes what changed
once to the page's hub. A page nobody streams is drawn when it is read (page load, poll, a
stream's snapshot), at most once per step.

The unfiltered page of each sort is always there to be had: there are only as many as sorts,
and none of them takes one of the :data:`~app.live.pages.MAX_PAGES` slots that filtered pages
(``?q=``) share. Beyond those, the least recently used filtered page that no stream watches is
dropped, and a new one when all are watched answers 503.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from app.view.overview import FleetTable

from . import sse
from .hub import Hub
from .pages import MAX_PAGES, RECONNECT_MS, TooManyPages


class Overview:
    """One fleet page: its table, the hub of its streams and its snapshot message.

    :param last_id: returns the log id the process's fleet is folded up to (the tailer's).
    """

    def __init__(self, table: FleetTable, hub: Hub, last_id: Callable[[], int]) -> None:
        self.table = table
        self.hub = hub
        self._last_id = last_id
        self._snapshot: bytes | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.table.key

    def current(self) -> FleetTable:
        """The table, drawn now if nobody streams it and its step passed (a read)."""
        if not len(self.hub) and self.table.due(time.monotonic()):
            if self.table.draw(self._last_id(), time.monotonic(), send=False):
                self._snapshot = None
        return self.table

    def snapshot(self) -> bytes:
        """Both regions and the LIVE badge as one SSE message, encoded once per change."""
        table = self.current()
        if self._snapshot is None:
            self._snapshot = sse.encode(table.fragments("live"), id=table.last_id,
                                        retry=RECONNECT_MS)
        return self._snapshot

    def farewell(self) -> bytes:
        """The last message of a stream that the server ends: reconnect after ``retry`` ms."""
        return sse.encode("", id=self.table.last_id, retry=RECONNECT_MS)

    def sweep(self, now: float) -> bool:
        """The tailer's once-a-second call (monotonic ``now``): while streams watch the page
        and its step passed, draw it and send what changed to every stream; True if it sent."""
        if not (len(self.hub) and self.table.due(now)):
            return False
        names = self.table.draw(self._last_id(), now)
        if names:
            self._snapshot = None
            self.hub.publish(sse.encode(self.table.changes(names), id=self.table.last_id))
        return bool(names)


class Overviews:
    """This process's fleet pages by (sort, q, language).

    :param make: makes the page of a (sort, q) pair in a language (``make(sort, q, code)``),
        already checked by :func:`app.view.overview.check_query`.
    :param limit: pages kept at most.
    """

    def __init__(self, make: Callable[[str, str, str | None], Overview],
                 limit: int = MAX_PAGES) -> None:
        self._make = make
        self.limit = limit
        self._pages: OrderedDict[tuple[str, str, str | None], Overview] = OrderedDict()

    def __iter__(self) -> Iterator[Overview]:
        return iter(list(self._pages.values()))

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, sort: str, q: str, language: str | None = None) -> Overview:
        """The page of ``(sort, q)`` in ``language`` (a code; None: ``DASHBOARD_LANGUAGE``),
        made now if needed. Subscribe before the greenlet yields.

        :raise TooManyPages: a new filtered page is needed and every kept one is watched.
        """
        key = (sort, q, language)
        page = self._pages.get(key)
        if page is None:
            if q:  # only filtered pages take slots (module docstring)
                filtered = [k for k in self._pages if k[1]]
                idle = [k for k in filtered if not len(self._pages[k].hub)]
                if len(filtered) >= self.limit and not idle:
                    raise TooManyPages(f"{self.limit} filtered fleet pages are watched in this "
                                       "process already")
                if len(filtered) >= self.limit:
                    del self._pages[idle[0]]
            page = self._pages[key] = self._make(sort, q, language)
        self._pages.move_to_end(key)
        return page

    def hubs(self) -> list[Hub]:
        """Every fleet page's hub."""
        return [page.hub for page in self._pages.values()]
