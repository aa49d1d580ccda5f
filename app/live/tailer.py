"""The tailer: one greenlet per process that follows the store's log and feeds every stream.

It folds new items into the :class:`~app.domain.fleet.Fleet` and into the
:class:`~app.view.regions.LiveView` of every viewed host (:mod:`app.live.pages`), encodes each
page's change once as an SSE message (figures alone may wait for news: ``Page.ready``) and
hands the bytes to that page's :class:`~app.live.hub.Hub`. It sends the heartbeat and, about
once a second, the viewer count, the fleet row (hosts turn stale with time alone), the fleet
pages' tables (``app.live.overview``), the audit page's newest entries (``app.live.audit``),
the approvals region ("time left") and the chart panels (``app.view.panel``: live every 5
seconds, other ranges when a point of their tier is complete); it expires pending approvals
whose deadline passed, and hands items to the task, approval, JSON and compat streams
(:class:`~app.live.tasks.TaskWatchers`, :class:`~app.live.approvals.ApprovalWatchers`,
:class:`~app.live.jsonstream.JsonStreams`, :class:`~app.live.compat.Compat`).

Nothing here runs per client: the cost of a change does not grow with the number of viewers.
"""

from __future__ import annotations

import logging
import time
from collections import deque

import gevent

from app.domain import approvals
from app.store import StoreUnavailable

from . import sse
from .audit import AuditFeed
from .overview import Overview
from .pages import Page
from .viewers import ViewerCount

log = logging.getLogger(__name__)

_CHART_GRACE = 1.5  # seconds due charts wait for a message to ride along with, then go alone
_LINGER = 0.5  # seconds at most a sample's figures wait for news (Page.ready): half a sample
_IDLE_POLL = 1.0  # seconds between two looks at the store for other processes' writes, unwatched
#: Seconds at least between two reads of the log while items keep coming. Many agents write a
#: few items each, spread over the second: read as they came, each read brought one item and
#: paid a round trip and a pass over every page for it. Once :data:`_GATHER_AFTER` reads in a
#: row brought items less than twice this time apart on average, the next waits until this
#: long after the last, and takes what came meanwhile in one pass; an item after a quiet
#: spell, or one of a few, is read at once. At 1,000 agents, 0.1 s against 0.025 cut the
#: dashboards' CPU per sample by 16 % (``bench.fleetload``, ``bench/RESULTS.md``); it delays
#: a figure or an event by at most that much, and only under such a stream of writes.
_GATHER = 0.1
_GATHER_AFTER = 3
#: Latest items (id, ts) remembered to find where a failed-over store's log parted from ours.
_REMEMBERED = 256


class Tailer:
    """The tail loop of one process's :class:`~app.live.engine.Live` (module docstring).

    :param live: what it feeds: ``store``, ``settings``, ``fleet``, ``pages``, ``tasks``,
        ``json`` and ``viewers_here()``; its ``owner`` names this process's viewer count.
    """

    def __init__(self, live) -> None:
        self.live = live
        self._viewers = ViewerCount(live)
        self._reload_pending = False  # the store's log went back; the views still need loading
        # (id, store ts) of the latest items folded, and whether the store may have lost some
        # of them since (it failed, or its Redis primary changed): see _notice_reset.
        self._seen: deque[tuple[int, float]] = deque(maxlen=_REMEMBERED)
        self._suspect = False
        self._failovers = 0

    def run(self) -> None:
        """Follow the log until killed (``Live.stop``); runs in its own greenlet."""
        live = self.live
        # Per page and fleet page: a page with no change still pings.
        heartbeat_due: dict[Page | Overview | AuditFeed, float] = {}
        expire_due = time.monotonic() + 1.0
        failing = False  # the last store.wait raised
        # time.monotonic() of the last reads that brought items: a stream of writes when close
        gathered: deque[float] = deque([float("-inf")] * _GATHER_AFTER, maxlen=_GATHER_AFTER)
        while True:
            # Back for the next heartbeat, lifetime sweep or held figures (Page.ready).
            due = min([expire_due, *heartbeat_due.values(),
                       *(page.send_by for page in live.pages if page.send_by is not None)])
            try:
                # Other processes' writes need polling (SQLite). Each wake-up costs CPU even
                # when nothing changed, so look every DASHBOARD_TAIL_INTERVAL only while someone
                # watches a stream (page, JSON, task, approval or audit); otherwise page loads
                # and polls may show a view up to a second old.
                watched = (live.viewers_here() or len(live.tasks) or len(live.approvals)
                           or len(live.json) or live.audit.watching() or len(live.compat))
                poll = live.settings.tail_interval if watched else _IDLE_POLL
                if gathered[-1] - gathered[0] < 2 * _GATHER * (_GATHER_AFTER - 1):
                    gevent.sleep(max(gathered[-1] + _GATHER - time.monotonic(), 0))
                timeout = max(due - time.monotonic(), 0.01)
                # The default page is never dropped and folds every item: its last id is the
                # tailer's cursor (a page made later starts at or after it).
                after = live.view.last_id
                items = live.store.wait(after, timeout, poll)
            except Exception:  # noqa: BLE001 - a store hiccup must not end the live updates
                # One traceback per outage, not one a second.
                log.log(logging.DEBUG if failing else logging.ERROR,
                        "tailer: store read failed; retrying every second", exc_info=True)
                failing = True
                # Retry after a second, or at the next heartbeat if that comes first: streams
                # must keep their heartbeats through the outage.
                gevent.sleep(min(max(due - time.monotonic(), 0.05), 1.0))
                items = []  # streams still get their heartbeats and lifetimes meanwhile
            else:
                if failing:
                    log.warning("tailer: the store answers again")
                    self._suspect = True
                failing = False
                failovers = live.store.describe().get("failovers", 0)
                if failovers != self._failovers:
                    self._failovers, self._suspect = failovers, True
                # Before folding anything read from a store that may have lost items: if it
                # did, the reload reads these items too, and none is sent twice.
                if self._suspect and self._notice_reset():
                    items = []
            if items:
                gathered.append(time.monotonic())
                self._seen.extend((item.id, item.ts) for item in items)
                try:
                    live.end_sessions(live.accounts.apply(items))
                except Exception:  # noqa: BLE001 - the other streams must go on regardless
                    log.exception("tailer: ending the streams of changed accounts failed")
                live.fleet.apply(items)
                live.tasks.feed(items)
                live.approvals.feed(items)
                live.compat.feed(items)
                live.feed_alerting(after, items)
            pages = list(live.pages)
            overviews = list(live.overviews)
            for page in pages:
                page.view.unwatched = not len(page.hub)  # rendered when read (LiveView.catch_up)
            changed = {page: page.view.apply(items) if items else [] for page in pages}
            if items:
                # Right after the views' apply, with no greenlet switch in between: the JSON
                # streams' replay relies on every item up to view.last_id having been fed
                # (app.live.jsonstream).
                live.json.feed(items)
                for feed in live.audit.feed(items):  # after the views: its id: is their last id
                    heartbeat_due[feed] = time.monotonic() + live.settings.heartbeat
            now = time.monotonic()
            live.json.tick(now)
            live.compat.tick(now)
            if now >= expire_due:
                expire_due = now + 1.0
                # While the store is down, no look at it here: each failing call costs its
                # retries, and the heartbeats would wait for them.
                if not failing:
                    self._notice_reset()
                    self._expire_approvals()
                total = live.viewers_here() if failing else self._viewers.total()
                for page in pages:
                    page.hub.expire(now)
                    if page.view.set_viewers(total):
                        changed[page].append("viewers")
                    changed[page] += [name for name in ("fleet", "approvals", "alerts")
                                      if page.view.refresh(name)]
                    # Charts whose time came and that no message took along (below): read
                    # from the store, so not while it is down.
                    if not failing:
                        changed[page] += page.view.tick(live.store, time.time(), _CHART_GRACE)
                for hub in live.audit.hubs():
                    hub.expire(now)
                live.compat.sweep(now)
                for overview in overviews:
                    overview.hub.expire(now)
                    if overview.sweep(now):
                        heartbeat_due[overview] = now + live.settings.heartbeat
            linger = min(live.settings.sample_interval / 2, _LINGER)
            for page in pages:
                if page.send(changed[page], None if failing else live.store, linger):
                    heartbeat_due[page] = now + live.settings.heartbeat
                elif now >= heartbeat_due.setdefault(page, now + live.settings.heartbeat):
                    page.hub.publish(sse.HEARTBEAT)
                    heartbeat_due[page] = now + live.settings.heartbeat
            feeds = list(live.audit)
            for overview in (*overviews, *feeds):
                if now >= heartbeat_due.setdefault(overview, now + live.settings.heartbeat):
                    overview.hub.publish(sse.HEARTBEAT)
                    heartbeat_due[overview] = now + live.settings.heartbeat
            for page in heartbeat_due.keys() - {*pages, *overviews, *feeds}:  # dropped pages
                del heartbeat_due[page]

    def _notice_reset(self) -> bool:
        """Start over when the store's log went back below the tailer's position: a Redis
        restarted without its data (or from an older snapshot) or emptied. The tailer would
        otherwise wait for ids above its old position, which come again only much later.

        Or when it diverged: after an outage or a failover (Redis Sentinel; replication is
        asynchronous), the new primary may lack the newest items folded here and give their
        ids to new ones, which the tailer would never read. The items remembered are compared
        with the store's; JSON streams end with the newest id both agree on as their farewell
        id, so that they resume with the store's items from there.

        Otherwise JSON streams end with the old position as their farewell id: they reconnect
        with an id above the newest one and get ``event: resync``. Page streams end and
        reconnect to a fresh snapshot of the reloaded views. Returns whether it reloaded.
        """
        live = self.live
        try:
            latest = live.store.latest_id()
            agreed = None
            if self._reload_pending:
                pass
            elif latest < live.view.last_id:
                log.warning("the store's log went back from id %d to %d (emptied, or restored "
                            "from an older copy); reloading every view", live.view.last_id, latest)
                live.json.end_all()
            elif self._suspect:
                agreed = self._agreed()
                self._suspect = False
                if agreed is None:
                    return False
                log.warning("the store's log parted from ours after id %d (a failover lost "
                            "items up to %d); reloading every view", agreed, live.view.last_id)
                live.json.end_all(agreed)
            else:
                return False
            # Pending until every view loaded: a failure half-way is retried at the next sweep.
            self._reload_pending = True
            self._seen.clear()
            live.fleet.load(live.store)
            for page in live.pages:
                page.view.load(live.store)
                page.restart()
            for overview in live.overviews:
                overview.hub.expire(float("inf"))  # each reconnects to a fresh table
            live.audit.reset()
            self._reload_pending = False
            return True
        except StoreUnavailable:
            return False

    def _agreed(self) -> int | None:
        """None if the store holds every remembered item as folded here, else the newest id
        up to which it does (the oldest remembered id - 1 if none agrees).

        :raise StoreUnavailable:
        """
        if not self._seen:
            return None
        first, last = self._seen[0][0], self._seen[-1][0]
        held = {item.id: item.ts for item in self.live.store.since(first - 1, last - first + 1)}
        for item_id, ts in self._seen:
            if held.get(item_id) != ts:
                return item_id - 1
        return None

    def _expire_approvals(self) -> None:
        """Expire the pending approvals of the default view whose deadline passed. Every
        process does it; the store's compare-and-set lets one write each expiry, which comes
        back through the log and leaves every page's list."""
        due = self.live.view.approvals.due(time.time())
        if due:
            try:
                approvals.expire_due(self.live.store, due)
            except StoreUnavailable:
                pass  # the next sweep tries again
