"""The background greenlets of one worker process: the sampler and the tailer.

- The sampler (one per process for now) reads the host with :class:`~app.sampler.HostSampler`
  every ``DASHBOARD_SAMPLE_INTERVAL`` seconds, appends the sample to the store, then checks the
  alert rules on it (:class:`~app.alerts.Evaluator`) and stores the transitions.
- The tailer follows the store's log, folds new items into the :class:`~app.fleet.Fleet` and
  into the :class:`~app.regions.LiveView` of every viewed host (``app.pages``), encodes each
  page's change once as an SSE message and hands the bytes to that page's
  :class:`~app.hub.Hub`. It also sends the heartbeat comment and, about once a second, the
  viewer count and the fleet row (whose hosts turn stale with time alone), and hands ``task``
  items to the task streams (:class:`~app.tasks.TaskWatchers`).
- While the simulator's host mode is on (state :data:`SIMULATED_HOST_KEY`), the sampler takes
  its readings from :class:`~app.simhost.SimulatedHost` instead of psutil.

Nothing here runs per client: the cost of a change does not grow with the number of viewers.
"""

from __future__ import annotations

import logging
import os
import time
import uuid

import gevent

from . import alerts, sse
from .hub import Hub
from .jsonstream import JsonStreams
from .pages import RECONNECT_MS, Page, Pages
from .regions import LiveView
from .sampler import METRICS, HostSampler
from .simhost import SimulatedHost
from .store import Store, StoreUnavailable
from .tasks import TaskWatchers

log = logging.getLogger(__name__)

_VIEWERS_REFRESH = 5.0  # seconds between two rewrites of an unchanged viewer count
_VIEWERS_STALE = 15.0  # seconds after which a process's viewer count no longer counts
#: Seconds a sampler lease lasts unrenewed: how soon another worker samples when its holder dies.
SAMPLER_LEASE = 3.0
#: Seconds between priming psutil's CPU counters and the first sample: long enough for a
#: meaningful cpu_percent, short enough that a takeover leaves no visible gap.
_PRIME = 0.25
_IDLE_POLL = 1.0  # seconds between two looks at the store for other processes' writes, unwatched
#: State key of the simulator's host mode, ``{"enabled": bool}``: in the store so every worker
#: (and whichever holds the sampler) agrees.
SIMULATED_HOST_KEY = "simulator:host"


class Live:
    """Owns the store, the fleet, the pages (view and hub per viewed host) of one process and
    the greenlets that feed them.

    :param settings: the validated :class:`~app.config.Settings`.
    :param view: the view of this dashboard's own host; other hosts' views are its siblings.

    ``on_viewers``, ``on_sent`` and ``on_drop`` (``app.ops`` sets them) are called like the
    :class:`~app.hub.Hub` hooks of the same names, for every page's hub; ``on_viewers`` gets
    the total over all of them.
    """

    def __init__(self, settings, store: Store, view: LiveView) -> None:
        self.settings = settings
        self.store = store
        self.fleet = view.fleet
        self.on_viewers = self.on_sent = self.on_drop = None
        self._stopped = False
        self.pages = Pages(Page(view, self._hub()), self._open_page, self._known)
        self.tasks = TaskWatchers(settings.queue_size)
        self.json = JsonStreams(view, settings.queue_size, settings.heartbeat, RECONNECT_MS)
        self._greenlets: list[gevent.Greenlet] = []
        #: This process among all that share the store: ``host:pid:random``.
        self.owner = f"{settings.host_name}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._viewers_written: tuple[int, float] = (-1, 0.0)  # (count, Unix seconds)
        self._jobs: set[gevent.Greenlet] = set()
        self._reload_pending = False  # the store's log went back; the views still need loading

    # -- what streams and polls read ------------------------------------------------------
    @property
    def view(self) -> LiveView:
        """The view of this dashboard's own host (``DASHBOARD_HOST_NAME``)."""
        return self.pages.default.view

    @property
    def hub(self) -> Hub:
        """The hub of the streams of this dashboard's own host."""
        return self.pages.default.hub

    def page(self, host: str | None = None) -> Page:
        """The view and hub of ``host`` (None: this dashboard's own), made on first use.

        :raise app.pages.UnknownHost: no sample of ``host`` is known (404).
        :raise app.pages.TooManyPages: :data:`~app.pages.MAX_PAGES` hosts are watched (503).
        """
        return self.pages.get(host)

    def viewers_here(self) -> int:
        """Open streams of this process, over every page."""
        return sum(len(hub) for hub in self.pages.hubs())

    def _known(self, host: str) -> bool:
        return host == self.settings.host_name or host in self.fleet

    def _open_page(self, host: str) -> Page:
        view = self.view.sibling(host)
        view.viewers = self.view.viewers  # the same total on every page
        view.load(self.store)
        return Page(view, self._hub())

    def _hub(self) -> Hub:
        hub = Hub(self.settings.queue_size, on_count=self._counted,
                  on_sent=lambda n: self.on_sent and self.on_sent(n),
                  on_drop=lambda: self.on_drop and self.on_drop())
        if self._stopped:
            hub.close_all()  # made after shutdown began: its streams end at once
        return hub

    def _counted(self, _count: int) -> None:
        if self.on_viewers is not None:
            self.on_viewers(self.viewers_here())

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        """Whether :meth:`start` ran (and :meth:`stop` did not): the views are current."""
        return bool(self._greenlets)

    def start(self) -> None:
        """Load the fleet and the views and start the greenlets; calling it again does nothing."""
        if self._greenlets:
            return
        self.fleet.load(self.store)
        for page in self.pages:
            page.view.load(self.store)
        self._greenlets.append(gevent.spawn(self._tail))
        if self.settings.sampler:
            self._greenlets.append(gevent.spawn(self._sample))

    def spawn(self, function, *args) -> gevent.Greenlet:
        """Run ``function(*args)`` in a greenlet that :meth:`stop` kills (simulator runs)."""
        greenlet = gevent.spawn(function, *args)
        self._jobs.add(greenlet)
        greenlet.link(self._jobs.discard)
        return greenlet

    def stop(self) -> None:
        """End every stream and stop the greenlets (worker shutdown)."""
        try:
            self.store.set_state(f"viewers:{self.owner}", None)  # no longer counted at once
        except StoreUnavailable:
            pass
        self._stopped = True
        for hub in self.pages.hubs():
            hub.close_all()
        self.tasks.close_all()
        self.json.close_all()
        gevent.killall([*self._greenlets, *self._jobs], block=False)
        self._greenlets.clear()

    # -- the tailer -------------------------------------------------------------------------
    def _tail(self) -> None:
        heartbeat_due: dict[Page, float] = {}  # per page: a page with no change still pings
        expire_due = time.monotonic() + 1.0
        failing = False  # the last store.wait raised
        while True:
            # Back in time for the next heartbeat or lifetime sweep, whichever is first.
            due = min([expire_due, *heartbeat_due.values()])
            try:
                # Other processes' writes need polling (SQLite). Each wake-up costs CPU even
                # when nothing changed, so look every DASHBOARD_TAIL_INTERVAL only while someone
                # watches a stream (page, JSON or task); otherwise page loads and polls may show a
                # view up to a second old.
                watched = self.viewers_here() or len(self.tasks) or len(self.json)
                poll = self.settings.tail_interval if watched else _IDLE_POLL
                timeout = max(due - time.monotonic(), 0.01)
                # The default page is never dropped and folds every item: its last id is the
                # tailer's cursor (a page made later starts at or after it).
                items = self.store.wait(self.view.last_id, timeout, poll)
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
                failing = False
            if items:
                self.fleet.apply(items)
                self.tasks.feed(items)
            pages = list(self.pages)
            changed = {page: page.view.apply(items) if items else [] for page in pages}
            if items:
                # Right after the views' apply, with no greenlet switch in between: the JSON
                # streams' replay relies on every item up to view.last_id having been fed
                # (app.jsonstream).
                self.json.feed(items)
            now = time.monotonic()
            self.json.tick(now)
            if now >= expire_due:
                expire_due = now + 1.0
                # While the store is down, no look at it here: each failing call costs its
                # retries, and the heartbeats would wait for them.
                if not failing:
                    self._notice_reset()
                total = self.viewers_here() if failing else self._count_viewers()
                for page in pages:
                    page.hub.expire(now)
                    if page.view.set_viewers(total):
                        changed[page].append("viewers")
                    if page.view.refresh_fleet():
                        changed[page].append("fleet")
            for page in pages:
                if changed[page]:
                    page.publish(changed[page])
                    heartbeat_due[page] = now + self.settings.heartbeat
                elif now >= heartbeat_due.setdefault(page, now + self.settings.heartbeat):
                    page.hub.publish(sse.HEARTBEAT)
                    heartbeat_due[page] = now + self.settings.heartbeat
            for page in heartbeat_due.keys() - set(pages):  # dropped pages
                del heartbeat_due[page]

    def _notice_reset(self) -> None:
        """Start over when the store's log went back below the tailer's position: a Redis
        restarted without its data (or from an older snapshot) or emptied. The tailer would
        otherwise wait for ids above its old position, which come again only much later.

        JSON streams end first, with the old position as their farewell id: they reconnect
        with an id above the newest one and get ``event: resync``. Page streams end and
        reconnect to a fresh snapshot of the reloaded views.
        """
        try:
            latest = self.store.latest_id()
            if latest >= self.view.last_id and not self._reload_pending:
                return
            if not self._reload_pending:
                log.warning("the store's log went back from id %d to %d (emptied, or restored "
                            "from an older copy); reloading every view", self.view.last_id, latest)
                self.json.end_all()
            # Pending until every view loaded: a failure half-way is retried at the next sweep.
            self._reload_pending = True
            self.fleet.load(self.store)
            for page in self.pages:
                page.view.load(self.store)
                page.restart()
            self._reload_pending = False
        except StoreUnavailable:
            pass

    def _count_viewers(self) -> int:
        """Share this process's stream count (every page's hub) through the store and return
        the total of every live process (all workers, all hosts).

        Each process keeps ``viewers:<owner>`` = ``{"count", "ts"}``, rewritten when it changes
        and every _VIEWERS_REFRESH seconds; entries older than _VIEWERS_STALE seconds belong to
        processes that died and are not counted. Without the store, the own count is shown.
        """
        own, wall = self.viewers_here(), time.time()
        try:
            written, written_at = self._viewers_written
            if own != written or wall - written_at >= _VIEWERS_REFRESH:
                self.store.set_state(f"viewers:{self.owner}", {"count": own, "ts": wall})
                self._viewers_written = (own, wall)
            counts = self.store.states("viewers:").values()
            total = sum(c["count"] for c in counts if wall - c["ts"] < _VIEWERS_STALE)
        except StoreUnavailable:
            total = own
        return total

    # -- the sampler ------------------------------------------------------------------------
    def _sample(self) -> None:
        # Every worker (on every host sharing the store) runs this loop, but only the holder of
        # the lease ``sampler:<host>`` samples and checks the alert rules; if it dies, another
        # takes over within SAMPLER_LEASE seconds.
        settings = self.settings
        owner = self.owner
        lease = f"sampler:{settings.host_name}"
        ttl = max(SAMPLER_LEASE, 3 * settings.sample_interval)
        sampler: HostSampler | None = None
        evaluator: alerts.Evaluator | None = None
        simulated: SimulatedHost | None = None
        interval = settings.sample_interval
        next_at = time.monotonic()
        while True:
            gevent.sleep(max(next_at - time.monotonic(), 0))
            # Keep the schedule fixed (no drift), but never try to catch up on missed ticks.
            next_at = max(next_at + interval, time.monotonic())
            try:
                if not self.store.lease(lease, owner, ttl):
                    sampler = evaluator = None
                    continue
                if sampler is None:
                    # Just took the lease: the constructor primes psutil's counters; alerts
                    # resume where the last holder left them. The first sample comes after
                    # _PRIME seconds, not a whole interval: on a takeover the host has gone
                    # unsampled for a lease's length already.
                    sampler = HostSampler(settings.host_name, settings.disk_path)
                    evaluator = alerts.Evaluator(settings.alert_rules, settings.host_name)
                    evaluator.resume(alerts.all_alerts(self.store))
                    next_at = time.monotonic() + min(interval, _PRIME)
                    continue
                mode = self.store.get_state(SIMULATED_HOST_KEY) if settings.simulator else None
                if mode and mode.get("enabled"):
                    simulated = simulated or SimulatedHost(settings.host_name)
                    reading = simulated.sample()
                else:
                    # Dropped when the mode ends, so the next run starts from calm values.
                    simulated = None
                    reading = sampler.sample()
                sample = apply_override(reading,
                                        self.store.get_state(override_key(settings.host_name)))
                self.store.append("metrics", sample, state_key=f"sample:{settings.host_name}")
                # After the append: an alert's event never precedes the sample that raised it.
                for change in evaluator.evaluate(sample, now=sample["ts"]):
                    alerts.record(self.store, change)
            except StoreUnavailable:
                log.warning("sampler: store unavailable; sample dropped")
            except Exception:  # noqa: BLE001 - one bad reading must not stop sampling
                log.exception("sampler: sample failed")


def override_key(host: str) -> str:
    """State key under which the simulator keeps metric overrides for ``host``."""
    return f"override:{host}"


def apply_override(sample: dict, override: dict | None) -> dict:
    """Replace values of ``sample`` by the simulator's ``override`` while it has not expired.

    ``override`` is ``{"values": {metric key: number}, "until": unix seconds}``.
    """
    if not override or override.get("until", 0) < time.time():
        return sample
    values = {k: v for k, v in override.get("values", {}).items() if k in METRICS}
    return {**sample, **values}
