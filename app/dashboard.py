"""The page, and the same region fragments for polling clients (``/poll``, ``/fragments``).

Each takes ``?host=NAME`` for another host's page (the fleet row links there); without it they
show this dashboard's own host (``DASHBOARD_HOST_NAME``). The page passes its host on to the
``/stream`` and ``/poll`` URLs it uses.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import ServiceUnavailable

from . import alerts
from .pages import Page, TooManyPages, UnknownHost

bp = Blueprint("dashboard", __name__)


def _live():
    return current_app.extensions["dashboard"]


def page_of(live) -> Page:
    """The page that the request's ``?host=`` names (none: this dashboard's own host).

    :raise 404: no sample of that host is known. :raise 503: too many hosts are watched.
    """
    host = request.args.get("host")
    try:
        return live.page(host)
    except UnknownHost:
        abort(404, description=f"unknown host {host!r}: no sample of it has reached the store")
    except TooManyPages as exc:
        raise ServiceUnavailable(f"{exc}; retry later", retry_after=5) from None


@bp.get("/")
def index():
    """The whole page; ``?transport=poll`` (or ``DASHBOARD_TRANSPORT=poll``) skips SSE."""
    view = page_of(_live()).view
    transport = request.args.get("transport", current_app.config["SETTINGS"].transport)
    polling = transport == "poll"
    return render_template(
        "index.html",
        regions={name: Markup(view.html[name]) for name in view.regions},
        badge=Markup(view.badge("polling" if polling else "connecting")),
        polling=polling,
        host=view.host,
        query=view.query,
        signed_in=current_app.config["SETTINGS"].view_token.get_secret_value() != "",
    )


def _conditional(view, body: str) -> Response:
    """Wrap ``body`` with ``ETag`` = the latest log id; ``304`` when the client has it."""
    response = Response(body, mimetype="text/html")
    response.set_etag(str(view.last_id))
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/poll")
def poll():
    """Every region and the POLLING badge, as out-of-band swaps (the SSE snapshot's twin)."""
    view = page_of(_live()).view
    return _conditional(view, view.fragments(view.regions, "polling"))


@bp.get("/fragments/<name>")
def fragment(name: str):
    """One region's HTML, e.g. ``/fragments/cpu``; 404 for an unknown name or host."""
    view = page_of(_live()).view
    if name not in view.regions:
        abort(404, description=f"unknown region {name!r}; known: {', '.join(view.regions)}")
    return _conditional(view, view.html[name])


@bp.post("/ui/alerts/<alert_id>/ack")
def ack_alert(alert_id: str):
    """The page's Acknowledge button: record ``by="page"`` and the time; 204 with no body.

    The alerts region's new HTML reaches every tab through the stream (or the next poll), so
    this answer carries nothing; htmx 4 swaps nothing for a 204. The Origin check and the
    session guard for everything under ``/ui/`` live in ``app.auth``.

    :raise 404: unknown id (htmx swaps the error text in place of the button).
    """
    # "page" until a login gives viewers a name.
    if alerts.acknowledge(_live().store, alert_id, by="page") is None:
        abort(404, description=f"no alert with id {alert_id!r}")
    return "", 204
