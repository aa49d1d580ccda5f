"""Hosts compared: ``/fleet/compare?metric=cpu_percent&range=1h`` (the page) and
``/fleet/compare/chart`` (the chart alone, which the page polls), drawn by
:mod:`app.view.compare` once per (metric, range) and tier point in each process.

``metric`` is a history key (default ``cpu_percent``), ``range`` one of the host page's ranges
(default ``1h``; ``5m`` is ``live``); anything else is a 400. The hosts looked at are those of
this process's fleet (every host that reports to the store, and this dashboard's own).
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup

from app.view.compare import COMPARABLE, POLL, BadCompare, Comparisons, Rendered, check
from app.view.ranges import SPANS
from . import language
from .access import needs
from .heavy import bounded

bp = Blueprint("compare", __name__)


def _rendered() -> tuple[str, str, Rendered]:
    """The request's (metric, range) and its render; 400 for an unknown one."""
    metric = request.args.get("metric", "cpu_percent")
    try:
        range_name = check(metric, request.args.get("range", "1h"))
    except BadCompare as exc:
        abort(400, description=str(exc))
    live = current_app.extensions["dashboard"]
    # One set of renders per language asked for, made on first use: a worker nobody asks
    # never builds one.
    spoken = language.current()
    by_language = current_app.extensions.setdefault("compare", {})
    comparisons = by_language.get(spoken.code)
    if comparisons is None:
        comparisons = by_language[spoken.code] = Comparisons(spoken.env, live.view.panel.zone)
    hosts = [*live.fleet.hosts, *([live.fleet.home] if live.fleet.home else [])]
    return metric, range_name, comparisons.get(live.store, hosts, metric, range_name, time.time())


@bp.get("/fleet/compare")
@needs("read")
@bounded
def compare_page():
    """The whole page: the metric and range switchers (plain links) and the chart."""
    metric, range_name, rendered = _rendered()
    return render_template("compare.html", chart=Markup(rendered.html), metric=metric,
                           range=range_name, metrics=COMPARABLE, spans=SPANS,
                           poll=POLL[SPANS[range_name].tier])


@bp.get("/fleet/compare/chart")
@needs("read")
@bounded
def compare_chart():
    """The chart region alone, with its ETag: ``304`` while the tier point is the same."""
    _metric, _range, rendered = _rendered()
    etag = rendered.etag
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(rendered.html, mimetype="text/html")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response

