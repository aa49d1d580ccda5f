"""The hosts this process shows: one :class:`Page` (a LiveView and a Hub) per viewed host.

Render once per host: the tailer (``app.live.tailer``) folds every new log item into every page's view
and publishes each page's changed regions once to that page's hub, so what a viewer of
``/?host=web-2`` receives was rendered once for every viewer of web-2 in this process. The
page of this dashboard's own host (``DASHBOARD_HOST_NAME``) exists from the start and is kept;
another host's page is made when its first viewer (or poll) arrives, and beyond
:data:`MAX_PAGES` the least recently used page that no stream watches is dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator

from app.view.regions import LiveView

from . import sse
from .hub import Hub

#: Pages (viewed hosts) one process keeps; each holds a view (history of 300 samples, rendered
#: regions) of a few hundred KB at most. A new host beyond it when all are watched gets 503.
MAX_PAGES = 16
#: Milliseconds a browser waits before it reconnects after the server ended a stream.
RECONNECT_MS = 1000


class UnknownHost(LookupError):
    """No sample of this host is known (and it is not this dashboard's own): 404."""


class TooManyPages(RuntimeError):
    """Every one of the :data:`MAX_PAGES` pages has streams watching it: 503, retry later."""


class Page:
    """One viewed host: its :class:`~app.view.regions.LiveView`, the :class:`~app.live.hub.Hub` of its
    streams and its snapshot message, encoded once per change."""

    def __init__(self, view: LiveView, hub: Hub) -> None:
        self.view = view
        self.hub = hub
        self._snapshot: bytes | None = None

    @property
    def host(self) -> str:
        return self.view.host

    def snapshot(self) -> bytes:
        """Every region and the LIVE badge as one SSE message, encoded once per change."""
        if self._snapshot is None:
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

    def publish(self, names: list[str]) -> None:
        """Send the regions ``names`` (their HTML changed) to every stream of this page."""
        self._snapshot = None
        self.hub.publish(sse.encode(self.view.fragments(names, "live"), id=self.view.last_id))


class Pages:
    """This process's pages by host name, the default one first and never dropped.

    :param default: the page of this dashboard's own host.
    :param open_page: makes and loads the page of another host (may switch greenlets: it reads
        the store).
    :param known: whether a host name may get a page (:class:`UnknownHost` otherwise).
    :param limit: pages kept at most (:data:`MAX_PAGES`).
    """

    def __init__(self, default: Page, open_page: Callable[[str], Page],
                 known: Callable[[str], bool], limit: int = MAX_PAGES) -> None:
        self.default = default
        self._open = open_page
        self._known = known
        self.limit = limit
        self._pages: OrderedDict[str, Page] = OrderedDict([(default.host, default)])

    def __iter__(self) -> Iterator[Page]:
        return iter(list(self._pages.values()))  # a copy: a page may be added meanwhile

    def __len__(self) -> int:
        return len(self._pages)

    def get(self, host: str | None) -> Page:
        """The page of ``host`` (None: the default), made now if needed.

        A caller that subscribes to the page's hub must do so before its greenlet yields, so
        that the page cannot be dropped in between (an unwatched page may be, at any switch).

        :raise UnknownHost: ``host`` is neither the default nor known.
        :raise TooManyPages: a new page is needed and every kept one is watched.
        """
        host = self.default.host if host is None else host
        page = self._pages.get(host)
        if page is None:
            if not self._known(host):
                raise UnknownHost(host)
            if len(self._pages) >= self.limit and self._idle() is None:
                raise TooManyPages(f"{self.limit} hosts are watched in this process already")
            made = self._open(host)
            page = self._pages.setdefault(host, made)  # another greenlet may have won the race
            while len(self._pages) > self.limit and (idle := self._idle(but=host)) is not None:
                del self._pages[idle]
        self._pages.move_to_end(host)
        return page

    def peek(self, host: str | None) -> Page | None:
        """The page of ``host`` (None: the default) if this process has it; never makes one."""
        return self._pages.get(self.default.host if host is None else host)

    def _idle(self, but: str | None = None) -> str | None:
        """The least recently used page that no stream watches, other than the default."""
        for host, page in self._pages.items():
            if page is not self.default and host != but and len(page.hub) == 0:
                return host
        return None

    def hubs(self) -> list[Hub]:
        """Every page's hub."""
        return [page.hub for page in self._pages.values()]
