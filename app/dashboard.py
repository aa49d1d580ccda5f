"""The page, and the same region fragments for polling clients (``/poll``, ``/fragments``)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from markupsafe import Markup

from . import alerts

bp = Blueprint("dashboard", __name__)


def _live():
    return current_app.extensions["dashboard"]


@bp.get("/")
def index():
    """The whole page; ``?transport=poll`` (or ``DASHBOARD_TRANSPORT=poll``) skips SSE."""
    live = _live()
    transport = request.args.get("transport", current_app.config["SETTINGS"].transport)
    polling = transport == "poll"
    return render_template(
        "index.html",
        regions={name: Markup(live.view.html[name]) for name in live.view.regions},
        badge=Markup(live.view.badge("polling" if polling else "connecting")),
        polling=polling,
        host=live.view.host,
        signed_in=current_app.config["SETTINGS"].view_token.get_secret_value() != "",
    )


def _conditional(body: str) -> Response:
    """Wrap ``body`` with ``ETag`` = the latest log id; ``304`` when the client has it."""
    response = Response(body, mimetype="text/html")
    response.set_etag(str(_live().view.last_id))
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


@bp.get("/poll")
def poll():
    """Every region and the POLLING badge, as out-of-band swaps (the SSE snapshot's twin)."""
    return _conditional(_live().view.fragments(_live().view.regions, "polling"))


@bp.get("/fragments/<name>")
def fragment(name: str):
    """One region's HTML, e.g. ``/fragments/cpu``; 404 for an unknown name."""
    regions = _live().view.regions
    if name not in regions:
        abort(404, description=f"unknown region {name!r}; known: {', '.join(regions)}")
    return _conditional(_live().view.html[name])


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
