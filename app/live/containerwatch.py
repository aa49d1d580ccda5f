"""The containers of this host: one reader of its engine for the whole deployment.

Every process runs :func:`run_containers`; only the holder of the lease ``containers:<host>``
talks to the engine (:class:`~app.sources.containers.Engine`). It keeps the engine's event
stream open in a greenlet of its own: each event the feed shows is appended as an ``event`` at
once, and wakes the loop, which lists the containers again and stores the list
(:mod:`app.domain.containers`) when what it shows changed. Statistics (CPU, memory, I/O) are read
every ``DASHBOARD_CONTAINER_INTERVAL`` seconds only while someone views the host
(:func:`app.live.viewers.watchers`) or a rule watches a container's CPU or memory; with each
reading, every container's CPU and memory goes to the host's history (at most
``DASHBOARD_CONTAINER_SERIES`` containers a day).

With no engine reachable the source says so once in the log, stores ``engine: None`` (the page
drops its region) and looks again every :data:`RETRY` seconds: an engine that comes back is
picked up without a restart.
"""

from __future__ import annotations

import logging
import time

import gevent
import gevent.event

from app.domain import containers, rules
from app.domain.events import record_event
from app.sources.containers import Engine, EngineOff, addresses
from app.store import Store, StoreUnavailable

from .viewers import watchers

log = logging.getLogger(__name__)

#: Seconds the lease lasts unrenewed: how soon another process reads the engine when its holder dies.
CONTAINERS_LEASE = 3.0
#: Seconds between two looks at the viewers (and lease renewals) while nobody views the host.
IDLE_LOOK = 2.0
#: Seconds between two looks for an engine while none answers.
RETRY = 5.0
#: Seconds between two full lists while nothing happens: events say what changed; this catches
#: what a reconnecting event stream missed.
RELIST = 30.0
#: Seconds between two looks at the rule list (whether a rule needs statistics).
RULES_LOOK = 10.0
#: Rule families that need statistics read even while nobody views the host.
STATS_FAMILIES = ("container_cpu:", "container_memory:")
#: Seconds a container's history series counts against ``DASHBOARD_CONTAINER_SERIES``.
SERIES_DAY = 86400.0


def run_containers(store: Store, settings, owner: str) -> None:
    """Read this host's engine for ever while holding its lease (module docstring); runs in its
    own greenlet, which ``Live.stop`` kills (and with it the events reader).

    :param settings: ``host_name``, ``container_interval``, ``container_series``, ``show_cmdline``.
    :param owner: this process among all that share the store.
    """
    lease = f"containers:{settings.host_name}"
    watch: ContainerWatch | None = None
    try:
        while True:
            # With no engine, a look every RETRY seconds; with one and nobody viewing, every
            # IDLE_LOOK (events wake it at once): an idle dashboard pays next to nothing.
            pause = (1.0 if watch is None or watch.viewed else
                     RETRY if watch.on is False else IDLE_LOOK)
            if watch is not None:
                watch.wake.wait(pause)
                watch.wake.clear()
            else:
                gevent.sleep(pause)
            try:
                if not store.lease(lease, owner, max(CONTAINERS_LEASE, 3 * pause)):
                    if watch is not None:
                        watch.close()
                    watch = None
                    continue
                watch = watch or ContainerWatch(store, settings)
                watch.tick()
            except StoreUnavailable:
                log.warning("containers: store unavailable; list dropped")
            except Exception:  # noqa: BLE001 - one odd answer must not end the source
                log.exception("containers: reading the engine failed")
    finally:
        if watch is not None:
            watch.close()


class ContainerWatch:
    """The lease holder's view of the engine (module docstring); :meth:`tick` once a second or
    when woken.

    :param engine: the :class:`~app.sources.containers.Engine` (tests pass their own).
    :param clock: monotonic seconds (tests pass a fake).
    """

    def __init__(self, store: Store, settings, engine: Engine | None = None,
                 clock=time.monotonic) -> None:
        self.store = store
        self.settings = settings
        self.host = settings.host_name
        self.engine = engine or Engine(cmdline=settings.show_cmdline)
        self.clock = clock
        #: Set by the events reader: list again now rather than at the next second.
        self.wake = gevent.event.Event()
        self.on = None  # None: not looked yet; then whether an engine answered last time
        self.viewed = False  # whether someone viewed the host at the last look
        self._reader: gevent.Greenlet | None = None
        self._reading: gevent.Greenlet | None = None  # a statistics reading under way
        self._changed: set[str] = set()  # ids an event named since the last list
        self._dirty = True
        self._retry_at = self._list_at = self._stats_at = self._rules_at = 0.0
        self._rules_need = False
        self._shown: list[dict] | None = None  # the rows as last stored
        self._series: dict[str, float] = {}  # container name -> when it was last recorded
        self._figures: dict[str, dict] = {}  # id -> the figures of its last statistics reading

    def close(self) -> None:
        """Stop the events reader and drop the connection (lease lost, or shutdown)."""
        for greenlet in (self._reader, self._reading):
            if greenlet is not None:
                greenlet.kill(block=False)
        self._reader = self._reading = None
        self.engine.close()

    def tick(self) -> None:
        """Connect if due, list when an event came or :data:`RELIST` passed, read statistics
        when due and wanted, store the list when it changed.

        :raise app.store.StoreUnavailable: the list or an event could not be written.
        """
        now = self.clock()
        if self.engine.client is None or (self._reader is not None and self._reader.dead):
            if now < self._retry_at:
                return
            self._retry_at = now + RETRY
            if not self.engine.connect():
                self._off("no container engine answers at "
                          + ", ".join(addresses(self.engine.environ)))
                return
            log.info("containers: reading %s at %s", self.engine.version, self.engine.address)
            self.on, self._dirty, self._shown = True, True, None
            self._reader = gevent.spawn(self._read_events)
        try:
            self._list(now)
        except EngineOff as exc:
            self._off(f"the container engine at {self.engine.address} went away ({exc})")

    def _off(self, why: str) -> None:
        if self.on is not False:
            log.warning("containers: %s; the containers source is off until one does", why)
            found = containers.latest(self.store, self.host)
            if found is not None and found.get("engine"):  # take back what the page shows
                containers.record(self.store, self.host, round(time.time(), 3), [], None, False)
        self.on = False
        self.close()

    def _list(self, now: float) -> None:
        watched = self.viewed = bool(watchers(self.store, self.host))
        if now >= self._rules_at:
            self._rules_at = now + RULES_LOOK
            listed = rules.load(self.store) or self.settings.alert_rules
            self._rules_need = any(r.metric.startswith(STATS_FAMILIES) for r in listed)
        reading = self._reading is not None and not self._reading.dead
        stats_due = (watched or self._rules_need) and now >= self._stats_at and not reading
        if not (self._dirty or stats_due or now >= self._list_at):
            return
        changed, self._changed, self._dirty = self._changed, set(), False
        rows = self.engine.rows(changed)
        self._list_at = now + RELIST
        if stats_due:
            # In a greenlet of its own: a reading takes about a second per container on
            # Docker 20.10 (STATS_AT_ONCE at a time), and events must not wait for it.
            self._stats_at = now + self.settings.container_interval
            self._reading = gevent.spawn(self._read_stats, [dict(row) for row in rows])
        for row in rows:  # the figures of the last reading stay until the next one
            row.update(self._figures.get(row["id"], {}) if row["state"] == "running" else {})
        if rows != self._shown:  # idle containers' figures stay alike: nothing to send
            self._shown = rows
            containers.record(self.store, self.host, round(time.time(), 3), rows,
                              self.engine.version, self.settings.show_cmdline)

    def _read_stats(self, rows: list[dict]) -> None:
        """Read every running container's figures, keep them for the lists, record them in
        the history, and wake the loop to store the list. A first reading only primes the CPU
        and rates: the next comes a second later rather than an interval."""
        try:
            self.engine.read_stats(rows)
            self._record_history(rows)
        except EngineOff:
            return  # the next list finds the engine gone
        except StoreUnavailable:
            log.warning("containers: store unavailable; history of a reading dropped")
        running = [row for row in rows if row["state"] == "running"]
        self._figures = {row["id"]: {k: v for k, v in row.items() if k not in BARE}
                         for row in running}
        if any("cpu_percent" not in row for row in running):
            self._stats_at = min(self._stats_at, self.clock() + 1.0)
        self._dirty = True
        self.wake.set()

    def _record_history(self, rows: list[dict]) -> None:
        """CPU (percent of one CPU) and memory used (bytes) of each running container with
        figures, as ``container_cpu:<name>`` and ``container_memory:<name>``; a container not
        among the ``DASHBOARD_CONTAINER_SERIES`` recorded in the last day is left out."""
        wall, now = time.time(), self.clock()
        self._series = {n: t for n, t in self._series.items() if now - t < SERIES_DAY}
        values = {}
        for row in rows:
            if row.get("cpu_percent") is None:
                continue
            name = row["name"]
            if name not in self._series and len(self._series) >= self.settings.container_series:
                continue
            self._series[name] = now
            values[f"container_cpu:{name}"] = float(row["cpu_percent"])
            values[f"container_memory:{name}"] = float(row.get("mem_used") or 0)
        if values:
            self.store.record_history(self.host, wall, values)

    def _read_events(self) -> None:
        """The events reader: feed each event, note its container, wake the loop; ends (and
        is started again by :meth:`tick`) when the stream fails."""
        events = self.engine.events()
        try:
            for event in events:
                feed = containers.event_of(event, self.host)
                if feed is not None:
                    try:
                        record_event(self.store, feed)
                    except StoreUnavailable:
                        log.warning("containers: store unavailable; event dropped")
                self._changed.add(event["id"])
                self._dirty = True
                self.wake.set()
        except EngineOff as exc:
            log.info("containers: the event stream ended (%s)", exc)
            self.wake.set()
        finally:
            events.close()  # its client's socket, also when the reader is killed


#: What a row holds without statistics (the rest are the figures of a reading).
BARE = ("id", "name", "image", "state", "exit_code", "oom_killed", "health", "started",
        "restarts", "command")
