"""The simulator under ``/simulator`` (only when ``DASHBOARD_SIMULATOR=1``): test data on demand.

Everything it injects goes through the store like real input, so the page, the stream and the
poll endpoint show it exactly as they would show the real thing.
"""

from __future__ import annotations

import random
import time

from flask import Blueprint, current_app, jsonify

from .api import store_event
from .live import override_key
from .schemas import MetricOverride, SimulatedEvents, parse

bp = Blueprint("simulator", __name__, url_prefix="/simulator")

_SAMPLES = {
    "info": ["deploy finished", "backup completed", "cache warmed", "user signed in"],
    "warning": ["disk filling up", "slow response from upstream", "retrying job"],
    "error": ["job failed", "upstream returned 502", "certificate renewal failed"],
    "critical": ["database unreachable", "out of memory: process killed"],
}


@bp.post("/events")
def events():
    """Store ``count`` events (default 1), random unless ``level``/``message`` are given.

    Returns 201 with ``{"ids": [...]}``.
    """
    spec = parse(SimulatedEvents)
    ids = []
    for _ in range(spec.count):
        level = spec.level or random.choice(list(_SAMPLES))
        message = spec.message or random.choice(_SAMPLES[level])
        ids.append(store_event({"level": level, "message": message, "source": spec.source}))
    return jsonify({"ids": ids}), 201


@bp.post("/metrics")
def metrics():
    """Show ``values`` instead of the sampled ones for ``seconds`` seconds (from the next sample).

    Body: ``{"values": {"cpu_percent": 97}, "seconds": 10}``. Returns 200 with the override and
    ``until`` (Unix seconds). A new override replaces the previous one.
    """
    spec = parse(MetricOverride)
    override = {"values": spec.values, "until": time.time() + spec.seconds}
    host = current_app.config["SETTINGS"].host_name
    current_app.extensions["dashboard"].store.set_state(override_key(host), override)
    return jsonify(override)
