"""Alerts: threshold rules evaluated on host samples, and alerts raised by programs.

An alert is a dict, the same in the store, the JSON API and the templates::

    {"id": "3f2a...", "name": "cpu-high", "level": "warning"|"error"|"critical",
     "state": "firing"|"resolved", "message": "CPU above 90 % for 30 s",
     "host": "web1"|None, "metric": "cpu_percent"|None, "source": "rule"|"api"|...,
     "started_at": unix s, "ended_at": unix s|None, "value": float|None, "peak": float|None,
     "acked_by": str|None, "acked_at": unix s|None}

Every change appends the full alert as an ``alert`` log item with state key ``alert:<id>``
(:func:`save`), so the page's tailer sees it and ``GET /api/v1/alerts`` reads the state table.
Nothing here knows Flask; :class:`Evaluator` keeps its timers in memory and is pure (it is given
the time), so tests drive it with a fake clock.
"""

from __future__ import annotations

import fnmatch
import heapq
import time
import uuid
from typing import Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.store import Store

from .samplekeys import FAMILIES, FLAT_KEYS, known_keys, metric_of, valid_key, value_of

AlertLevel = Literal["warning", "error", "critical"]
STATE_PREFIX = "alert:"
_OPS = {">": (float.__gt__, "above"), ">=": (float.__ge__, "at or above"),
        "<": (float.__lt__, "below"), "<=": (float.__le__, "at or below")}
#: Flat sample keys a rule may watch (per-item keys too: ``app.domain.samplekeys``).
RULE_METRICS = FLAT_KEYS
#: What ``metric`` may be, for the JSON Schema of rules (OpenAPI): a flat key, or
#: ``<family>:<item>`` with the item's grammar (``valid_key`` checks the same).
_METRIC_SCHEMA = {"anyOf": [{"enum": list(RULE_METRICS)}]
                  + [{"pattern": f"^{family}:{grammar[1:]}"}
                     for family, (*_, grammar, _metric) in FAMILIES.items()]}


class AlertRule(BaseModel):
    """One threshold rule: ``{"metric", "op", "value", "for", "level", "name", "hosts"}``.

    ``for`` is in seconds (0 fires on the first sample that matches); ``metric`` is a key of a
    host sample (``app.sources.sample.METRICS``) or a per-item key such as ``disk_percent:/var``
    (``app.domain.samplekeys``), compared in that metric's unit; ``hosts`` is a shell-style
    pattern (``web*``, ``db[12]``) of the host names the rule watches, every host by default.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True,
                              defer_build=True)

    metric: Annotated[str, Field(json_schema_extra=_METRIC_SCHEMA)]
    op: Literal[">", ">=", "<", "<="]
    value: Annotated[float, Field(allow_inf_nan=False)]
    for_: Annotated[float, Field(alias="for", ge=0, allow_inf_nan=False)] = 0.0
    level: AlertLevel = "warning"
    name: Annotated[str, Field(min_length=1, max_length=200)]
    hosts: Annotated[str, Field(min_length=1, max_length=253)] = "*"

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        if not valid_key(value):
            raise ValueError(f"unknown metric {value!r}; known: {known_keys()}")
        return value

    def applies_to(self, host: str) -> bool:
        """Whether the rule watches ``host`` (its ``hosts`` pattern, case-sensitive)."""
        return fnmatch.fnmatchcase(host, self.hosts)

    def holds(self, value: float | None) -> bool:
        """Whether ``value`` meets the condition; a missing value (no sensor) never does."""
        return value is not None and _OPS[self.op][0](float(value), self.value)

    def describe(self) -> str:
        """The condition in words: ``"CPU above 90 % for 30 s"``."""
        metric = metric_of(self.metric)
        unit = f" {metric.unit}" if metric.unit else ""
        return f"{metric.label} {_OPS[self.op][1]} {self.value:g}{unit} for {self.for_:g} s"

    def worse(self, a: float, b: float) -> float:
        """The value further into the alert zone: the max for ``>``/``>=``, else the min."""
        return max(a, b) if self.op.startswith(">") else min(a, b)


DEFAULT_RULES: tuple[AlertRule, ...] = (
    AlertRule(metric="cpu_percent", op=">", value=90, **{"for": 30}, level="warning", name="cpu-high"),
    AlertRule(metric="mem_percent", op=">", value=95, **{"for": 60}, level="critical", name="memory-high"),
    AlertRule(metric="disk_percent", op=">", value=95, **{"for": 60}, level="critical", name="disk-full"),
)


def check_names(rules: tuple[AlertRule, ...]) -> tuple[AlertRule, ...]:
    """Return ``rules`` if their names are unique (the evaluator keys its timers by name).

    :raise ValueError: naming the repeated names.
    """
    names = [rule.name for rule in rules]
    doubles = sorted({name for name in names if names.count(name) > 1})
    if doubles:
        raise ValueError(f"rule names must be unique; repeated: {', '.join(doubles)}")
    return rules


class Change(NamedTuple):
    """What one evaluation wants written: the alert's new fields and an event (or None)."""

    alert: dict
    event: dict | None


def new_id() -> str:
    """A fresh alert id: 16 hex digits, safe in a URL path and an HTML id."""
    return uuid.uuid4().hex[:16]


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
        names = {rule.name for rule in self.rules}
        for alert in alerts:
            if (alert.get("state") == "firing" and alert.get("source") == "rule"
                    and alert.get("host") == self.host and alert.get("name") in names):
                self._firing[alert["name"]] = dict(alert)
                self._since[alert["name"]] = alert["started_at"]

    def firing(self) -> list[dict]:
        """The alerts this evaluator has firing."""
        return list(self._firing.values())

    def evaluate(self, sample: dict, now: float) -> list[Change]:
        """Check every rule against ``sample`` at Unix time ``now`` (seconds).

        :return: the changes to write, in order: a firing alert with a warning-or-worse event,
            a peak update without event, or a resolved alert with an info event.
        """
        changes = []
        for rule in self.rules:
            value = value_of(sample, rule.metric)
            firing = self._firing.get(rule.name)
            if not rule.holds(value):
                self._since.pop(rule.name, None)
                if firing:
                    del self._firing[rule.name]
                    changes.append(self._resolve(rule, firing, value, now))
                continue
            since = self._since.setdefault(rule.name, now)
            if firing:
                peak = rule.worse(firing["peak"], value)
                if peak != firing["peak"]:
                    firing.update(peak=peak, value=value)
                    changes.append(Change(dict(firing), None))
            elif now - since >= rule.for_:
                alert = {
                    "id": new_id(), "name": rule.name, "level": rule.level, "state": "firing",
                    "message": rule.describe(), "host": self.host, "metric": rule.metric,
                    "source": "rule", "started_at": since, "ended_at": None,
                    "value": value, "peak": value,
                }
                self._firing[rule.name] = alert
                changes.append(Change(dict(alert), {
                    "level": rule.level, "message": rule.describe(),
                    "source": f"{self.host} · {rule.name}", "ts": now}))
        return changes

    def _resolve(self, rule: AlertRule, alert: dict, value, now: float) -> Change:
        unit = _unit(rule.metric)
        now_text = "no value" if value is None else f"{float(value):g}{unit}"
        done = {**alert, "state": "resolved", "ended_at": now, "value": value}
        return Change(done, {
            "level": "info",
            "message": f"Resolved: {rule.describe()} (now {now_text}, peak {alert['peak']:g}{unit})",
            "source": f"{self.host} · {rule.name}", "ts": now})


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
    store.append("event", {"level": "info", "message": f"Resolved: {alert['name']}",
                           "source": alert.get("source") or "api", "ts": now})
    return alert


def acknowledge(store: Store, alert_id: str, by: str, now: float | None = None) -> dict | None:
    """Record who acknowledged the alert and when (Unix s); None for an unknown id."""
    alert = get(store, alert_id)
    if alert is None:
        return None
    now = time.time() if now is None else now
    return save(store, {**alert, "acked_by": by, "acked_at": now})
