"""A host's containers in the store: a ``containers`` log item and the ``containers:<host>``
state, ``{"host", "ts", "engine", "containers": [...]}``.

``engine`` names the engine (``Docker 20.10.24``), or is None while none answers: then the page
shows no containers region and the rules on containers neither fire nor resolve. Rows are as
:func:`app.sources.containers.row_of` makes them, with the figures of
:meth:`app.sources.containers.Engine.read_stats` while someone views the host or a rule needs
them. Written by the one reader of the host's engine (``app.live.containerwatch``) and by
``POST /api/v1/samples`` for an agent run with ``--containers``; read by the page's region, the
fleet (counts), the rule runner, the history and ``GET /api/v1/containers?host=``.
"""

from __future__ import annotations

import time

from app.store import Store

from .i18n import N_, Text, with_text

KIND = "containers"
#: Orders the region may be sorted by (``?containers=``): the row key each sorts on, highest first.
SORTS = {"cpu": "cpu_percent", "memory": "mem_used"}
#: Words of a container's state that count as running (every other counts as stopped).
RUNNING = ("running", "paused")
#: The level each count gives its host (``app.domain.fleet``): an unhealthy container is
#: failing now; a stopped one may be a finished job, or a service that died.
COUNT_LEVELS = {"unhealthy": "critical", "stopped": "warning"}


def state_key(host: str) -> str:
    """The state key of ``host``'s latest list."""
    return f"containers:{host}"


def entry(host: str, ts: float, rows: list[dict], engine: str | None,
          cmdline: bool) -> tuple[str, dict, str]:
    """What :func:`record` appends: ``(kind, data, state key)`` (``Store.append_batch``).

    :param cmdline: keep the rows' ``command`` (``DASHBOARD_SHOW_CMDLINE``); without it they are
        dropped here, so no command (it may hold secrets) is stored or shown.
    """
    if not cmdline:
        rows = [{k: v for k, v in row.items() if k != "command"} for row in rows]
    return KIND, {"host": host, "ts": ts, "engine": engine, "containers": rows}, state_key(host)


def record(store: Store, host: str, ts: float, rows: list[dict], engine: str | None,
           cmdline: bool) -> int:
    """Append ``host``'s list taken at Unix time ``ts`` from ``engine`` (:func:`entry`); return
    its log id.

    :raise app.store.StoreUnavailable: nothing was written.
    """
    kind, data, key = entry(host, ts, rows, engine, cmdline)
    return store.append(kind, data, state_key=key)


def latest(store: Store, host: str) -> dict | None:
    """``host``'s latest list ``{"host", "ts", "engine", "containers"}``, or None."""
    return store.get_state(state_key(host))


def counts(rows: list[dict]) -> dict[str, int]:
    """``{"running", "stopped", "unhealthy"}``: how many rows are in each (a paused container
    counts as running; unhealthy ones count as running too)."""
    running = sum(1 for row in rows if row.get("state") in RUNNING)
    return {"running": running, "stopped": len(rows) - running,
            "unhealthy": sum(1 for row in rows if row.get("health") == "unhealthy")}


def level(found: dict | None) -> str:
    """The level a host's containers give it: ``critical`` with an unhealthy one, ``warning``
    with a stopped one, else ``ok`` (and ``ok`` with no engine)."""
    if not found or not found.get("engine"):
        return "ok"
    tally = counts(found["containers"])
    return next((lvl for name, lvl in COUNT_LEVELS.items() if tally[name]), "ok")


def ranked(rows: list[dict], sort: str = "cpu") -> list[dict]:
    """Running containers first, by ``sort`` (a key of :data:`SORTS`) highest first, then the
    others, the latest to stop first; ties by name."""
    key = SORTS[sort]
    running = sorted((r for r in rows if r.get("state") in RUNNING),
                     key=lambda r: (-(r.get(key) or 0), r["name"]))
    others = sorted((r for r in rows if r.get("state") not in RUNNING),
                    key=lambda r: (-(r.get("started") or 0), r["name"]))
    return running + others


def with_uptime(rows: list[dict], now: float | None = None) -> list[dict]:
    """``rows`` with ``uptime`` (seconds since it started, running ones; else None)."""
    now = time.time() if now is None else now
    return [{**row, "uptime": max(int(now - row["started"]), 0)
             if row.get("state") in RUNNING and row.get("started") else None} for row in rows]


def rule_sample(found: dict) -> dict:
    """What the ``container_*`` rules read of a containers list (``app.domain.samplekeys``):
    ``{"host", "ts", "containers": [{"name", "not_running", "unhealthy", "cpu_percent",
    "mem_percent"}]}``; a figure not read yet is None (the rule neither fires nor resolves)."""
    return {"host": found["host"], "ts": found.get("ts"), "containers": [
        {"name": row["name"], "not_running": 0 if row.get("state") == "running" else 1,
         "unhealthy": 1 if row.get("health") == "unhealthy" else 0,
         "cpu_percent": row.get("cpu_percent"), "mem_percent": row.get("mem_percent")}
        for row in found.get("containers") or ()]}


#: The feed's sentence for each engine action but ``die`` and ``health_status`` (placeholders:
#: ``name``, and ``signal`` for ``kill``), and its level where it is not ``info``.
_EVENT_TEXTS = {"start": N_("%(name)s started"),
                "oom": N_("%(name)s ran out of memory (killed by the OOM killer)"),
                "kill": N_("%(name)s was sent signal %(signal)s"),
                "restart": N_("%(name)s restarted"),
                "stop": N_("%(name)s was stopped"),
                "pause": N_("%(name)s was paused"),
                "unpause": N_("%(name)s was unpaused"),
                "destroy": N_("%(name)s was removed")}
_EVENT_LEVELS = {"oom": "error", "kill": "warning", "restart": "warning"}


def event_of(event: dict, host: str) -> dict | None:
    """The feed's event for one engine event (:meth:`app.sources.containers.Engine.events`):
    ``{"level", "message", "source"}``, or None for an action the feed leaves out."""
    name, action = event.get("name") or event.get("id") or "?", event["action"]
    code, signal = event.get("exit_code"), event.get("signal")
    if action == "die":
        failed = str(code) not in ("0", "None")
        found = ("warning" if failed else "info",
                 Text(N_("%(name)s exited with code %(code)s"), name=name, code=str(code)))
    elif action.startswith("health_status"):
        status = action.partition(":")[2].strip() or "unknown"
        # The engine's word (healthy, unhealthy, starting: app.view.words.CONTAINER_STATES).
        found = ("error" if status == "unhealthy" else "info",
                 Text(N_("%(name)s is %(status)s"), name=name, status=Text(status)))
    else:
        message = _EVENT_TEXTS.get(action)
        found = None if message is None else (
            _EVENT_LEVELS.get(action, "info"),
            Text(message, name=name, **({"signal": str(signal)} if action == "kill" else {})))
    if found is None:
        return None
    return with_text({"level": found[0], "source": f"{host} · containers"}, found[1])
