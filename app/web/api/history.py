"""``GET /api/v1/history``: one metric of one host over a time range, as JSON or CSV."""

from __future__ import annotations

import csv
import io
import time

from flask import Response, current_app, jsonify, request

from app.domain import history
from app.domain.payloads import BadPayload

from ..payload import parse_query
from ..access import needs
from ..heavy import bounded

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


def _bad(param: str, message: str) -> BadPayload:
    return BadPayload(400, f"invalid query parameter: {param}",
                      [{"field": param, "message": message}])


def _known_host(live, host: str) -> bool:
    """This dashboard's own host, or one whose latest sample the store holds (the fleet)."""
    return host == live.settings.host_name or live.store.get_state(f"sample:{host}") is not None


@needs("read")
@bounded
def get_history():
    """``?metric=cpu_percent&range=24h`` (or ``from``/``to`` in Unix seconds), optional
    ``host`` and ``step`` (seconds): ``{"host", "metric", "step", "points": [{"t", "min",
    "avg", "max", "count"}]}``, oldest first, at most 1,000 points, from the finest history
    tier that covers the range (``app.domain.history.query``). ``Accept: text/csv`` gives the
    points as CSV with a header row (``t,min,avg,max,count``).

    :raise 400: an unknown metric, host or range, ``from`` after ``to``, a bad step; the
        message and ``details[].field`` name the parameter.
    :raise 429: this client has ``DASHBOARD_HISTORY_READS_PER_CLIENT`` reads in progress
        (``app.web.heavy``).
    """
    from app.domain.schemas import HistoryQuery

    spec = parse_query(HistoryQuery)
    live = current_app.extensions["dashboard"]
    host = spec.host or live.settings.host_name
    if not _known_host(live, host):
        raise _bad("host", f"no host {host!r} reports to this dashboard")
    now = time.time()
    if spec.range is not None and (spec.from_ is not None or spec.to is not None):
        raise _bad("range", "give either range or from/to, not both")
    if spec.from_ is None and spec.to is not None:
        raise _bad("from", "to needs from")
    if spec.from_ is None:
        start, end = now - history.RANGES[spec.range or "1h"], now
    else:
        start, end = spec.from_, now if spec.to is None else spec.to
    try:
        answer = history.query(live.store, host, spec.metric, start, end, step=spec.step,
                               now=now)
    except history.BadHistoryQuery as exc:
        raise _bad(exc.param, str(exc)) from None
    if request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv":
        response = Response(_csv(answer["points"]), content_type="text/csv; charset=utf-8")
    else:
        response = jsonify(answer)
    response.vary.add("Accept")
    return response


def _csv(points: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["t", "min", "avg", "max", "count"])
    writer.writerows([p["t"], p["min"], p["avg"], p["max"], p["count"]] for p in points)
    return out.getvalue()
