"""The fleet page (``/fleet``), its poll (``/fleet/poll``) and its HTML stream
(``/fleet/stream``): every host in one table, live like a host's page, with no JavaScript of
ours (htmx and its SSE extension; a meta refresh without JavaScript).

Each takes ``?sort=`` (a column: ``name``, ``state``, ``cpu``, ``memory``, ``disk``, ``load``,
``alerts``, ``seen``; or ``level``, the default) and ``?q=`` (a host name prefix). An unknown
sort is a 400 with a JSON error naming the known ones, as an unknown ``?range=`` is: a link
with a typo shows no other order than it asked for, silently.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import ServiceUnavailable

from app.live.delivery import client_socket, direct_socket, overview_messages
from app.live.overview import Overview
from app.live.pages import TooManyPages
from app.view import overview
from app.view.overview import COLUMNS, REGIONS, BadFleetQuery, check_query

from . import language
from .access import needs
from .auth import stream_owner
from .headers import STREAM_HEADERS
from .stream import too_many_streams

bp = Blueprint("overview", __name__)


def _query() -> tuple[str, str]:
    """``(sort, q)`` of the request. :raise 400: unknown sort, or a filter too long."""
    try:
        return check_query(request.args.get("sort"), request.args.get("q"))
    except BadFleetQuery as exc:
        abort(400, description=str(exc))


def _page(sort: str, q: str) -> Overview:
    """The fleet page of ``(sort, q)``. :raise 503: too many fleet pages are watched."""
    try:
        return current_app.extensions["dashboard"].overviews.get(sort, q,
                                                                 language.current().code)
    except TooManyPages as exc:
        raise ServiceUnavailable(f"{exc}; retry later", retry_after=5) from None


@bp.get("/fleet")
@needs("read")
def fleet():
    """The whole fleet page; ``?transport=poll`` (or ``DASHBOARD_TRANSPORT=poll``) skips SSE."""
    sort, q = _query()
    table = _page(sort, q).current()
    polling = request.args.get("transport", current_app.config["SETTINGS"].transport) == "poll"
    return render_template(
        "fleet.html", regions={name: Markup(table.html[name]) for name in REGIONS},
        badge=Markup(table.badge("polling" if polling else "connecting")), polling=polling,
        query=table.query, sort=sort, q=q, columns=COLUMNS,
        noscript_refresh=overview.NOSCRIPT_REFRESH)


@bp.get("/fleet/poll")
@needs("read")
def poll():
    """Both regions and the POLLING badge as out-of-band swaps; ``ETag`` = the log id of the
    table's latest draw that changed it and its draw count (a page made again starts counting
    again, at a later log id), so an unchanged poll is a bare ``304``."""
    table = _page(*_query()).current()
    etag = f"{table.changed_at}-{table.version}"
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        response = Response(table.fragments("polling"), mimetype="text/html")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/fleet/stream")
@needs("read")
def stream():
    """A snapshot of both regions, then one unnamed message per redraw that changed them
    (every ``app.view.overview.TABLE_STEP`` seconds; the first ``MAX_ROWS`` rows); ends after
    ``DASHBOARD_STREAM_LIFETIME`` seconds.

    :raise 400: unknown sort. :raise 503: too many fleet pages watched. :raise 429: this
        client streams ``DASHBOARD_STREAMS_PER_CLIENT`` other pages already.
    """
    sort, q = _query()
    live = current_app.extensions["dashboard"]
    refused = too_many_streams(live, _page(sort, q))  # 503 now, before the response starts
    if refused is not None:
        return refused
    environ = request.environ
    return Response(overview_messages(live, current_app.config["SETTINGS"].stream_lifetime,
                                      direct_socket(environ), sort, q, client_socket(environ),
                                      stream_owner(), request.remote_addr or "",
                                      language.current().code),
                    mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)
