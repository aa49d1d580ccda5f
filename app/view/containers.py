"""What the containers region and the Containers card show (``templates/_containers.html``,
``templates/_container-counts.html``), from a host's latest list (:mod:`app.domain.containers`).

Each row gets a level for its colour, beside the state and health in words: ``ok`` (running,
healthy or without a check), ``warning`` (paused, restarting, health check starting, exited
with a code other than 0), ``critical`` (unhealthy, dead, killed for memory) and ``stale``
(exited with 0, created: nothing wrong, nothing running).
"""

from __future__ import annotations

import time

from app.domain import containers as containers_mod

#: The names of the regions this module gives their variables to.
REGIONS = ("container-counts", "containers")


def row_level(row: dict) -> str:
    """A row's level (module docstring)."""
    state, health = row.get("state"), row.get("health")
    if health == "unhealthy" or state == "dead" or row.get("oom_killed"):
        return "critical"
    if state in ("paused", "restarting") or health == "starting":
        return "warning"
    if state == "running":
        return "ok"
    return "warning" if row.get("exit_code") not in (0, None) else "stale"


def context(name: str, found: dict | None, sort: str = "cpu", now: float | None = None) -> dict:
    """The template variables of region ``name`` (:data:`REGIONS`) for ``found`` (a host's
    latest list, or None); ``sort`` orders the table (a key of
    :data:`app.domain.containers.SORTS`).

    ``on``: an engine answered (else the templates render an empty, hidden root); the card's
    ``counts`` and ``level``; the table's ``rows`` (each with ``level`` and ``uptime`` in
    seconds), ``sort``, ``engine`` and whether commands are shown (``cmdline``).
    """
    on = bool(found and found.get("engine"))
    rows = found["containers"] if on else []
    if name == "container-counts":
        return {"on": on, "counts": containers_mod.counts(rows),
                "level": containers_mod.level(found)}
    shown = containers_mod.with_uptime(containers_mod.ranked(rows, sort),
                                       time.time() if now is None else now)
    return {"on": on, "rows": [{**row, "level": row_level(row)} for row in shown],
            "sort": sort, "engine": found.get("engine") if on else None,
            "cmdline": any("command" in row for row in rows)}
