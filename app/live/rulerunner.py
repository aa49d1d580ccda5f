"""The rule runner: one process of the deployment (the lease ``evaluator``) checks the alert
rules against every host sample in the log, the dashboards' own and the agents' alike.

Every process runs :func:`run_rules`; the holder reads the log after its cursor (the state
:data:`CURSOR_KEY`, so a process that takes over goes on where the last holder stopped; the
first holder starts where its process's views did),
evaluates each ``metrics`` and ``containers`` item once with :class:`~app.domain.rules.FleetEvaluator`, switches
to a new rule list at its ``rules`` item, resolves a forgotten host's alerts at its
``host-forgotten`` item, writes the transitions and moves the cursor. Its
tailer hands it what it read (:class:`Inbox`), so a sample is evaluated within moments of
being stored and the log is not read and decoded a second time; the runner reads the log itself
only for what the tailer's batches do not cover (after taking over, or when the inbox was full).
"""

from __future__ import annotations

import logging
import time
from collections import deque

import gevent
import gevent.event

from app.domain import alerts, containers, hosts, rules
from app.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

#: State key of the runner's position in the log: ``{"id": last evaluated log id}``.
CURSOR_KEY = "evaluator:cursor"
#: Seconds the lease lasts unrenewed (like the sampler's): how soon another process evaluates.
RULES_LEASE = 3.0
_LOOK = 1.0  # seconds between two renewals with nothing to wake the runner
#: The kinds of log item the rules read.
KINDS = frozenset({"metrics", containers.KIND, "rules", hosts.KIND})


class Inbox:
    """What the tailer read, for the rule runner: batches ``(after, last, items)``, where
    ``items`` are the items of :data:`KINDS` among every log item with ``after < id <= last``.

    Holds at most ``size`` batches (a process that does not hold the lease reads none of them;
    the oldest go first); ``due`` is set when a batch brings an item of those kinds.
    """

    def __init__(self, size: int = 256) -> None:
        self._batches: deque[tuple[int, int, list]] = deque(maxlen=size)
        self.due = gevent.event.Event()

    def put(self, after: int, items: list) -> None:
        """Note the items the tailer read after id ``after`` (oldest first, at least one)."""
        wanted = [item for item in items if item.kind in KINDS]
        self._batches.append((after, items[-1].id, wanted))
        if wanted:
            self.due.set()

    def take(self) -> list[tuple[int, int, list]]:
        """Every batch held, oldest first; the inbox is empty afterwards."""
        batches = list(self._batches)
        self._batches.clear()
        return batches


def run_rules(store: Store, settings, owner: str, inbox: Inbox, start: int) -> None:
    """Evaluate the rules forever while holding the lease (module docstring); runs in its own
    greenlet, which ``Live.stop`` kills.

    :param settings: ``alert_rules`` (the list used while the store has none).
    :param inbox: what the tailer read; its ``due`` wakes the runner.
    :param start: the log id this process started from (its views'): with no cursor stored
        yet, the rules evaluate every item after it, those appended before this greenlet
        first ran included.
    """
    fleet: rules.FleetEvaluator | None = None
    cursor = 0
    lease = _Lease(store, owner)
    while True:
        inbox.due.wait(_LOOK)
        inbox.due.clear()
        read = inbox.take()
        try:
            if not lease.held():
                fleet = None
                continue
            if fleet is None:
                fleet, cursor = _take_over(store, settings, start)
            cursor = _catch_up(store, fleet, cursor, lease, read)
        except StoreUnavailable:
            fleet = None  # start over from the stored cursor once the store answers
        except Exception:  # noqa: BLE001 - one odd sample must not stop every rule
            log.exception("rules: evaluation failed")
            fleet = None


class _Lease:
    """The ``evaluator`` lease as this process last saw it, asked of the store at most once a
    :data:`_LOOK`: with many agents the tailer wakes every process many times a second, and a
    look at the store for each wake cost the deployment more than the rules did. The holder
    renews it at most two looks apart, well within :data:`RULES_LEASE`, so nobody else can
    hold it while this process believes it does."""

    def __init__(self, store: Store, owner: str) -> None:
        self.store, self.owner = store, owner
        self._held, self._at = False, float("-inf")  # the last answer, time.monotonic() of it

    def held(self) -> bool:
        """Whether this process holds the lease (taken or renewed now if a look is due).

        :raise StoreUnavailable: the store did not answer.
        """
        now = time.monotonic()
        if now - self._at >= _LOOK:
            self._held, self._at = False, now
            self._held = self.store.lease("evaluator", self.owner, RULES_LEASE)
        return self._held


def _take_over(store: Store, settings, start: int) -> tuple[rules.FleetEvaluator, int]:
    """The evaluator state a new holder starts from: the stored rules, the firing alerts, and
    the cursor (``start`` if none is stored; the newest id if the log no longer has it)."""
    listed = rules.load(store)
    fleet = rules.FleetEvaluator(settings.alert_rules if listed is None else listed,
                                 alerts.all_alerts(store, state="firing"))
    stored = store.get_state(CURSOR_KEY)
    cursor = stored["id"] if stored else start
    if cursor < store.first_id() - 1 or cursor > store.latest_id():
        cursor = store.latest_id()  # trimmed meanwhile, or a log that went back: start now
    return fleet, cursor


def _catch_up(store: Store, fleet: rules.FleetEvaluator, cursor: int, lease: _Lease,
              read: list[tuple[int, int, list]] = ()) -> int:
    """Evaluate every item after ``cursor``: from the tailer's batches ``read``
    (:meth:`Inbox.take`) while they follow on from it, then from the log if they did not or
    there were none. Return the new cursor (stored after each batch)."""
    start, covered = cursor, bool(read)
    for after, last, items in read:
        if after > cursor:
            # Items between the cursor and this batch are in no batch (read before this
            # process took the lease, or dropped from a full inbox): the log has them.
            covered = False
            break
        for item in items:
            if item.id > cursor:
                _evaluate(store, fleet, item)
        cursor = max(cursor, last)
    if covered:
        if cursor != start:
            store.set_state(CURSOR_KEY, {"id": cursor})
        return cursor
    while batch := store.since(cursor):
        for item in batch:
            _evaluate(store, fleet, item)
        cursor = batch[-1].id
        store.set_state(CURSOR_KEY, {"id": cursor})
        if not lease.held():
            break  # a long catch-up outlived the lease: the new holder goes on from the cursor
    return cursor


def _evaluate(store: Store, fleet: rules.FleetEvaluator, item) -> None:
    """Evaluate one log item (any kind: those the rules do not read are passed over) and
    record the alert transitions it makes."""
    try:
        if item.kind == "metrics" and item.data.get("host"):
            changes = fleet.evaluate(item.data, now=item.data.get("ts") or item.ts)
        elif item.kind == containers.KIND and item.data.get("engine"):
            # With no engine the list says nothing: its rules neither fire nor resolve.
            changes = fleet.evaluate(containers.rule_sample(item.data), now=item.ts,
                                     containers=True)
        elif item.kind == "rules":
            changes = fleet.set_rules(rules.restore(item.data["rules"]), now=item.ts)
        elif item.kind == hosts.KIND and item.data.get("host"):
            changes = fleet.forget(item.data["host"], now=item.ts)
        else:
            return
    except Exception:  # noqa: BLE001 - skipped, not retried for ever
        log.exception("rules: log item %d could not be evaluated; skipped", item.id)
        return
    for change in changes:
        alerts.record(store, change)
