"""May they: one check before every view (DESIGN.md, "Security").

Every view declares what it needs once, next to it, with :func:`needs`: ``"open"`` (the sign-in
form, probes, assets), or rights: ``read`` (pages, streams, read APIs), ``ingest`` (events,
metrics, samples, tasks, pushed alerts), ``ask`` (approvals of one's own), ``operate``
(acknowledge, silence, answer approvals, the simulator's buttons) and ``admin`` (rules, hosts,
accounts, keys, the audit log). :func:`check_access` reads the declaration of the request's
endpoint and who asks (:func:`app.web.credentials.principal`).

A request without the right gets 401 when it has no credential (browsers asking for a page are
sent to ``/login``, htmx requests get ``HX-Redirect: /login``) and 403 naming the role or scope
it needs otherwise. A write a browser sends with its cookie must come from this dashboard's own
pages (``Origin``, or ``Referer``): SameSite cookies aside, that is what stops another site's form.
"""

from __future__ import annotations

from flask import Flask, current_app, g, redirect, request

from .credentials import ANONYMOUS_VIEWER, LOCAL, Principal, Refused, principal, takes_query_token
from .errors import error_response, for_programs
from .origin import cross_site, foreign_host, loopback_refusal, same_origin

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The role, and the key scope, that give each right: what a 403 says is missing.
NEEDED = {"read": ("viewer", "read"), "operate": ("operator", "operate"),
          "admin": ("admin", "admin"), "ingest": ("admin", "ingest"), "ask": ("admin", "ask")}
RIGHTS = frozenset(NEEDED)
#: What a request to no route (404, 405) needs: reading for reads, some write right for writes,
#: so that an unauthorised write is refused before it learns which paths exist.
_ANY_WRITE = ("ingest", "ask", "operate", "admin")


def is_write() -> bool:
    """Whether the current request is a program's write (``POST``/``PUT``/``PATCH``/``DELETE``
    under ``/api/`` or ``/simulator/``): what ``/metrics`` counts as ingest."""
    return request.method in WRITE_METHODS and for_programs()


def needs(*rights: str):
    """Declare what a view needs: ``"open"``, or one or more of :data:`RIGHTS` (any one of
    them suffices). Returns the view unchanged, with ``view.needs`` set.

    :raise ValueError: an unknown right (at import, a programming error).
    """
    if not rights or (rights != ("open",) and not set(rights) <= RIGHTS):
        raise ValueError(f"needs 'open' or some of {sorted(RIGHTS)}, not {rights}")

    def mark(view):
        view.needs = rights
        return view

    return mark


def _need(view) -> tuple[str, ...]:
    if view is None:  # no route: 404 or 405 once let through
        return ("read",) if request.method not in WRITE_METHODS else _ANY_WRITE
    return getattr(view, "needs", ("admin",))  # undeclared: admins only (a test lists them)


def check_access():
    """``before_request``: let the request through (None) or answer 401/403 (module docstring)."""
    # Per request: an app context that outlives one (a test's) must not carry them over.
    held = g._get_current_object()
    for name in ("principal", "person", "auth_failed", "_login_user"):
        held.__dict__.pop(name, None)
    endpoint = request.endpoint
    if endpoint == "static":  # Flask's own view, for files under static/
        return None
    view = current_app.view_functions.get(endpoint) if endpoint else None
    need = _need(view)
    if need == ("open",):
        return None
    return require(need)


def require(need: tuple[str, ...]):
    """Let the request through (None) if who asks has one of the rights ``need``, else the
    401/403 answer; what :func:`check_access` does for a view's declaration, for a view
    declared ``open`` that checks by itself (``/metrics`` with its own token)."""
    try:
        who = principal()
    except Refused as refused:
        return refused.response
    if who is LOCAL or who is ANONYMOUS_VIEWER:
        rebound = foreign_host()
        if rebound is not None:
            return error_response(403, f"nothing is configured to sign in with, and {rebound}")
    if request.method in WRITE_METHODS:
        # Cookies (and the loopback rule, for a local browser) go with another site's forms
        # too, to the API as well; a program (curl) sends no Origin and is no browser.
        if cross_site():
            return error_response(403, "writes from another site's pages are refused (the "
                                       "Origin or Sec-Fetch-Site header says so)")
        if not same_origin() and (who.kind in ("person", "view-token") or (
                who.kind == "local" and not for_programs())):
            return error_response(403, "page actions must come from this dashboard's own pages "
                                       "(the Origin header does not match)")
    if any(who.can(right) for right in need):
        return None
    return refusal(who, need)


def refusal(who: Principal, need: tuple[str, ...]):
    """The 401 or 403 answer for ``who`` lacking every right of ``need``."""
    if not who.signed_in:
        settings = current_app.config["SETTINGS"]
        if (request.method in WRITE_METHODS and not settings.people_configured
                and not settings.ingest_token.get_secret_value()
                and not current_app.extensions["dashboard"].accounts.configured()):
            if not for_programs():
                return error_response(
                    403, f"page actions without signing in are for local viewers only, and "
                         f"{loopback_refusal()}: create an account (flask --app wsgi users add "
                         "NAME --role operator) and sign in")
            return error_response(
                403, f"writes without a key are for local clients only, and "
                     f"{loopback_refusal()}: create an API key (flask --app wsgi users key-add) "
                     "or set DASHBOARD_INGEST_TOKEN and send it as 'Authorization: Bearer <key>'")
        if request.method == "GET" and not for_programs() \
                and not request.headers.get("HX-Request") and _wants_page():
            return redirect("/login?" + _next(), 303)
        message = "sign in at /login first, or send 'Authorization: Bearer <key>'"
        if b"token=" in request.query_string and takes_query_token() \
                and not settings.query_tokens:
            message += " (a key in ?token= is taken only with DASHBOARD_QUERY_TOKENS=1)"
        response = error_response(401, message)
        response.headers["HX-Redirect"] = "/login"
        response.headers["WWW-Authenticate"] = 'Bearer realm="dashboard"'
        return response
    roles = sorted({NEEDED[right][0] for right in need}, key=["viewer", "operator", "admin"].index)
    scopes = [NEEDED[right][1] for right in need]
    what = (f"a key with the {' or '.join(scopes)} scope" if who.kind == "key"
            else f"the {roles[0]} role")
    return error_response(403, f"this needs {what}; {who.by} ({who.role}) may not",
                          needs=list(need))


def _wants_page() -> bool:
    """Whether a browser navigates here (it names text/html) or nothing says what is wanted;
    not a scraper or a program (``*/*``, JSON, SSE, OpenMetrics), which get a 401."""
    asked = {mimetype for mimetype, _quality in request.accept_mimetypes}
    return not asked or ("text/html" in asked
                         and not asked & {"text/event-stream", "application/json"})


def _next() -> str:
    from urllib.parse import urlencode

    return urlencode({"next": request.full_path.rstrip("?")})


#: The rights a page's ``<body>`` names as ``can-<right>`` classes (``templates/base.html``).
PAGE_RIGHTS = ("operate", "admin")


def page_context() -> dict:
    """What every page template gets: ``who``, the request's :class:`Principal` (None on open
    pages such as ``/login``, where nobody was asked), and ``body_class``, ``can-operate`` and
    ``can-admin`` for the rights it has: the page shows or hides the buttons of the streamed
    fragments by them (DESIGN.md, "Render once"); the server checks again on every action.

    Only what :func:`check_access` already worked out (``g``): a credential is never checked
    while a template renders, where a refusal could not be answered.
    """
    who = g.get("principal")
    rights = [right for right in PAGE_RIGHTS if who is not None and who.can(right)]
    return {"who": who, "body_class": " ".join(f"can-{right}" for right in rights)}


def register(app: Flask) -> None:
    """Run :func:`check_access` before every request of ``app``; give its templates
    :func:`page_context`."""
    app.before_request(check_access)
    app.context_processor(page_context)
