"""Alert rules at run time: one list in the store, shared by every worker and host, and the
evaluation of that list for every host that reports.

The list is the state ``rules`` = ``{"rules": [rule, ...], "updated_at": unix s, "by": str}``,
written as a ``rules`` log item so that every process's tailer sees a change at once.
``DASHBOARD_ALERT_RULES`` only seeds a store that has no list yet (:func:`seed`);
``PUT /api/v1/rules`` replaces it (:func:`replace`).

:class:`FleetEvaluator` keeps one :class:`~app.domain.alerts.Evaluator` per host; one process of
the deployment runs it (``app.live.rulerunner``), so each sample is evaluated once.
"""

from __future__ import annotations

import functools
import time

from app.store import Store

from . import alerts
from .alerts import AlertRule, Change, Evaluator
from .i18n import N_, Text, with_text

STATE_KEY = "rules"
#: Rules a list may hold: each is checked on every sample of every host.
MAX_RULES = 200


@functools.cache
def _validator():
    """Pydantic's validator of a list of rules, built at the first :func:`parse`: pydantic is
    imported then, not by a worker that only loads the stored list (``app.domain.alertrule``)."""
    from pydantic import TypeAdapter

    return TypeAdapter(list[AlertRule])


def parse(data) -> tuple[AlertRule, ...]:
    """Validate a JSON list of rules as ``DASHBOARD_ALERT_RULES`` is validated.

    :raise pydantic.ValidationError: a rule is malformed (field paths in ``errors()``).
    :raise ValueError: names repeat, or more than :data:`MAX_RULES`.
    """
    rules = tuple(_validator().validate_python(data))
    if len(rules) > MAX_RULES:
        raise ValueError(f"at most {MAX_RULES} rules")
    return alerts.check_names(rules)


def dump(rules) -> list[dict]:
    """The rules as JSON objects (``for`` under its own name; :meth:`AlertRule.stored`)."""
    return [rule.stored() for rule in rules]


def restore(data) -> tuple[AlertRule, ...]:
    """The rules of a list that :func:`dump` wrote (the stored state's, a ``rules`` log
    item's), built without pydantic: the list was validated before it was written
    (:func:`replace`, :func:`seed`). A list that does not fit (another version's) goes through
    :func:`parse` instead, which imports pydantic, and takes it or says what is wrong.

    :raise pydantic.ValidationError, ValueError: as :func:`parse`, for a list that does not fit.
    """
    try:
        return alerts.check_names(tuple(AlertRule.from_stored(rule) for rule in data))
    except (TypeError, ValueError):
        return parse(data)


def load(store: Store) -> tuple[AlertRule, ...] | None:
    """The stored list (:func:`restore`), or None when the store has none yet."""
    state = store.get_state(STATE_KEY)
    return None if state is None else restore(state["rules"])


def replace(store: Store, rules, by: str, now: float | None = None) -> dict:
    """Store ``rules`` (already validated) as the list every process uses; return the state.

    :raise StoreUnavailable: nothing was written.
    """
    state = {"rules": dump(rules), "updated_at": time.time() if now is None else now, "by": by}
    store.append("rules", state, state_key=STATE_KEY)
    return state


def seed(store: Store, defaults) -> None:
    """Store ``defaults`` (``DASHBOARD_ALERT_RULES``) unless the store has a list already.

    State only, no log item: every process starts with the same list from its settings (or the
    store's), so there is no change to tell anyone; two processes starting at once may both
    write it, harmlessly.
    """
    if store.get_state(STATE_KEY) is None:
        store.set_state(STATE_KEY, {"rules": dump(defaults), "updated_at": time.time(),
                                    "by": "DASHBOARD_ALERT_RULES"})


class FleetEvaluator:
    """The rules evaluated for every host that reports, one :class:`Evaluator` per host.

    :param rules: the current list.
    :param firing: the firing alerts in the store; each host's evaluator adopts those its
        rules raised (a takeover from another process, or a restart).
    """

    def __init__(self, rules, firing: list[dict]) -> None:
        self.rules = tuple(rules)
        self._firing = [a for a in firing if a.get("source") == "rule" and a.get("host")]
        self._hosts: dict[str, Evaluator] = {}

    def evaluate(self, sample: dict, now: float, containers: bool = False) -> list[Change]:
        """The changes one host ``sample`` (with its ``host``) causes at Unix time ``now``; with
        ``containers``, one containers list (``Evaluator.evaluate``)."""
        host = sample["host"]
        evaluator = self._hosts.get(host)
        if evaluator is None:
            evaluator = self._hosts[host] = Evaluator(self.rules, host)
            evaluator.resume([a for a in self._firing if a["host"] == host])
        return evaluator.evaluate(sample, now, containers)

    def set_rules(self, rules, now: float) -> list[Change]:
        """Switch to ``rules``; return the resolutions of alerts whose rule is gone (or no
        longer watches their host). A rule kept under its name keeps its firing alert, which
        resolves by the new condition."""
        self.rules = tuple(rules)
        changes = []
        for host, old in self._hosts.items():
            new = Evaluator(self.rules, host)
            kept = {rule.name for rule in new.rules}
            firing = [dict(alert) for alert in old.firing()]
            new.resume([alert for alert in firing if alert["name"] in kept])
            for alert in firing:
                if alert["name"] not in kept:
                    changes.append(Change(
                        {**alert, "state": "resolved", "ended_at": now},
                        with_text({"level": "info", "source": f"{host} · {alert['name']}",
                                   "ts": now},
                                  Text(N_("Resolved: %(name)s (rule removed)"),
                                       name=alert["name"]))))
            self._hosts[host] = new
        self._firing = [a for a in self._firing if a["host"] not in self._hosts]
        return changes

    def forget(self, host: str, now: float) -> list[Change]:
        """``host`` was forgotten (``app.domain.hosts``): drop its evaluator and return the
        resolutions of the alerts its rules raised, which nothing would resolve any more. If
        it reports again it starts afresh."""
        evaluator = self._hosts.pop(host, None)
        # Its evaluator's, and those stored firing that it did not adopt (their rule is gone);
        # those it adopted may have resolved since the snapshot.
        adopted = {rule.name for rule in evaluator.rules} if evaluator else set()
        firing = {a["id"]: dict(a) for a in self._firing
                  if a["host"] == host and a.get("name") not in adopted}
        firing.update((a["id"], dict(a)) for a in (evaluator.firing() if evaluator else ()))
        self._firing = [a for a in self._firing if a["host"] != host]
        return [Change({**alert, "state": "resolved", "ended_at": now},
                       with_text({"level": "info", "source": f"{host} · {alert['name']}",
                                  "ts": now}, Text(N_("Resolved: %(name)s (host forgotten)"),
                                                   name=alert["name"])))
                for alert in firing.values()]
