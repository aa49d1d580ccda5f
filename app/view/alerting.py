"""What the alert cards and the rules region show besides the alerts themselves: the silences
that cover an alert, its notifications' delivery state, and the rule list.

:class:`AlertNotes` folds the ``silence``, ``notify`` and ``rules`` log items the tailer sees,
so every page marks a silenced alert, shows "sent" / "retrying" / "failed" and lists the rules
as soon as they change.
"""

from __future__ import annotations

import time

from app.domain import alerts as alerts_mod
from app.domain import outbox
from app.domain import silences as silences_mod
from app.domain.rules import STATE_KEY as RULES_KEY
from app.store import Item, Store

#: Log kinds folded here, and the region each one changes.
KINDS = {"silence": "alerts", "notify": "alerts", "rules": "rules"}


class AlertNotes:
    """Silences (active ones, by id), delivery states (by alert id) and the rule list."""

    def __init__(self) -> None:
        self.silences: dict[str, dict] = {}
        self.delivery: dict[str, dict] = {}
        self.rules: dict = {"rules": [], "updated_at": None, "by": None}

    def load(self, store: Store) -> None:
        """Read the active silences, the delivery states and the rules from the store."""
        self.silences = {s["id"]: s for s in silences_mod.active(store)}
        self.delivery = {alert_id: record["delivery"]
                         for alert_id, record in outbox.records(store).items()
                         if record.get("delivery")}
        self.rules = store.get_state(RULES_KEY) or self.rules

    def fold(self, item: Item) -> None:
        """Take one ``silence``, ``notify`` or ``rules`` item (:data:`KINDS`)."""
        if item.kind == "silence":
            self.silences[item.data["id"]] = item.data
        elif item.kind == "notify" and item.data.get("delivery"):
            self.delivery[item.data["alert"]] = item.data["delivery"]
        elif item.kind == "rules":
            self.rules = item.data

    def ended(self, now: float | None = None) -> bool:
        """Whether a silence shown as active has ended since (its alerts need redrawing)."""
        now = time.time() if now is None else now
        return any(s["ends_at"] <= now for s in self.silences.values())

    def decorate(self, alerts: list[dict], now: float | None = None) -> list[dict]:
        """``alerts`` each with ``silence`` (the silence covering it, or None) and
        ``delivery`` (its notifications' state, or None); ended silences are dropped."""
        now = time.time() if now is None else now
        self.silences = {k: s for k, s in self.silences.items() if s["ends_at"] > now}
        active = list(self.silences.values())
        return [{**alert, "silence": silences_mod.covering(active, alert, now),
                 "delivery": self.delivery.get(alert["id"])} for alert in alerts]

    def region(self, name: str, alerts: dict[str, dict]) -> dict:
        """What the ``rules`` template gets (``rules``), or the ``alerts`` one: ``alerts``
        (the view's, sorted, through :meth:`decorate`), ``firing`` and ``resolved`` counts."""
        if name == "rules":
            return {"rules": self.rules}
        listed = self.decorate(alerts_mod.sort(list(alerts.values())))
        firing = sum(1 for a in listed if a["state"] == "firing")
        return {"alerts": listed, "firing": firing, "resolved": len(listed) - firing}
