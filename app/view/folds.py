"""The bounded lists a :class:`~app.view.regions.LiveView` keeps: alerts by id and tasks by id,
each folded in with the newest kept and the oldest dropped past the bounds of
:mod:`app.view.catalog`."""

from __future__ import annotations

from collections import OrderedDict

from app.domain import tasks as tasks_mod
from app.store import Item

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
