"""The page, and the same region fragments for polling clients (``/poll``, ``/fragments``).

Each takes ``?host=NAME`` for another host's page (the fleet row links there); without it they
show this dashboard's own host (``DASHBOARD_HOST_NAME``). ``?range=`` picks the chart panel's
time range (``live``, the default, or ``1h``, ``6h``, ``24h``, ``7d``, ``30d``, ``1y``:
``app.view.ranges.SPANS``). The page passes both on to the ``/stream`` and ``/poll`` URLs it uses.

The forms' schemas (and pydantic's ``ValidationError``) are imported by the views that use
them: they load on the first request that needs them, and a worker at rest never imports
pydantic (``docs/performance.md``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request
from markupsafe import Markup
from werkzeug.exceptions import ServiceUnavailable

from app.domain import alerts, approvals, hosts, silences
from app.domain.i18n import N_
from app.domain.payloads import BadPayload, field_errors
from app.live.pages import Page, TooManyPages, UnknownHost, UnknownRange
from app.view.host import containers_table, sorted_table
from app.sources.sample import HOST_PATTERN
from app.view.ranges import SPANS

from .api.hosts import refuse_to_forget
from . import language
from .access import needs
from .credentials import principal
from .errors import fail
from .auth import record

bp = Blueprint("dashboard", __name__)


def _live():
    return current_app.extensions["dashboard"]


def page_of(live) -> Page:
    """The page that the request's ``?host=`` and ``?range=`` name (none: this dashboard's own
    host, live).

    :raise 400: unknown range. :raise 404: no sample of that host is known.
    :raise 503: too many pages are watched.
    """
    host = request.args.get("host")
    range_name = request.args.get("range")
    try:
        return live.page(host, range_name, language.current().code)
    except UnknownRange:
        fail(400, N_("unknown range '%(range)s'; known: %(known)s"), range=range_name,
             known=", ".join(SPANS))
    except UnknownHost:
        fail(404, N_("unknown host '%(host)s': no sample of it has reached the store"),
             host=host)
    except TooManyPages as exc:
        raise ServiceUnavailable(f"{exc}; retry later", retry_after=5) from None


@bp.get("/")
@needs("read")
def index():
    """The whole page; ``?transport=poll`` (or ``DASHBOARD_TRANSPORT=poll``) skips SSE;
    ``?sort=mem`` sorts the process table by memory (a table that polls on its own), and
    ``?containers=memory`` the containers likewise."""
    view = page_of(_live()).view
    transport = request.args.get("transport", current_app.config["SETTINGS"].transport)
    polling = transport == "poll"
    regions = {name: Markup(view.html[name]) for name in view.regions}
    if request.args.get("sort") == "mem":
        regions["processes"] = Markup(sorted_table(view, "mem"))
    if request.args.get("containers") == "memory":
        regions["containers"] = Markup(containers_table(view, "memory"))
    return render_template(
        "index.html",
        regions=regions,
        badge=Markup(view.badge("polling" if polling else "connecting")),
        polling=polling,
        host=view.host,
        query=view.query,
        # After "Forget this host" (forget_host): a host name only, never other text.
        forgotten=forgotten if re.match(HOST_PATTERN, forgotten := request.args.get(
            "forgotten", "")) else None,
    )


def _conditional(view, body: Callable[[], str]) -> Response:
    """``body()`` with ``ETag`` = the latest log id, or ``304`` when the client has that tag.

    A poll that matches (most of them) is answered before the body is built: the 304 path is
    what a polling client costs (``bench/``: 304s per second).
    """
    etag = str(view.last_id)
    if request.if_none_match.contains_weak(etag):  # RFC 9110: If-None-Match compares weakly
        response = Response(status=304)
    else:
        response = Response(body(), mimetype="text/html")
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/poll")
@needs("read")
def poll():
    """Every region and the POLLING badge, as out-of-band swaps (the SSE snapshot's twin)."""
    view = page_of(_live()).view
    return _conditional(view, lambda: view.fragments(view.regions, "polling"))


@bp.get("/fragments/<name>")
@needs("read")
def fragment(name: str):
    """One region's HTML, e.g. ``/fragments/cpu``; 404 for an unknown name or host.
    ``processes-mem`` is the process table sorted by memory (``/?sort=mem`` polls it),
    ``containers-memory`` the containers (``/?containers=memory``)."""
    view = page_of(_live()).view
    if name == "processes-mem":
        return _conditional(view, lambda: sorted_table(view, "mem"))
    if name == "containers-memory":
        return _conditional(view, lambda: containers_table(view, "memory"))
    if name not in view.regions:
        fail(404, N_("unknown region '%(name)s'; known: %(known)s"), name=name,
             known=", ".join(view.regions))
    return _conditional(view, lambda: view.html[name])


@bp.post("/ui/alerts/<alert_id>/ack")
@needs("operate")
def ack_alert(alert_id: str):
    """The page's Acknowledge button: record who (the signed-in person) and when; 204 with no
    body.

    The alerts region's new HTML reaches every tab through the stream (or the next poll), so
    this answer carries nothing; htmx 4 swaps nothing for a 204. The Origin check and the
    session guard for everything under ``/ui/`` live in ``app.web.auth``.

    :raise 404: unknown id (htmx swaps the error text in place of the button).
    """
    if alerts.acknowledge(_live().store, alert_id, by=principal().by) is None:
        fail(404, N_("no alert with id '%(id)s'"), id=alert_id)
    record("alert-ack", alert_id)
    return "", 204


@bp.post("/ui/alerts/<alert_id>/silence")
@needs("operate")
def silence_alert(alert_id: str):
    """The page's Silence buttons: form field ``hours`` (1, 4 or 24) silences this alert's name
    on its host (exactly, not as patterns) for that long, recorded with who made it.

    204 to htmx (the card shows the mark through the stream); a native form post gets 303
    back to the page. 404 for an unknown alert, 422 JSON for a bad form; Origin and session
    checks: ``app.web.auth.check_ui``.
    """
    from pydantic import ValidationError

    from app.domain.silence_schemas import SilenceForm

    try:
        form = SilenceForm.model_validate(request.form.to_dict())
    except ValidationError as exc:
        raise BadPayload(422, "invalid form", field_errors(exc)) from None
    store = _live().store
    alert = alerts.get(store, alert_id)
    if alert is None:
        fail(404, N_("no alert with id '%(id)s'"), id=alert_id)
    matchers = {"name": silences.literal(alert["name"])}
    if alert.get("host"):
        matchers["host"] = silences.literal(alert["host"])
    now = time.time()
    try:
        silence, new = silences.create(store, matchers, now + int(form.hours) * 3600,
                                       by=principal().by, now=now)
    except silences.SilenceLimit as exc:
        abort(422, description=str(exc))
    record("silence-create" if new else "silence-extend", silence["id"],
           detail={"matchers": matchers, "alert": alert_id, "hours": int(form.hours)})
    if request.htmx:
        return "", 204
    return redirect(_back(), 303)


@bp.post("/ui/approvals/<approval_id>/response")
@needs("operate")
def answer_approval(approval_id: str):
    """The page's Approve / Deny buttons: form fields ``decision`` (approve|deny) and
    ``reason`` (optional; empty means none), recorded with who answered.

    204 to htmx (the card leaves through the stream); a native form post (no JavaScript)
    gets 303 back to the page it came from. Refusals: 404, 409 (answered already), 410
    (expired) as a small HTML fragment for htmx, which swaps it into the form, JSON otherwise;
    422 JSON for a bad form. Origin and session checks: ``app.web.auth.check_ui``.
    """
    from pydantic import ValidationError

    from app.domain.approval_schemas import ApprovalForm

    try:
        form = ApprovalForm.model_validate(request.form.to_dict())
    except ValidationError as exc:
        raise BadPayload(422, "invalid form", field_errors(exc)) from None
    # A refusal (404, 409, 410) propagates to app.web.errors: HTML for htmx, JSON otherwise.
    approvals.answer(_live().store, approval_id, approved=form.decision == "approve",
                     reason=form.reason or None, by=principal().by)
    record("approval-answer", approval_id, detail={"approved": form.decision == "approve",
                                                   "reason": form.reason or None})
    if request.htmx:
        return "", 204
    return redirect(_back(), 303)


@bp.post("/ui/hosts/<name>/forget")
@needs("admin")
def forget_host(name: str):
    """The "Forget this host" button of a host's page (its ``<details>`` is the confirmation
    step): as ``DELETE /api/v1/hosts/<name>`` (``app.domain.hosts.forget``), then 303 to this
    dashboard's own page, which says so. 404 or 409 as the API; Origin and session checks:
    ``app.web.auth.check_ui``."""
    live = _live()
    refusal = refuse_to_forget(live, name)
    if refusal is not None:
        return refusal
    hosts.forget(live.store, name)
    record("host-forget", name)
    return redirect("/?" + urlencode({"forgotten": name}), 303)


def _back() -> str:
    """The page a native form was posted from (its path and query), or ``/``. check_ui made
    sure the Referer, when there is one, is this dashboard's own."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.netloc != request.host or not referer.path.startswith("/"):
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")


class NotModifiedPolls:
    """WSGI middleware: answer a ``GET /poll`` that already has the current view with a bare
    ``304``, before Flask runs.

    Why: most polls find nothing new, and on that path Flask's request context, hooks and
    response object cost more than half the time of a request (py-spy under ``bench/``'s poll
    hammer). The short cut is taken only where the ETag alone decides the answer: viewing is
    open (with ``DASHBOARD_VIEW_TOKEN`` the session must be checked), the live view runs, the
    page of ``?host=`` and ``?range=`` already exists in this process, and ``If-None-Match`` is exactly that
    page's tag (``"<id>"`` or ``W/"<id>"``). Every other request, a list of tags included, goes
    to Flask, whose :func:`poll` gives the same answer the long way.

    :param wsgi_app: the Flask app's ``wsgi_app``.
    :param live: the app's :class:`~app.live.engine.Live`.
    :param open_view: whether viewing needs no session (no view token).
    """

    def __init__(self, wsgi_app, live, open_view: bool) -> None:
        self.wsgi_app = wsgi_app
        self.live = live
        self.open_view = open_view

    def __call__(self, environ, start_response):
        tag = environ.get("HTTP_IF_NONE_MATCH")
        if (tag and self.open_view and environ.get("PATH_INFO") == "/poll"
                and environ.get("REQUEST_METHOD") == "GET" and self.live.started):
            query = environ.get("QUERY_STRING")
            args = dict(parse_qsl(query)) if query else {}
            page = self.live.pages.peek(args.get("host"), args.get("range"))
            if page is not None:
                etag = f'"{page.view.last_id}"'
                if tag.removeprefix("W/") == etag:
                    start_response("304 Not Modified",
                                   [("ETag", etag), ("Cache-Control", "no-cache")])
                    return []
        return self.wsgi_app(environ, start_response)
