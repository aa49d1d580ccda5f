"""The simulator under ``/simulator`` (only when ``DASHBOARD_SIMULATOR=1``): test data on demand.

Everything it injects goes through the store like real input, so the page, the stream and the
poll endpoint show it exactly as they would show the real thing. The page's control panel posts
to the twin routes under ``/ui/simulator`` (:data:`ui_bp`), which call the same functions and
are guarded like every page action (``app.web.auth.check_ui``).

Its payload schemas are imported by the views that use them: they load on the first request
that needs them, and a worker at rest never imports pydantic (``docs/performance.md``).
"""

from __future__ import annotations

import random
import time

import gevent
from flask import Blueprint, current_app, jsonify, request

from app.domain.events import record_event
from app.domain.history_fill import fill
from app.domain.i18n import N_, Text, with_text
from app.domain.tasks import update_task
from app.live.sampling import SIMULATED_HOST_KEY, override_key

from .errors import error_response
from .payload import parse
from .access import needs

bp = Blueprint("simulator", __name__, url_prefix="/simulator")
ui_bp = Blueprint("simulator_ui", __name__, url_prefix="/ui/simulator")

_SAMPLES = {
    "info": ["deploy finished", "backup completed", "cache warmed", "user signed in"],
    "warning": ["disk filling up", "slow response from upstream", "retrying job"],
    "error": ["job failed", "upstream returned 502", "certificate renewal failed"],
    "critical": ["database unreachable", "out of memory: process killed"],
}
#: Seconds the task-run scenario takes from 0 to 100 % (10 steps).
TASK_RUN_SECONDS = 8.0


def _live():
    return current_app.extensions["dashboard"]


@bp.post("/events")
@needs("ingest")
def events():
    """Store ``count`` events (default 1), random unless ``level``/``message`` are given.

    Returns 201 with ``{"ids": [...]}``.
    """
    from app.domain.schemas import SimulatedEvents

    spec = parse(SimulatedEvents)
    store = _live().store
    ids = []
    for _ in range(spec.count):
        level = spec.level or random.choice(list(_SAMPLES))
        message = spec.message or random.choice(_SAMPLES[level])
        ids.append(record_event(store, {"level": level, "message": message, "source": spec.source}))
    return jsonify({"ids": ids}), 201


def override(values: dict[str, float], seconds: float) -> dict:
    """Show ``values`` instead of sampled ones for ``seconds``; return the stored override.

    A new override replaces the previous one (scenarios included).
    """
    stored = {"values": values, "until": time.time() + seconds}
    _live().store.set_state(override_key(current_app.config["SETTINGS"].host_name), stored)
    return stored


@bp.post("/metrics")
@needs("ingest")
def metrics():
    """Show ``values`` instead of the sampled ones for ``seconds`` seconds (from the next sample).

    Body: ``{"values": {"cpu_percent": 97}, "seconds": 10}``. Returns 200 with the override and
    ``until`` (Unix seconds). A new override replaces the previous one.
    """
    from app.domain.schemas import MetricOverride

    spec = parse(MetricOverride)
    return jsonify(override(spec.values, spec.seconds))


# -- scenarios ----------------------------------------------------------------------------------

def _cpu_spike(seconds: float | None) -> dict:
    return {"override": override({"cpu_percent": round(random.uniform(97, 99), 1)},
                                 seconds or 40)}


def _network_burst(seconds: float | None) -> dict:
    rx = random.uniform(80, 120) * (1 << 20)
    return {"override": override({"net_rx_bps": round(rx), "net_tx_bps": round(rx * 0.4)},
                                 seconds or 20)}


def _drive_task(store, task_id: str, seconds: float) -> None:
    # Through update_task, the code path of PUT /api/v1/tasks/<id>.
    from app.domain.schemas import TaskIn

    update_task(store, task_id, TaskIn(state="pending", progress=0, message="queued by the simulator"))
    for step in range(11):
        gevent.sleep(seconds / 11)
        update_task(store, task_id, TaskIn(
            state="running", progress=step * 10, message=f"step {step + 1} of 11",
            estimated_seconds=round(seconds * (10 - step) / 11, 1)))
    update_task(store, task_id, TaskIn(state="succeeded", progress=100, message="done"))


def _task_run(seconds: float | None) -> dict:
    live = _live()
    # A counter in the store, so workers do not hand out the same name (a race between two
    # workers in the same millisecond could; the simulator can live with that).
    number = (live.store.get_state("simulator:task-run") or {}).get("n", 0) + 1
    live.store.set_state("simulator:task-run", {"n": number})
    task_id = f"sim-task-{number}"
    live.spawn(_drive_task, live.store, task_id,
               seconds or current_app.config.get("TASK_RUN_SECONDS", TASK_RUN_SECONDS))
    return {"task_id": task_id}


def _alert_storm(_seconds: float | None) -> dict:
    levels = ["warning"] * 8 + ["error"] * 8 + ["critical"] * 4
    random.shuffle(levels)
    store = _live().store
    ids = [record_event(store, {"level": level, "message": random.choice(_SAMPLES[level]),
                                "source": "simulator: alert-storm"}) for level in levels]
    return {"ids": ids}


def _history(_seconds: float | None) -> dict:
    live = _live()
    points = fill(live.store, live.settings.host_name, 7, interval=live.settings.sample_interval)
    return {"host": live.settings.host_name, "points": points}


#: Scenario name -> function that starts it and returns what it did (JSON).
SCENARIOS = {
    "cpu-spike": _cpu_spike,
    "network-burst": _network_burst,
    "task-run": _task_run,
    "alert-storm": _alert_storm,
    "history": _history,
}


def run_scenario(name: str, seconds: float | None = None):
    """Start scenario ``name``; 202 with ``{"scenario", ...what it did}``, 404 JSON listing
    the names for an unknown one. ``seconds`` replaces the default duration:

    - ``cpu-spike``: CPU shows 97-99 % for 40 s (an override).
    - ``network-burst``: received 80-120 MiB/s and sent 40 % of that for 20 s (an override).
    - ``task-run``: a task ``sim-task-<n>`` goes pending, running 0-100 % over ~8 s, succeeded.
    - ``alert-storm``: 20 warning, error and critical events at once (no duration).
    - ``history``: a made-up past week of this host's history (``app.domain.history_fill``),
      written before the answer (a few seconds); ``points`` says how many per tier.
    """
    start = SCENARIOS.get(name)
    if start is None:
        return error_response(404, f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}",
                              scenarios=list(SCENARIOS))
    return jsonify({"scenario": name, **start(seconds)}), 202


def set_simulated_host(enabled: bool) -> dict:
    """Turn the simulated host on or off for every worker; log an event saying so."""
    store = _live().store
    store.set_state(SIMULATED_HOST_KEY, {"enabled": enabled})
    record_event(store, with_text({"level": "info", "source": "simulator"},
                                  Text(N_("simulated host on") if enabled
                                       else N_("simulated host off"))))
    return {"enabled": enabled}


@bp.post("/scenarios/<name>")
@needs("ingest")
def scenario(name: str):
    """Start a named scenario (see :func:`run_scenario`); an optional JSON body
    ``{"seconds": N}`` (0 < N <= 3600) sets its duration."""
    from app.domain.schemas import ScenarioIn

    seconds = parse(ScenarioIn).seconds if request.content_length else None
    return run_scenario(name, seconds)


@bp.post("/host")
@needs("ingest")
def host():
    """``{"enabled": true|false}``: generated readings instead of psutil's, until turned off.

    200 with ``{"enabled": ...}``.
    """
    from app.domain.schemas import SimulatedHost

    return jsonify(set_simulated_host(parse(SimulatedHost).enabled))


# -- page actions (the control panel's forms) ---------------------------------------------------

@ui_bp.post("/scenarios/<name>")
@needs("operate")
def ui_scenario(name: str):
    """The panel's scenario buttons: 204 (the page updates over the stream), 404 if unknown."""
    response = run_scenario(name)
    return ("", 204) if isinstance(response, tuple) else response


@ui_bp.post("/host")
@needs("operate")
def ui_host():
    """The panel's host-mode form: ``enabled=true|false`` (form-encoded); 204, or 400."""
    value = request.form.get("enabled", "")
    if value not in ("true", "false"):
        return error_response(400, "enabled must be true or false",
                              details=[{"field": "enabled", "message": "true or false"}])
    set_simulated_host(value == "true")
    return "", 204
