"""The audit page (``/audit``) and its HTML stream (``/audit/stream``), for admins.

The page is a table of entries, newest first, with a GET filter form (``who``, ``action``,
``since`` and ``until`` as dates: whole days in the dashboard's zone, ``DASHBOARD_TIMEZONE``,
``until`` inclusive) and a link to older entries (``before``). Its unfiltered first page is
live: it opens ``/audit/stream``, whose snapshot and messages are the region ``#audit-rows``
rendered once for every admin watching in the same language (``app.live.audit``); a new entry
appears at the top within a tail interval. A filtered or older page is read once; without
JavaScript the live page refreshes itself.

The filter's schema (``app.domain.audit_schemas``) loads on the first request that needs it: a
worker at rest never imports pydantic (``docs/performance.md``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup

from app.domain.audit import ACTIONS
from app.domain.i18n import N_
from app.live.delivery import audit_messages, client_socket, direct_socket
from app.view import audit as audit_view

from . import language
from .access import needs
from .api.audit import page
from .auth import stream_owner
from .errors import fail
from .headers import STREAM_HEADERS

if TYPE_CHECKING:
    from app.domain.audit_schemas import AuditQuery

bp = Blueprint("audit", __name__)

#: Seconds between two reloads of the live page when JavaScript is off.
REFRESH = 15


def _day(name: str, after: bool = False) -> float | None:
    """Unix seconds of the start of the date in ``?name=`` (``YYYY-MM-DD``), midnight in the
    dashboard's zone (``DASHBOARD_TIMEZONE``: where the page's times are), or None. ``after``:
    the start of the next day instead, so the date is included whole (23 or 25 hours on a
    day the clocks change).

    :raise 400: not such a date.
    """
    text = request.args.get(name, "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text) + timedelta(days=1 if after else 0)
        return datetime.combine(day, time(), tzinfo=language.current().zone).timestamp()
    except (ValueError, OverflowError):  # not a date, or one at the end of the calendar
        fail(400, N_("%(name)s must be a date as YYYY-MM-DD, not '%(text)s'"), name=name,
             text=text[:40])


def _filters() -> dict[str, str]:
    """The page's filter fields as given (empty ones left out): what links carry on."""
    return {name: value for name in ("who", "action", "since", "until")
            if (value := request.args.get(name, "").strip())}


def _query() -> AuditQuery:
    """The request's filter and page as the API's query. :raise 400: a bad field, named."""
    from pydantic import ValidationError

    from app.domain.audit_schemas import AuditQuery

    filters = _filters()
    fields = {"who": filters.get("who"), "action": filters.get("action"),
              "since": _day("since"), "until": _day("until", after=True),  # the whole day
              "before": request.args.get("before") or None, "limit": audit_view.PAGE}
    try:
        return AuditQuery.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as exc:
        names = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        if names:
            fail(400, N_("invalid filter: %(names)s"), names=names)
        fail(400, N_("invalid filter: the dates"))


@bp.get("/audit")
@needs("admin")
def audit():
    """The page. Unfiltered and from the newest: live (the shared region and its stream);
    otherwise the entries that match, read now. :raise 400: a bad filter field."""
    query = _query()
    filters = _filters()
    live = not filters and query.before is None
    if live:
        feed = current_app.extensions["dashboard"].audit.get(language.current().code)
        rows = feed.current().html
    else:
        entries, after = page(current_app.extensions["dashboard"].store, query)
        older = "?" + urlencode({**filters, "before": after}) if after is not None else None
        rows = audit_view.render(language.current().env, entries, older)
    return render_template("audit.html", rows=Markup(rows), live=live, filters=filters,
                           actions=ACTIONS, paged=query.before is not None,
                           refresh=REFRESH if live else None)


@bp.get("/audit/stream")
@needs("admin")
def stream():
    """A snapshot of ``#audit-rows``, then the region again on each new entry; heartbeats;
    ends after ``DASHBOARD_STREAM_LIFETIME`` seconds, or when the admin's session ends (sign-out,
    disabled, another role). :raise 503: the store could not be read for the first snapshot."""
    live = current_app.extensions["dashboard"]
    code = language.current().code
    live.audit.get(code).current()  # 503 now, before the response starts
    environ = request.environ
    return Response(audit_messages(live, current_app.config["SETTINGS"].stream_lifetime,
                                   direct_socket(environ), client_socket(environ), stream_owner(),
                                   code),
                    mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)
