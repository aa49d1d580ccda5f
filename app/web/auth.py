"""Who may write, view and act (DESIGN.md, "Security"). Three checks run before every view:

- :func:`check_write`: every ``POST``/``PUT``/``PATCH``/``DELETE`` under ``/api/`` and
  ``/simulator/`` needs ``Authorization: Bearer <DASHBOARD_INGEST_TOKEN>``, or, with no token
  set, a loopback client.
- :func:`check_view`: with ``DASHBOARD_VIEW_TOKEN`` set, everything else except
  :data:`OPEN_PATHS` / :data:`OPEN_PREFIXES` needs a session from ``/login``: browsers are
  redirected there (303), JSON and SSE clients get 401 JSON. The writes above are exempt: they
  carry their own credentials; so are reads under ``/api/v1/approvals/`` that carry the ingest
  token (a program waiting for the answer it asked for). With no view token, viewing is open.
- :func:`check_ui`: page actions (``POST``/``PUT``/``PATCH``/``DELETE`` under ``/ui/``) need an
  ``Origin`` (or ``Referer``) of this host, and then: with a view token, a session; with neither
  token, a loopback client; with an ingest token but no view token, nobody (403 asking for
  ``DASHBOARD_VIEW_TOKEN``). Why the last: a browser cannot send the ingest token, and behind a
  local proxy every client looks like loopback, so anything else would let any remote browser do
  what the operator protected with a token.

Behind a reverse proxy every request comes from the proxy's address, loopback for a local
nginx, so loopback-only is for a bare local run: with a proxy, set the tokens. (No ProxyFix: a
client-supplied X-Forwarded-For must not decide who may write.) For the same reason the session
cookie is ``Secure`` only when the request reaching Flask is https.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, current_app, redirect, render_template, request, session,
                   url_for)
from flask.sessions import SecureCookieSessionInterface

from .errors import error_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITE_PREFIXES = ("/api/", "/simulator/")
#: Paths that need no session even with a view token: probes, scrapes, the login form itself.
OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics", "/login", "/logout"})
OPEN_PREFIXES = ("/vendor/", "/static/")
UI_PREFIX = "/ui/"
_SESSION_KEY = "viewer"

bp = Blueprint("auth", __name__)


def is_write() -> bool:
    """Whether the current request is a write that needs authorisation (and counts as ingest)."""
    return request.method in WRITE_METHODS and request.path.startswith(WRITE_PREFIXES)


def is_loopback(address: str | None) -> bool:
    """Whether ``address`` (``request.remote_addr``) is 127.0.0.0/8 or ::1; False if unparsable."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    # A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d, which Python < 3.13 never
    # calls loopback.
    return (getattr(ip, "ipv4_mapped", None) or ip).is_loopback


def check_write():
    """Let an authorised write through (return None); otherwise return the 401/403 JSON reply.

    With ``DASHBOARD_INGEST_TOKEN`` set: 401 with ``WWW-Authenticate: Bearer`` when the
    ``Authorization: Bearer <token>`` header is missing, 401 when the token differs. Without
    one: 403 for clients not on loopback, telling them how to configure a token.
    """
    if not is_write():
        return None
    token = current_app.config["SETTINGS"].ingest_token.get_secret_value()
    if not token:
        if is_loopback(request.remote_addr):
            return None
        return error_response(
            403, "writes from other hosts need a token: set DASHBOARD_INGEST_TOKEN on the server "
                 "and send it as 'Authorization: Bearer <token>'")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = error_response(401, "send 'Authorization: Bearer <token>' to write")
        response.headers["WWW-Authenticate"] = 'Bearer realm="dashboard"'
        return response
    # Constant time on bytes: str comparison would raise for non-ASCII and leak timing.
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        response = error_response(401, "the bearer token is not valid")
        response.headers["WWW-Authenticate"] = 'Bearer realm="dashboard", error="invalid_token"'
        return response
    return None


# -- viewing -------------------------------------------------------------------------------------

def _settings():
    return current_app.config["SETTINGS"]


def _view_token() -> str:
    return _settings().view_token.get_secret_value()


def _tag(token: str) -> str:
    """What a session holds for a signed-in viewer: an HMAC of the view token under the secret
    key, so changing the token ends every session and the cookie reveals nothing of it."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"view:" + token.encode(), hashlib.sha256).hexdigest()


def has_session() -> bool:
    """Whether the request carries a session for the current view token."""
    held = session.get(_SESSION_KEY)
    return isinstance(held, str) and hmac.compare_digest(held, _tag(_view_token()))


def _wants_json() -> bool:
    # Explicit types only: curl's */* (and a browser's) must not count as asking for JSON.
    asked = {mimetype for mimetype, _quality in request.accept_mimetypes}
    return (request.path.startswith("/api/")
            or bool(asked & {"text/event-stream", "application/json"}))


def check_view():
    """With ``DASHBOARD_VIEW_TOKEN`` set, refuse a request without a session (module docstring):
    303 to ``/login`` for browsers, 401 JSON for JSON/SSE clients and anything under ``/api/``."""
    if not _view_token() or is_write() or (request.method in WRITE_METHODS
                                           and request.path.startswith(UI_PREFIX)):
        return None  # writes carry a token; page actions get check_ui's JSON answers
    if _follows_approvals():
        return None
    path = request.path
    if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or has_session():
        return None
    if _wants_json():
        return error_response(401, "sign in at /login first (DASHBOARD_VIEW_TOKEN is set)")
    return redirect(url_for("auth.login"), 303)


def _follows_approvals() -> bool:
    """Whether a read of ``/api/v1/approvals/...`` carries the ingest token as a bearer token.

    Why: a program that may ask (a write, with that token) must be able to wait for the answer
    (``flask ask`` reads the approval's stream), and it has no session to show.
    """
    token = _settings().ingest_token.get_secret_value()
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return (bool(token) and request.path.startswith("/api/v1/approvals/")
            and scheme.lower() == "bearer"
            and hmac.compare_digest(given.strip().encode(), token.encode()))


def same_origin() -> bool:
    """Whether the request's ``Origin`` (or, without one, ``Referer``) names this host."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return urlsplit(source).netloc == request.host and source != "null"


def check_ui():
    """Guard page actions under ``/ui/`` (module docstring): 403 JSON for another or no
    origin, 401 JSON without a session when a view token is set, 403 JSON otherwise when the
    client may not act (saying which setting is needed)."""
    if request.method not in WRITE_METHODS or not request.path.startswith(UI_PREFIX):
        return None
    if not same_origin():
        return error_response(403, "page actions must come from this dashboard's own pages "
                                   "(the Origin header does not match)")
    if _view_token():
        return None if has_session() else error_response(401, "sign in at /login first")
    if _settings().ingest_token.get_secret_value():
        return error_response(403, "page actions need viewers to sign in: set "
                                   "DASHBOARD_VIEW_TOKEN on the server")
    if is_loopback(request.remote_addr):
        return None
    return error_response(403, "page actions from other hosts need viewers to sign in: set "
                               "DASHBOARD_VIEW_TOKEN on the server")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """A plain form that takes the view token (POST, never in the URL).

    Right token: a session cookie (HttpOnly, SameSite=Strict, Secure over https), 303 to ``/``.
    Wrong or missing: the form again with 401 and a message. Without a view token: 303 to ``/``.
    """
    token = _view_token()
    if not token:
        return redirect("/", 303)
    if request.method == "GET":
        return render_template("login.html", error=None)
    given = request.form.get("token", "")
    # Constant time on bytes: str comparison would raise for non-ASCII and leak timing.
    if given and hmac.compare_digest(given.encode(), token.encode()):
        session.clear()
        session[_SESSION_KEY] = _tag(token)
        return redirect("/", 303)
    return render_template("login.html", error="That token is not valid."), 401


@bp.post("/logout")
def logout():
    """End the session; 303 to ``/login``."""
    session.clear()
    return redirect(url_for("auth.login"), 303)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, marked ``Secure`` whenever the request is https."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def open_session(self, app: Flask, request):
        # Without a cookie there is nothing to verify: skip building the signer, which costs
        # every poll and stream request of a dashboard without login a few percent.
        if app.config["SESSION_COOKIE_NAME"] not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def register(app: Flask) -> None:
    """Run :func:`check_write`, :func:`check_view` and :func:`check_ui` before every request of
    ``app``; add ``/login`` and ``/logout``; make session cookies HttpOnly and SameSite=Strict."""
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_NAME="dashboard_session")
    app.session_interface = SessionInterface()
    app.before_request(check_write)
    app.before_request(check_view)
    app.before_request(check_ui)
    app.register_blueprint(bp)
