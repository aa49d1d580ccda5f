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

A host's *level* (:func:`level`), what the row and the fleet page order and colour it by, is
decided here once: the worst of its firing alerts and, while it reports, of its latest sample
against ``DASHBOARD_THRESHOLDS``; a host not seen within ``DASHBOARD_STALE_AFTER`` with no
firing alert is ``stale``. An alert of level ``error`` counts as ``critical``: an error is a
failure already happening, and the row has one colour for "look at this first".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import NamedTuple

from app.store import Item, Store

from . import alerts as alerts_mod, containers as containers_mod
from .hosts import KIND as FORGOTTEN
from .levels import SEVERITY, sample_level

#: Hosts kept (and shown); beyond it the one seen longest ago is forgotten until it reports
#: again. Each costs its latest sample (1.6 KB flat with three disks; more with many cores or
#: interfaces), and the fleet ranks all of them once per change: at 1000, 5 to 10 ms on a
#: shared machine (``bench.fleet``).
FLEET_KEPT = 1000
#: A host's levels, in the order that needs attention first: the row and the page sort by it.
LEVELS = ("critical", "warning", "stale", "ok")
#: Alert level -> host level (module docstring: why ``error`` is ``critical``).
ALERT_LEVELS = {"critical": "critical", "error": "critical", "warning": "warning"}
#: Newest ``metrics`` items read at start to find each known host's last accept time; a host
#: not among them is looked up on its own (``Store.find``).
_LOAD_SCAN = 1000


class Host(NamedTuple):
    """One host's latest sample and its last seen (store accept time, Unix seconds; None when
    the log no longer holds any item of that host)."""

    sample: dict
    seen: float | None


class Card(NamedTuple):
    """What the row and the fleet page show of one host.

    ``sample``: its latest sample (``{}`` before the first); ``seen``: its last seen (Unix
    seconds, None if unknown); ``stale``: unseen for more than ``stale_after`` seconds (or
    never); ``level``: one of :data:`LEVELS` (:func:`level`); ``alerts``: the names of its
    firing alerts, worst first, then by name.
    """

    name: str
    sample: dict
    seen: float | None
    stale: bool
    level: str
    alerts: tuple[str, ...]
    containers: dict | None = None


def level(sample: dict, stale: bool, alert_levels, thresholds: dict) -> str:
    """A host's level (one of :data:`LEVELS`): the worst of its firing alerts' levels
    (``alert_levels``, mapped by :data:`ALERT_LEVELS`) and, unless ``stale``, of ``sample``
    against ``thresholds`` (metric key -> (warning, critical)); else ``stale`` or ``ok``.

    A stale host's sample is left out: its figures are old, and "stale" says more.
    """
    found = {ALERT_LEVELS.get(name, "critical") for name in alert_levels}
    if not stale:
        found.add(sample_level(sample, thresholds))
    worst = next((lvl for lvl in SEVERITY if lvl in found), "ok")
    return worst if worst != "ok" else "stale" if stale else "ok"


def by_attention(cards: list[Card]) -> list[Card]:
    """``cards`` ordered by level (:data:`LEVELS`), then by name."""
    return sorted(cards, key=lambda card: (LEVELS.index(card.level), card.name))


def summary(cards: list[Card]) -> dict[str, int]:
    """How many of ``cards`` are at each level: ``{"critical": n, "warning": n, "stale": n,
    "ok": n}``, in that order, zeros included."""
    counts = dict.fromkeys(LEVELS, 0)
    for card in cards:
        counts[card.level] += 1
    return counts


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
    :param thresholds: metric key -> (warning, critical) (``DASHBOARD_THRESHOLDS``), what a
        host's latest sample is compared with for its level; none: samples count as ``ok``.

    Besides each host's latest sample it keeps the alerts firing on each host (``alert``
    items), by host and alert id, for the hosts' levels.
    """

    def __init__(self, stale_after: float, home: str | None = None,
                 clock: Callable[[], float] = time.time,
                 forget_after: float = float("inf"), thresholds: dict | None = None) -> None:
        self.stale_after = stale_after
        self.forget_after = forget_after
        self.home = home
        self.clock = clock
        self.thresholds = dict(thresholds or {})
        self.hosts: dict[str, Host] = {}
        #: host -> {alert id: (name, level)} of its firing alerts.
        self.firing: dict[str, dict[str, tuple[str, str]]] = {}
        #: host -> its latest containers list (``app.domain.containers``), while it has an engine.
        self.containers: dict[str, dict] = {}
        self.version = 0  # counts the changes folded: what the cards were made from
        # (version, settings, made at, good until, cards): every page asks each second.
        self._cards: tuple | None = None
        #: Hosts whose card changed since the cards were made (None: every host's may have):
        #: with 1,000 hosts reporting, remaking only theirs keeps a change's cost small.
        self._dirty: set[str] | None = None
        self._by_name: dict[str, Card] = {}
        self._ranked: tuple[list[Card], list[Card]] | None = None  # (cards, ranked)

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
        self.firing = {}
        self.containers = {key.removeprefix("containers:"): found for key, found
                           in store.states("containers:").items() if found.get("engine")}
        for alert in alerts_mod.all_alerts(store, state="firing"):
            self._fold_alert(alert)
        self._bound()
        self._dirty = None
        self.version += 1

    def apply(self, items: list[Item]) -> bool:
        """Fold new log items; return True if any was a host sample, a host's alert or a host
        forgotten (``app.domain.hosts``: its card leaves until it reports again)."""
        folded = False
        for item in items:
            if item.kind == "alert":
                folded = self._fold_alert(item.data) or folded
                continue
            if item.kind == containers_mod.KIND:
                folded = self._fold_containers(item.data) or folded
                continue
            host = item.data.get("host") if item.kind in ("metrics", FORGOTTEN) else None
            if isinstance(host, str) and host:
                if item.kind == FORGOTTEN:
                    self.hosts.pop(host, None)
                    self._dirty = None  # a card leaves the list
                else:
                    self.hosts[host] = Host(item.data, item.ts)
                    self._changed(host)
                folded = True
        if folded:
            self._bound()
            self.version += 1
        return folded

    def _fold_alert(self, alert: dict) -> bool:
        """Keep or drop one alert of a host (those without a host play no part)."""
        host = alert.get("host")
        if not isinstance(host, str) or not host:
            return False
        self._changed(host)
        if alert.get("state") == "firing":
            self.firing.setdefault(host, {})[alert["id"]] = (alert.get("name", ""),
                                                             alert.get("level", "critical"))
        elif alert["id"] in self.firing.get(host, {}):
            del self.firing[host][alert["id"]]
            if not self.firing[host]:
                del self.firing[host]
        else:
            return False
        return True

    def _fold_containers(self, found: dict) -> bool:
        """Keep a host's containers list (its counts and level); True if the counts changed."""
        host = found.get("host")
        if not isinstance(host, str) or not host:
            return False
        old = self.containers.get(host)
        self._changed(host)
        if found.get("engine"):
            self.containers[host] = found
        else:
            self.containers.pop(host, None)
        counts = (lambda f: f and (containers_mod.counts(f["containers"]),
                                   containers_mod.level(f)))
        return counts(old) != counts(self.containers.get(host))

    def _changed(self, host: str) -> None:
        if self._dirty is not None:
            self._dirty.add(host)

    def _bound(self) -> None:
        if len(self.hosts) > FLEET_KEPT:
            self._dirty = None
            by_age = sorted(self.hosts, key=lambda h: self.hosts[h].seen or 0.0)
            for host in by_age[:len(self.hosts) - FLEET_KEPT]:
                del self.hosts[host]

    def cards(self) -> list[Card]:
        """Every host's :class:`Card`, by host name.

        A host without a known accept time (the home host before its first sample) is stale;
        one unseen for ``forget_after`` seconds is dropped from the fleet here. The list is
        made once per change (or time a host turns stale) and shared: do not change it.
        """
        now = self.clock()
        key = (self.version, self.stale_after, self.forget_after, self.home)
        made = self._cards
        if made and made[0] == key and made[1] <= now <= made[2]:
            return made[3]
        if made and made[0][1:] == key[1:] and made[1] <= now <= made[2] and self._dirty:
            # Only some hosts changed, and no other's staleness did (now is before "until"):
            # theirs are made again, the others kept. A new host takes its place by name.
            home = {self.home: Host({}, None)} if self.home is not None else {}
            changed = {name: self.hosts.get(name) or home.get(name) for name in self._dirty}
            changed = {name: host for name, host in changed.items() if host is not None}
            names = made[3] if changed.keys() <= self._by_name.keys() else None
            self._by_name.update((name, self._card(name, host, now))
                                 for name, host in changed.items())
            cards = ([self._by_name[card.name] for card in names] if names is not None
                     else [self._by_name[name] for name in sorted(self._by_name)])
        else:
            self.hosts = {name: host for name, host in self.hosts.items()
                          if host.seen is None or now - host.seen <= self.forget_after}
            hosts = dict(self.hosts)
            if self.home is not None:
                hosts.setdefault(self.home, Host({}, None))
            cards = [self._card(name, host, now) for name, host in sorted(hosts.items())]
            self._by_name = {card.name: card for card in cards}
        self._dirty = set()
        # Good until the first fresh host turns stale or a host is forgotten.
        until = min([host.seen + self.stale_after for host in self.hosts.values()
                     if host.seen is not None and now - host.seen <= self.stale_after]
                    + [host.seen + self.forget_after for host in self.hosts.values()
                       if host.seen is not None], default=float("inf"))
        self._cards = (key, now, until, cards)
        return cards

    def _card(self, name: str, host: Host, now: float) -> Card:
        """The card of one host as of ``now`` (Unix seconds)."""
        stale = host.seen is None or now - host.seen > self.stale_after
        firing = sorted(self.firing.get(name, {}).values(),
                        key=lambda a: (LEVELS.index(ALERT_LEVELS.get(a[1], "critical")), a[0]))
        levels = [lvl for _, lvl in firing]
        found = self.containers.get(name)
        if found is not None and not stale:  # a stale host's list is as old as its sample
            levels += [lvl for lvl in (containers_mod.level(found),) if lvl != "ok"]
        return Card(name, host.sample, host.seen, stale,
                    level(host.sample, stale, levels, self.thresholds),
                    tuple(alert_name for alert_name, _ in firing),
                    containers_mod.counts(found["containers"]) if found else None)

    def ranked(self) -> list[Card]:
        """:meth:`cards` in :func:`by_attention` order, sorted once per change and shared."""
        cards = self.cards()
        if self._ranked is None or self._ranked[0] is not cards:
            # The cards are by name: taking each level's in turn keeps that order within it.
            self._ranked = (cards, [c for lvl in LEVELS for c in cards if c.level == lvl])
        return self._ranked[1]
