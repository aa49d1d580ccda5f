"""The pages this process shows: one :class:`Page` (a LiveView and a Hub) per viewed host, time
range and language.

Render once per host and range: the tailer (``app.live.tailer``) folds every new log item into
every page's view and publishes each page's changed regions once to that page's hub, so what a
viewer of ``/?host=web-2&range=24h`` receives was rendered once for every viewer of web-2's
last 24 hours in this process, once per language viewed (a page in a second language exists,
and costs its renders, only while someone views it in that language). The page of this
dashboard's own host (``DASHBOARD_HOST_NAME``) on the live range exists from the start and is
kept; another page is made when its first viewer (or poll) arrives, and beyond
:data:`MAX_PAGES` the least recently used page that no stream watches is dropped.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator

from app.view.catalog import FIGURES
from app.view.language import SOURCE
from app.view.ranges import LIVE, SPANS
from app.view.regions import LiveView

from . import sse
from .hub import Hub

#: Pages (viewed hosts and ranges) one process keeps; each holds a view (the live range's 6
#: minutes of samples, rendered regions) of a few hundred KB at most. A new page beyond it when
#: all are watched gets 503.
MAX_PAGES = 16
#: Milliseconds a browser waits before it reconnects after the server ended a stream.
RECONNECT_MS = 1000


class UnknownHost(LookupError):
    """No sample of this host is known (and it is not this dashboard's own): 404."""


class UnknownRange(LookupError):
    """Not one of the ranges of ``app.view.ranges.SPANS``: 400."""


class TooManyPages(RuntimeError):
    """Every one of the :data:`MAX_PAGES` pages has streams watching it: 503, retry later."""


class Page:
    """One viewed host and range: its :class:`~app.view.regions.LiveView`, the
    :class:`~app.live.hub.Hub` of its streams and its snapshot message, encoded once per
    change."""

    def __init__(self, view: LiveView, hub: Hub) -> None:
        self.view = view
        self.hub = hub
        self._snapshot: bytes | None = None
        self._waiting: list[str] = []  # changed regions not sent yet (ready)
        self.send_by: float | None = None  # monotonic s by which they must go, if any wait

    @property
    def host(self) -> str:
        return self.view.host

    @property
    def key(self) -> tuple[str, str, str]:
        """(host, range, language): what the page shows, in which language."""
        return self.view.host, self.view.range, self.language

    @property
    def language(self) -> str:
        """The code of the language its regions are rendered in."""
        language = self.view.env.globals.get("language")  # app.view.language.Language
        return language.code if language else SOURCE

    def snapshot(self) -> bytes:
        """Every region and the LIVE badge as one SSE message, encoded once per change."""
        if self._snapshot is None or self.view.stale:
            self._snapshot = sse.encode(self.view.fragments(self.view.regions, "live"),
                                        id=self.view.last_id, retry=RECONNECT_MS)
        return self._snapshot

    def farewell(self) -> bytes:
        """The last message of a stream that the server ends: reconnect after ``retry`` ms."""
        return sse.encode("", id=self.view.last_id, retry=RECONNECT_MS)

    def restart(self) -> None:
        """End every stream of this page now; each reconnects and gets a fresh snapshot."""
        self._snapshot = None
        self.hub.expire(float("inf"))

    def ready(self, names: list[str], now: float, linger: float) -> list[str]:
        """Add ``names`` (regions whose HTML changed) to those waiting and return every waiting
        one if they must go now, else ``[]``.

        News go at once. Figures alone (:data:`~app.view.catalog.FIGURES`: a sample's cards, the
        viewer count, the charts) wait up to ``linger`` seconds (``now``: ``time.monotonic()``)
        for news to go with: one write to every viewer instead of two when events come often,
        and a sample's figures shown at most ``linger`` seconds later.
        """
        self._waiting += [name for name in names if name not in self._waiting]
        if not self._waiting:
            return []
        if self.send_by is None:
            self.send_by = now + linger
        if now < self.send_by and FIGURES.issuperset(self._waiting):
            return []
        names, self._waiting, self.send_by = self._waiting, [], None
        return names

    def send(self, names: list[str], store, linger: float) -> bool:
        """Publish ``names`` (regions whose HTML changed) now or later (:meth:`ready`); return
        whether a message went out. Charts that are due (``LiveView.draw_due``) are drawn to
        go with figures alone, never with news: an event does not wait for them, and a
        sample's figures and the charts make one write, not two. ``store``: None while it is
        down (the charts of other ranges read it)."""
        if names and store is not None and FIGURES.issuperset(names):
            names = names + self.view.draw_due(store, time.time())
        names = self.ready(names, time.monotonic(), linger)
        if names:
            self.publish(names)
        return bool(names)

    def publish(self, names: list[str]) -> None:
        """Send the regions ``names`` (their HTML changed) to every stream of this page."""
        self._snapshot = None
        self.hub.publish(sse.encode(self.view.changes(names), id=self.view.last_id))


class Pages:
    """This process's pages by (host, range), the default one first and never dropped.

    :param default: the page of this dashboard's own host on the live range.
    :param open_page: makes and loads the page of a host, range and language,
        ``open_page(host, range, language)`` (may switch greenlets: it reads the store).
    :param known: whether a host name may get a page (:class:`UnknownHost` otherwise).
    :param limit: pages kept at most (:data:`MAX_PAGES`).
    """

    def __init__(self, default: Page, open_page: Callable[[str], Page],
                 known: Callable[[str], bool], limit: int = MAX_PAGES) -> None:
        self.default = default
        self._open = open_page
        self._known = known
        self.limit = limit
        self._pages: OrderedDict[tuple[str, str, str], Page] = OrderedDict(
            [(default.key, default)])

    def __iter__(self) -> Iterator[Page]:
        return iter(list(self._pages.values()))  # a copy: a page may be added meanwhile

    def __len__(self) -> int:
        return len(self._pages)

    def _key(self, host: str | None, range_name: str | None,
             language: str | None) -> tuple[str, str, str]:
        range_name = LIVE if range_name in (None, "5m") else range_name
        if range_name not in SPANS:
            raise UnknownRange(range_name)
        return ((self.default.host if host is None else host), range_name,
                language or self.default.language)

    def get(self, host: str | None, range_name: str | None = None,
            language: str | None = None) -> Page:
        """The page of ``host`` (None: the default) over ``range_name`` (None or ``5m``: live)
        in ``language`` (a code; None: the default page's), made now if needed.

        A caller that subscribes to the page's hub must do so before its greenlet yields, so
        that the page cannot be dropped in between (an unwatched page may be, at any switch).

        :raise UnknownRange: not a key of :data:`~app.view.ranges.SPANS`.
        :raise UnknownHost: ``host`` is neither the default nor known.
        :raise TooManyPages: a new page is needed and every kept one is watched.
        """
        key = self._key(host, range_name, language)
        page = self._pages.get(key)
        if page is None:
            if not self._known(key[0]):
                raise UnknownHost(key[0])
            if len(self._pages) >= self.limit and self._idle() is None:
                raise TooManyPages(f"{self.limit} pages are watched in this process already")
            made = self._open(*key)
            page = self._pages.setdefault(key, made)  # another greenlet may have won the race
            while len(self._pages) > self.limit and (idle := self._idle(but=key)) is not None:
                del self._pages[idle]
        self._pages.move_to_end(key)
        return page

    def peek(self, host: str | None, range_name: str | None = None,
             language: str | None = None) -> Page | None:
        """The page of ``host``, range and language (None: the defaults) if this process has
        it; never makes one (an unknown range: None)."""
        try:
            return self._pages.get(self._key(host, range_name, language))
        except UnknownRange:
            return None

    def _idle(self, but: tuple[str, str, str] | None = None) -> tuple[str, str, str] | None:
        """The least recently used page that no stream watches, other than the default."""
        for key, page in self._pages.items():
            if page is not self.default and key != but and len(page.hub) == 0:
                return key
        return None

    def hubs(self) -> list[Hub]:
        """Every page's hub."""
        return [page.hub for page in self._pages.values()]
