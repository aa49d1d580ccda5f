"""The pages each client address streams in this process: at most
``DASHBOARD_STREAMS_PER_CLIENT`` different ones (host pages and fleet pages alike).

A stream of a page nobody else watches holds that page (a host's and range, a fleet sort and
filter) among the process's kept pages (``app.live.pages.MAX_PAGES``): one client that opened
streams of many different pages would hold them all, and everyone else's new page would answer
503. What is bounded is different pages, not streams: a thousand viewers behind one address
watching the same page cost one page. The route refuses a stream of one more page with 429
before it starts (:meth:`ClientStreams.full`); the stream takes its place when it subscribes
and gives it back when it ends, whether its generator ends or the Hub, which took its
connection over, closes it (``app.live.delivery._messages``). The address is the one Flask
sees: behind a proxy, set ``DASHBOARD_TRUSTED_PROXIES`` so that each client counts as itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable


class ClientStreams:
    """Open streams by client address and page.

    :param per_client: different pages one address may stream at once
        (``DASHBOARD_STREAMS_PER_CLIENT``).
    """

    def __init__(self, per_client: int) -> None:
        self.per_client = per_client
        self.open: Counter[tuple[str, Hashable]] = Counter()
        self._pages: Counter[str] = Counter()  # address -> different pages it streams

    def full(self, address: str, page: Hashable) -> bool:
        """Whether a stream of ``page`` would be one page too many for ``address``."""
        return (address, page) not in self.open and self._pages[address] >= self.per_client

    def take(self, address: str, page: Hashable) -> bool:
        """Count one more stream of ``page`` by ``address``; False (nothing counted) if
        :meth:`full`."""
        if self.full(address, page):
            return False
        if (address, page) not in self.open:
            self._pages[address] += 1
        self.open[address, page] += 1
        return True

    def give_back(self, address: str, page: Hashable) -> None:
        """One stream of ``page`` by ``address`` ended."""
        self.open[address, page] -= 1
        if self.open[address, page] <= 0:
            del self.open[address, page]
            self._pages[address] -= 1
            if self._pages[address] <= 0:
                del self._pages[address]
