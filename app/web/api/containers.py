"""``GET /api/v1/containers?host=``: a host's latest containers as JSON."""

from __future__ import annotations

from flask import current_app, jsonify

from app.domain import containers

from ..access import needs
from ..errors import error_response
from ..payload import parse_query

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


@needs("read")
def get_containers():
    """``{"host", "ts", "engine", "containers": [...]}``, the list last read of ``host``
    (default: this dashboard's own), running ones first by ``sort`` (``cpu`` or ``memory``),
    each with ``uptime`` in seconds as of now. A viewer may read it.

    The events reader stores a new list within a second of a change; the figures (CPU, memory,
    I/O) are read every ``DASHBOARD_CONTAINER_INTERVAL`` seconds only while someone views the
    host or a rule needs them. An agent run with ``--containers`` sends its own.

    :raise 404: no list of that host is known (no engine ever answered there).
    :raise 400: a bad query parameter.
    """
    from app.domain.container_schemas import ContainerQuery

    query = parse_query(ContainerQuery)
    live = current_app.extensions["dashboard"]
    host = query.host or live.settings.host_name
    found = containers.latest(live.store, host)
    if found is None:
        return error_response(404, f"no container list of {host!r} is known: a dashboard "
                                   "reads its host's engine, an agent with --containers")
    rows = containers.with_uptime(containers.ranked(found["containers"], query.sort))
    return jsonify({**found, "containers": rows})
