"""``GET /api/v1/processes?host=``: a host's latest top processes as JSON."""

from __future__ import annotations

from flask import current_app, jsonify

from app.domain import processes

from ..errors import error_response
from ..payload import parse_query
from ..access import needs

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


@needs("read")
def get_processes():
    """``{"host", "ts", "processes": [...]}``, the list last taken of ``host`` (default: this
    dashboard's own), sorted by ``sort`` (``cpu`` or ``mem``), highest first.

    A dashboard scans its host's processes only while someone views that host's page, every
    ``DASHBOARD_PROCESS_INTERVAL`` seconds; an agent run with ``--processes`` sends its own.

    :raise 404: no list of that host is known. :raise 400: a bad query parameter.
    """
    from app.domain.hostsample import ProcessQuery

    query = parse_query(ProcessQuery)
    live = current_app.extensions["dashboard"]
    host = query.host or live.settings.host_name
    found = processes.latest(live.store, host)
    if found is None:
        return error_response(404, f"no process list of {host!r} is known: a dashboard scans "
                                   "while someone views the host, an agent with --processes")
    rows = found["processes"]
    return jsonify({**found, "processes": processes.ranked(rows, query.sort, len(rows))})
