"""The background greenlets of one worker process: the sampler and the tailer.

- The sampler (one per process for now) reads the host with :class:`~app.sampler.HostSampler`
  every ``DASHBOARD_SAMPLE_INTERVAL`` seconds, appends the sample to the store, then checks the
  alert rules on it (:class:`~app.alerts.Evaluator`) and stores the transitions.
- The tailer follows the store's log, folds new items into the :class:`~app.regions.LiveView`,
  encodes each change once as an SSE message and hands the bytes to the :class:`~app.hub.Hub`.
  It also sends the heartbeat comment and, at most once a second, the viewer count, and hands
  ``task`` items to the task streams (:class:`~app.tasks.TaskWatchers`).
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
from .regions import LiveView
from .sampler import METRICS, HostSampler
from .simhost import SimulatedHost
from .store import Store, StoreUnavailable
from .tasks import TaskWatchers

log = logging.getLogger(__name__)

#: Milliseconds a browser waits before it reconnects after the server ended a stream.
RECONNECT_MS = 1000
_VIEWERS_REFRESH = 5.0  # seconds between two rewrites of an unchanged viewer count
_VIEWERS_STALE = 15.0  # seconds after which a process's viewer count no longer counts
#: Seconds a sampler lease lasts unrenewed: how soon another worker samples when its holder dies.
SAMPLER_LEASE = 3.0
_IDLE_POLL = 1.0  # seconds between two looks at the store for other processes' writes, unwatched
#: State key of the simulator's host mode, ``{"enabled": bool}``: in the store so every worker
#: (and whichever holds the sampler) agrees.
SIMULATED_HOST_KEY = "simulator:host"


class Live:
    """Owns the store, the view and the hub of one process and the greenlets that feed them.

    :param settings: the validated :class:`~app.config.Settings`.
    """

    def __init__(self, settings, store: Store, view: LiveView) -> None:
        self.settings = settings
        self.store = store
        self.view = view
        self.hub = Hub(settings.queue_size)
        self.tasks = TaskWatchers(settings.queue_size)
        self.json = JsonStreams(view, settings.queue_size, settings.heartbeat, RECONNECT_MS)
        self._greenlets: list[gevent.Greenlet] = []
        self._snapshot: bytes | None = None
        #: This process among all that share the store: ``host:pid:random``.
        self.owner = f"{settings.host_name}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._viewers_written: tuple[int, float] = (-1, 0.0)  # (count, Unix seconds)
        self._jobs: set[gevent.Greenlet] = set()

    # -- what streams and polls read ------------------------------------------------------
    def snapshot(self) -> bytes:
        """Every region and the LIVE badge as one SSE message, encoded once per change."""
        if self._snapshot is None:
            self._snapshot = sse.encode(self.view.fragments(self.view.regions, "live"),
                                        id=self.view.last_id, retry=RECONNECT_MS)
        return self._snapshot

    def farewell(self) -> bytes:
        """The last message of a stream that the server ends: reconnect after ``retry`` ms."""
        return sse.encode("", id=self.view.last_id, retry=RECONNECT_MS)

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Load the view and start the greenlets; calling it again does nothing."""
        if self._greenlets:
            return
        self.view.load(self.store)
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
        self.hub.close_all()
        self.tasks.close_all()
        self.json.close_all()
        gevent.killall([*self._greenlets, *self._jobs], block=False)
        self._greenlets.clear()

    # -- the tailer -------------------------------------------------------------------------
    def _tail(self) -> None:
        heartbeat_due = time.monotonic() + self.settings.heartbeat
        expire_due = time.monotonic() + 1.0
        while True:
            try:
                # Other processes' writes need polling (SQLite). Each wake-up costs CPU even
                # when nothing changed, so look every DASHBOARD_TAIL_INTERVAL only while someone
                # watches a stream (page, JSON or task); otherwise page loads and polls may show a
                # view up to a second old.
                watched = len(self.hub) or len(self.tasks) or len(self.json)
                poll = self.settings.tail_interval if watched else _IDLE_POLL
                # Back in time for the next heartbeat or lifetime sweep, whichever is first.
                timeout = max(min(heartbeat_due, expire_due) - time.monotonic(), 0.01)
                items = self.store.wait(self.view.last_id, timeout, poll)
            except Exception:  # noqa: BLE001 - a store hiccup must not end the live updates
                log.exception("tailer: store read failed; retrying in 1 s")
                gevent.sleep(1.0)
                items = []  # streams still get their heartbeats and lifetimes meanwhile
            changed = self.view.apply(items) if items else []
            if items:
                # Right after apply, with no greenlet switch in between: the JSON streams'
                # replay relies on every item up to view.last_id having been fed (app.jsonstream).
                self.json.feed(items)
                self.tasks.feed(items)
            now = time.monotonic()
            self.json.tick(now)
            if now >= expire_due:
                self.hub.expire(now)
                expire_due = now + 1.0
                if self._count_viewers():
                    changed.append("viewers")
            if changed:
                self._snapshot = None
                self.hub.publish(sse.encode(self.view.fragments(changed, "live"),
                                            id=self.view.last_id))
                heartbeat_due = now + self.settings.heartbeat
            elif now >= heartbeat_due:
                self.hub.publish(sse.HEARTBEAT)
                heartbeat_due = now + self.settings.heartbeat

    def _count_viewers(self) -> bool:
        """Share this process's stream count through the store and show the total of every
        live process (all workers, all hosts); return True if the viewers region changed.

        Each process keeps ``viewers:<owner>`` = ``{"count", "ts"}``, rewritten when it changes
        and every _VIEWERS_REFRESH seconds; entries older than _VIEWERS_STALE seconds belong to
        processes that died and are not counted. Without the store, the own count is shown.
        """
        own, wall = len(self.hub), time.time()
        try:
            written, written_at = self._viewers_written
            if own != written or wall - written_at >= _VIEWERS_REFRESH:
                self.store.set_state(f"viewers:{self.owner}", {"count": own, "ts": wall})
                self._viewers_written = (own, wall)
            counts = self.store.states("viewers:").values()
            total = sum(c["count"] for c in counts if wall - c["ts"] < _VIEWERS_STALE)
        except StoreUnavailable:
            total = own
        return self.view.set_viewers(total)

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
                    # Just took the lease: the constructor primes psutil's counters, so the
                    # first sample comes one interval later; alerts resume where the last
                    # holder left them.
                    sampler = HostSampler(settings.host_name, settings.disk_path)
                    evaluator = alerts.Evaluator(settings.alert_rules, settings.host_name)
                    evaluator.resume(alerts.all_alerts(self.store))
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
