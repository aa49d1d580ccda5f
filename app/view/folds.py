"""The bounded lists a :class:`~app.view.regions.LiveView` keeps: alerts by id, tasks by id and
custom series by key, each folded in with the newest kept and the oldest dropped past the bounds of
:mod:`app.view.catalog`."""

from __future__ import annotations

from collections import OrderedDict

from app.domain import custom as custom_mod
from app.domain import tasks as tasks_mod
from app.store import Item, Store

from .catalog import FIRING_KEPT, RESOLVED_SHOWN, TASKS_KEPT, TASKS_SHOWN


def fold_task(tasks: OrderedDict[str, Item], item: Item) -> None:
    """Keep ``item`` as its task's latest (``tasks``: task_id -> item, least recently updated
    first), at most :data:`~app.view.catalog.TASKS_KEPT` tasks."""
    tasks.pop(item.data["task_id"], None)
    tasks[item.data["task_id"]] = item  # re-inserted: "last updated last"
    while len(tasks) > TASKS_KEPT:
        tasks.popitem(last=False)


def fold_alert(alerts: dict[str, dict], alert: dict) -> None:
    """Keep ``alert`` by id in ``alerts`` (last changed last): every firing one up to
    :data:`~app.view.catalog.FIRING_KEPT`, the latest :data:`~app.view.catalog.RESOLVED_SHOWN`
    resolved."""
    alerts.pop(alert["id"], None)
    alerts[alert["id"]] = alert  # re-inserted: dict order is "last changed last"
    resolved = [key for key, a in alerts.items() if a["state"] != "firing"]
    for key in resolved[:-RESOLVED_SHOWN]:
        del alerts[key]
    firing = [key for key, a in alerts.items() if a["state"] == "firing"]
    for key in firing[:-FIRING_KEPT]:
        del alerts[key]


def task_summary(tasks: OrderedDict[str, Item]) -> dict:
    """What the tasks region shows (:func:`app.domain.tasks.summary`) over the tasks kept,
    most recently updated first."""
    return tasks_mod.summary([item.data for item in reversed(tasks.values())],
                             shown=TASKS_SHOWN, kept=TASKS_KEPT)


class CustomSeries:
    """Each custom series' latest reading, by series key, at most
    ``app.domain.custom.MAX_SERIES`` (the store's cap); a view's ``custom`` region shows them.

    :param panel: the view's chart panel, told of each reading and of each series dropped.
    """

    def __init__(self, panel) -> None:
        self.panel = panel
        self.latest: dict[str, dict] = {}  # series key -> its latest reading

    def load(self, store: Store, items: list[Item]) -> None:
        """Start again from ``items`` (``custom`` log items, oldest first), then the state's
        latest reading of each series they no longer mention."""
        self.latest.clear()
        for item in items:
            self.fold(item.data)
        for key, reading in custom_mod.latest(store).items():
            if key not in self.latest:
                self.latest[key] = reading
                self.panel.fold_custom(reading)

    def fold(self, data: dict) -> None:
        """Fold one ``custom`` item's ``data`` (``{"metrics": [reading, ...]}``)."""
        for reading in data.get("metrics", ()):
            self.latest[reading["key"]] = reading
            self.panel.fold_custom(reading)
        # The store caps the series; an old item may still name one dropped since: keep the newest.
        while len(self.latest) > custom_mod.MAX_SERIES:
            oldest = min(self.latest, key=lambda k: self.latest[k]["ts"])
            del self.latest[oldest]
            self.panel.forget_custom([oldest])

    def shown(self) -> list[dict]:
        """The readings by series key, each with its ``slug`` (the id of its chart)."""
        return [{**self.latest[key], "slug": custom_mod.slug(key)} for key in sorted(self.latest)]
