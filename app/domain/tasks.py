"""Tasks pushed in by other programs: storing and listing their updates.

A task update is one ``task`` log item whose data is a :class:`~app.domain.schemas.Task` dump,
and the same data is the state under ``task:<task_id>``. ``PUT /api/v1/tasks/<id>``, the
simulator's ``task-run`` scenario and anything else go through :func:`update_task`. The
per-task event stream is ``app.live.tasks``.
"""

from __future__ import annotations

import heapq
import time
from typing import TYPE_CHECKING

from app.store import Store

from .payloads import FINAL_STATES

if TYPE_CHECKING:
    from .schemas import TaskIn


def state_key(task_id: str) -> str:
    """The store state key of a task: ``task:<task_id>``."""
    return f"task:{task_id}"


class TaskIsFinal(Exception):
    """The task already succeeded or failed; ``task`` is its stored state (the API answers 409)."""

    def __init__(self, task: dict) -> None:
        super().__init__(f"task {task['task_id']!r} already {task['state']}; it takes no more updates")
        self.task = task


def update_task(store: Store, task_id: str, spec: TaskIn) -> dict:
    """Store ``spec`` as the new state of ``task_id`` and return it as a :class:`Task` dict.

    ``updated_at`` is set here (Unix seconds). ``task_id`` must already match
    :data:`~app.domain.payloads.TASK_ID_PATTERN`.

    :raise TaskIsFinal: the stored state is ``succeeded`` or ``failed``; nothing is written.
    :raise app.store.StoreUnavailable: nothing was written.
    """
    from .schemas import Task  # loaded by the first update, not at start (docs/performance.md)

    # Read then append with no greenlet switch between them (sqlite3 calls do not yield), so
    # two updates in one process cannot both pass the check. Across processes the last one wins.
    current = store.get_state(state_key(task_id))
    if current is not None and current["state"] in FINAL_STATES:
        raise TaskIsFinal(current)
    task = Task(task_id=task_id, updated_at=round(time.time(), 3), **spec.model_dump()).model_dump()
    store.append("task", task, state_key=state_key(task_id))
    return task


def list_tasks(store: Store, limit: int) -> list[dict]:
    """The ``limit`` most recently updated tasks, newest first (picked, not the whole list
    sorted)."""
    return heapq.nlargest(limit, store.states("task:").values(), key=lambda t: t["updated_at"])


def summary(tasks: list[dict], *, shown: int, kept: int) -> dict:
    """Sum up ``tasks`` (task dicts, most recently updated first, at most ``kept``).

    :return: ``shown`` (up to ``shown`` tasks, running first, then the most recently updated),
        ``total``, ``succeeded``, ``failed``, ``success_rate`` (percent of the finished ones,
        None before any finished) and ``capped`` (``kept`` tasks are held: older ones dropped).
    """
    running = [t for t in tasks if t["state"] == "running"]
    others = [t for t in tasks if t["state"] != "running"]
    succeeded = sum(t["state"] == "succeeded" for t in tasks)
    failed = sum(t["state"] == "failed" for t in tasks)
    finished = succeeded + failed
    return {
        "shown": (running + others)[:shown],
        "total": len(tasks),
        "succeeded": succeeded,
        "failed": failed,
        "success_rate": round(100 * succeeded / finished, 1) if finished else None,
        "capped": len(tasks) >= kept,
    }
