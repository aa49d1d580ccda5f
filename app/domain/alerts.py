"""Alerts: threshold rules evaluated on host samples, and alerts raised by programs.

An alert is a dict, the same in the store, the JSON API and the templates::

    {"id": "3f2a...", "name": "cpu-high", "level": "warning"|"error"|"critical",
     "state": "firing"|"resolved", "message": "CPU above 90 % for 30 s",
     "host": "web1"|None, "metric": "cpu_percent"|None, "source": "rule"|"api"|...,
     "started_at": unix s, "ended_at": unix s|None, "value": float|None, "peak": float|None,
     "acked_by": str|None, "acked_at": unix s|None}

A rule's alert, and every event made here, also keeps its sentence as ``text``
(:data:`app.domain.i18n.TEXT`) for pages in other languages; the JSON API leaves it out.

Every change appends the full alert as an ``alert`` log item with state key ``alert:<id>``
(:func:`save`), so the page's tailer sees it and ``GET /api/v1/alerts`` reads the state table.
Nothing here knows Flask; :class:`Evaluator` keeps its timers in memory and is pure (it is given
the time), so tests drive it with a fake clock.
"""

from __future__ import annotations

import heapq
import time
import uuid
from typing import NamedTuple

from app.store import Store

# AlertRule and its kin live in .alertrule; imported here too, where callers have long found them.
from .alertrule import (DEFAULT_RULES, RULE_METRICS, AlertLevel, AlertRule,  # noqa: F401
                        check_names)
from .i18n import N_, Text, with_text
from .samplekeys import expand, is_container_key, metric_of, value_of

STATE_PREFIX = "alert:"


class Change(NamedTuple):
    """What one evaluation wants written: the alert's new fields and an event (or None)."""

    alert: dict
    event: dict | None


def new_id() -> str:
    """A fresh alert id: 16 hex digits, safe in a URL path and an HTML id."""
    return uuid.uuid4().hex[:16]


def _slot(rule: AlertRule, key: str | None) -> str:
    """The timer slot of ``rule`` on ``key``: its name, or name and item for a pattern's item."""
    return rule.name if key in (None, rule.metric) else f"{rule.name}\x00{key}"


def _unit(metric: str) -> str:
    unit = metric_of(metric).unit
    return f" {unit}" if unit else ""


class Evaluator:
    """Turn a stream of host samples into alert transitions, one rule at a time.

    A rule fires once its condition has held on every sample for ``for`` seconds, tracks the
    worst value (``peak``) while firing, and resolves on the first sample where it no longer
    holds. Run it in the one process that samples the host, so each host evaluates once.

    :param rules: the rules (those whose ``hosts`` pattern misses ``host`` are left out).
    :param host: the host whose samples are evaluated; alerts carry it.
    """

    def __init__(self, rules, host: str) -> None:
        self.rules = tuple(rule for rule in rules if rule.applies_to(host))
        self.host = host
        self._since: dict[str, float] = {}   # rule name -> when its condition started holding
        self._firing: dict[str, dict] = {}   # rule name -> the alert it has firing

    def resume(self, alerts: list[dict]) -> None:
        """Adopt firing alerts this host's rules raised before a restart, so they can resolve."""
        by_name = {rule.name: rule for rule in self.rules}
        for alert in alerts:
            if (alert.get("state") == "firing" and alert.get("source") == "rule"
                    and alert.get("host") == self.host and alert.get("name") in by_name):
                slot = _slot(by_name[alert["name"]], alert.get("metric"))
                self._firing[slot] = dict(alert)
                self._since[slot] = alert["started_at"]

    def firing(self) -> list[dict]:
        """The alerts this evaluator has firing."""
        return list(self._firing.values())

    def evaluate(self, sample: dict, now: float, containers: bool = False) -> list[Change]:
        """Check every rule against ``sample`` at Unix time ``now`` (seconds): the rules on
        host figures for a host sample, those on containers (``container_*`` keys) for a
        containers list (``containers``, as :func:`app.domain.containers.rule_sample` makes it).

        :return: the changes to write, in order: a firing alert with a warning-or-worse event,
            a peak update without event, or a resolved alert with an info event.
        """
        changes = []
        for rule in self.rules:
            if is_container_key(rule.metric) == containers:
                for slot, key, value in self._targets(rule, sample):
                    changes += self._check(rule, slot, key, value, now)
        return changes

    def _targets(self, rule: AlertRule, sample: dict) -> list[tuple[str, str, float | None]]:
        """(timer slot, key, value) of each item ``rule`` watches: one, or one per item its
        pattern matches, plus those firing that no longer match (a removed container: no
        value, so its alert resolves)."""
        found = expand(sample, rule.metric)
        if found is None:
            return [(rule.name, rule.metric, value_of(sample, rule.metric))]
        for alert in self._firing.values():
            if alert["name"] == rule.name:
                found.setdefault(alert["metric"], None)
        return [(_slot(rule, key), key, value) for key, value in found.items()]

    def _check(self, rule: AlertRule, slot: str, key: str, value, now: float) -> list[Change]:
        firing = self._firing.get(slot)
        if not rule.holds(value):
            self._since.pop(slot, None)
            if firing:
                del self._firing[slot]
                return [self._resolve(rule, firing, value, now)]
            return []
        since = self._since.setdefault(slot, now)
        if firing:
            peak = rule.worse(firing["peak"], value)
            if peak != firing["peak"]:
                firing.update(peak=peak, value=value)
                return [Change(dict(firing), None)]
        elif now - since >= rule.for_:
            condition = rule.condition(key)
            alert = with_text({
                "id": new_id(), "name": rule.name, "level": rule.level, "state": "firing",
                "host": self.host, "metric": key,
                "source": "rule", "started_at": since, "ended_at": None,
                "value": value, "peak": value,
            }, condition)
            self._firing[slot] = alert
            return [Change(dict(alert), with_text({
                "level": rule.level, "source": f"{self.host} · {rule.name}", "ts": now},
                condition))]
        return []

    def _resolve(self, rule: AlertRule, alert: dict, value, now: float) -> Change:
        unit = _unit(rule.metric)
        now_text = Text(N_("no value")) if value is None else f"{float(value):g}{unit}"
        done = {**alert, "state": "resolved", "ended_at": now, "value": value}
        return Change(done, with_text({
            "level": "info", "source": f"{self.host} · {rule.name}", "ts": now},
            Text(N_("Resolved: %(condition)s (now %(now)s, peak %(peak)s)"),
                 condition=rule.condition(alert.get("metric")), now=now_text,
                 peak=f"{alert['peak']:g}{unit}")))


# -- the store side ---------------------------------------------------------------------------

def get(store: Store, alert_id: str) -> dict | None:
    """The alert with ``alert_id``, or None."""
    return store.get_state(STATE_PREFIX + alert_id)


def all_alerts(store: Store, limit: int | None = None, state: str | None = None) -> list[dict]:
    """The alerts in the state table (only those in ``state``, if given), firing first (newest
    first), then resolved (newest first); with ``limit``, at most that many (chosen before
    sorting, not after)."""
    alerts = [a for a in store.states(STATE_PREFIX).values() if state in (None, a["state"])]
    return sort(alerts, limit)


def sort(alerts: list[dict], limit: int | None = None) -> list[dict]:
    """Firing alerts first, each group newest first (by ``started_at`` / ``ended_at``); with
    ``limit``, the first ``limit`` of that order."""
    count = len(alerts) if limit is None else limit
    firing = heapq.nlargest(count, (a for a in alerts if a["state"] == "firing"),
                            key=lambda a: a["started_at"])
    resolved = heapq.nlargest(count - len(firing), (a for a in alerts if a["state"] != "firing"),
                              key=lambda a: a.get("ended_at") or 0)
    return firing + resolved


def save(store: Store, alert: dict) -> dict:
    """Write ``alert`` as an ``alert`` log item and as state ``alert:<id>``; return it.

    :raise StoreUnavailable: nothing was written.
    """
    store.append("alert", alert, state_key=STATE_PREFIX + alert["id"])
    return alert


def record(store: Store, change: Change) -> dict | None:
    """Write one :class:`Change` of the evaluator, merged over what the store holds.

    Merging keeps fields others wrote (an acknowledgement); an alert someone resolved through
    the API stays resolved: the evaluator's later peak updates and resolution are dropped.
    (Read and write are two statements: two processes evaluating one host could interleave;
    one process of the deployment evaluates, ``app.live.rulerunner``.)
    """
    stored = get(store, change.alert["id"])
    if stored is not None and stored["state"] == "resolved":
        return None
    alert = save(store, {**(stored or {}), **change.alert})
    if change.event is not None:
        store.append("event", change.event)
    return alert


def raise_alert(store: Store, *, name: str, level: str, message: str, source: str | None,
                now: float | None = None) -> dict:
    """Store a firing alert that a program raised, and an event for the feed; return it."""
    now = time.time() if now is None else now
    alert = {"id": new_id(), "name": name, "level": level, "state": "firing",
             "message": message, "host": None, "metric": None, "source": source or "api",
             "started_at": now, "ended_at": None, "value": None, "peak": None}
    save(store, alert)
    store.append("event", {"level": level, "message": f"{name}: {message}",
                           "source": source or "api", "ts": now})
    return alert


def resolve(store: Store, alert_id: str, now: float | None = None) -> dict | None:
    """Resolve the alert (a no-op if it is resolved already); None for an unknown id."""
    alert = get(store, alert_id)
    if alert is None or alert["state"] == "resolved":
        return alert
    now = time.time() if now is None else now
    alert = save(store, {**alert, "state": "resolved", "ended_at": now})
    resolved = Text(N_("Resolved: %(name)s"), name=alert["name"])
    store.append("event", with_text({"level": "info", "source": alert.get("source") or "api",
                                     "ts": now}, resolved))
    return alert


def acknowledge(store: Store, alert_id: str, by: str, now: float | None = None) -> dict | None:
    """Record who acknowledged the alert and when (Unix s); None for an unknown id."""
    alert = get(store, alert_id)
    if alert is None:
        return None
    now = time.time() if now is None else now
    return save(store, {**alert, "acked_by": by, "acked_at": now})
