"""The fleet: every host that reports to the store, its latest sample and when it was last seen.

Hosts come from the ``sample:<host>`` states at start (this dashboard's sampler, the samplers of
other dashboards on a shared store, agents that push through ``POST /api/v1/samples``), then
from each new ``metrics`` item the tailer folds. One :class:`Fleet` per process, shared by every
page (``app.live.pages``); each page renders it as its ``fleet`` region with its own host marked.

Which clock, and why (do not "fix" without reading this): a host's *last seen* is the ``ts`` of
its latest ``metrics`` log item, the Unix time at which the store accepted it, stamped by the
dashboard process that wrote it (its own sampler, or the one that took an agent's POST). The
sample's own ``ts`` is read on the sampled machine's clock, which may be off by any amount, or
lie: it plays no part here, so a host whose clock runs an hour ahead does not look alive for an
hour after it stopped. A host is *stale* once this process's clock is more than
``DASHBOARD_STALE_AFTER`` seconds past its last seen; dashboards that share one store compare
their own clocks only, which must agree to well under that (NTP), as for the viewer counts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from app.store import Item, Store

from .hosts import KIND as FORGOTTEN

#: Hosts kept (and shown); beyond it the one seen longest ago is forgotten until it reports again.
FLEET_KEPT = 100
#: Newest ``metrics`` items read at start to find each known host's last accept time; a host
#: not among them is looked up on its own (``Store.find``).
_LOAD_SCAN = 1000


class Host(NamedTuple):
    """One host's latest sample and its last seen (store accept time, Unix seconds; None when
    the log no longer holds any item of that host)."""

    sample: dict
    seen: float | None


class Fleet:
    """The hosts that report to the store, by name.

    :param stale_after: seconds after ``seen`` at which a host counts as stale
        (``DASHBOARD_STALE_AFTER``).
    :param home: this dashboard's own host (``DASHBOARD_HOST_NAME``): it has a card even
        before its first sample, or with its sampler off, so that a dashboard that only shows
        agents still offers the way back to its own page.
    :param forget_after: seconds after ``seen`` at which a host leaves the fleet
        (``DASHBOARD_HOST_RETENTION``; the store forgets it too: ``app.domain.retention``).
    :param clock: the current Unix time in seconds; tests pass a fake one.
    """

    def __init__(self, stale_after: float, home: str | None = None,
                 clock: Callable[[], float] = time.time,
                 forget_after: float = float("inf")) -> None:
        self.stale_after = stale_after
        self.forget_after = forget_after
        self.home = home
        self.clock = clock
        self.hosts: dict[str, Host] = {}

    def __contains__(self, host: object) -> bool:
        return host in self.hosts

    def __len__(self) -> int:
        return len(self.hosts)

    def load(self, store: Store) -> None:
        """Read every ``sample:<host>`` state and the accept time of each host's latest item."""
        samples = {key.removeprefix("sample:"): value
                   for key, value in store.states("sample:").items()}
        seen: dict[str, float] = {}
        for item in store.recent("metrics", _LOAD_SCAN):  # newest first
            seen.setdefault(item.data.get("host"), item.ts)
        for host in samples.keys() - seen.keys():  # silent for a while: rare, and only at start
            latest = store.find("metrics", limit=1, where={"host": host})
            if latest:
                seen[host] = latest[0].ts
        self.hosts = {host: Host(sample, seen.get(host)) for host, sample in samples.items()}
        self._bound()

    def apply(self, items: list[Item]) -> bool:
        """Fold new log items; return True if any was a host sample or a host forgotten
        (``app.domain.hosts``: its card leaves until it reports again)."""
        folded = False
        for item in items:
            host = item.data.get("host") if item.kind in ("metrics", FORGOTTEN) else None
            if isinstance(host, str) and host:
                if item.kind == FORGOTTEN:
                    self.hosts.pop(host, None)
                else:
                    self.hosts[host] = Host(item.data, item.ts)
                folded = True
        if folded:
            self._bound()
        return folded

    def _bound(self) -> None:
        if len(self.hosts) > FLEET_KEPT:
            by_age = sorted(self.hosts, key=lambda h: self.hosts[h].seen or 0.0)
            for host in by_age[:len(self.hosts) - FLEET_KEPT]:
                del self.hosts[host]

    def cards(self) -> list[dict]:
        """What the fleet region shows, by host name: ``{"name", "sample", "seen", "stale"}``.

        A host without a known accept time (the home host before its first sample) is stale;
        one unseen for ``forget_after`` seconds is dropped from the fleet here.
        """
        now = self.clock()
        self.hosts = {name: host for name, host in self.hosts.items()
                      if host.seen is None or now - host.seen <= self.forget_after}
        hosts = dict(self.hosts)
        if self.home is not None:
            hosts.setdefault(self.home, Host({}, None))
        return [{"name": name, "sample": host.sample, "seen": host.seen,
                 "stale": host.seen is None or now - host.seen > self.stale_after}
                for name, host in sorted(hosts.items())]
