"""Who may write, view and act (DESIGN.md, "Security"). Three checks run before every view:

- :func:`check_write`: every ``POST``/``PUT``/``PATCH``/``DELETE`` under ``/api/`` and
  ``/simulator/`` needs ``Authorization: Bearer <DASHBOARD_INGEST_TOKEN>``, or, with no token
  set, a request the loopback fallback holds for (:func:`loopback_refusal`).
- :func:`check_view`: with ``DASHBOARD_VIEW_TOKEN`` set, everything else except
  :data:`OPEN_PATHS` / :data:`OPEN_PREFIXES` needs a session from ``/login``: browsers are
  redirected there (303), JSON and SSE clients get 401 JSON. The writes above are exempt: they
  carry their own credentials; so are reads under ``/api/v1/approvals/`` that carry the ingest
  token (a program waiting for the answer it asked for). With no view token, viewing is open.
- :func:`check_ui`: page actions (``POST``/``PUT``/``PATCH``/``DELETE`` under ``/ui/``) need an
  ``Origin`` (or ``Referer``) of this host, and then: with a view token, a session; with neither
  token, the loopback fallback; with an ingest token but no view token, nobody (403 asking for
  ``DASHBOARD_VIEW_TOKEN``). Why the last: a browser cannot send the ingest token, and behind a
  local proxy every client looks like loopback, so anything else would let any remote browser do
  what the operator protected with a token.

The loopback fallback is for a bare local run, and holds only when all three say so: the peer
is a loopback address, the ``Host`` header is a loopback name or address (or one listed in
``DASHBOARD_ALLOWED_HOSTS``), and no forwarding header is present. Why the Host: a page on
another site whose name an attacker re-resolves to 127.0.0.1 (DNS rebinding) reaches us from a
local browser with that site's name as Host. Why the forwarding headers: behind a proxy on the
same host every request comes from 127.0.0.1, so the fallback would open writes to the world.
Behind a proxy, set the tokens; ``DASHBOARD_TRUSTED_PROXIES`` (Werkzeug's ``ProxyFix``) only
makes the logged and throttled client address the real one. The session cookie is ``Secure``
when the request reaching Flask is https (or said so by a trusted proxy).

Failed token checks (a wrong bearer token, a wrong ``/login`` token) are counted per client
address and throttled (``app.web.throttle``); each is logged, never with the token.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, current_app, g, redirect, render_template, request, session,
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
#: Headers that say a proxy relayed the request: their presence ends the loopback fallback.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")

log = logging.getLogger(__name__)

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


def host_name(host: str) -> str:
    """The name part of a ``Host`` header, lower case: ``'[::1]:8000' -> '::1'``."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def is_loopback_host(name: str) -> bool:
    """Whether a host name is loopback: ``localhost``, a ``*.localhost`` name (RFC 6761: a
    browser resolves those to loopback itself) or a loopback address."""
    return name == "localhost" or name.endswith(".localhost") or is_loopback(name)


def loopback_refusal() -> str | None:
    """Why the loopback fallback does not hold for this request (module docstring), as the
    sentence a 403 answer gives, or None when it holds."""
    if not is_loopback(request.remote_addr):
        return "the client is not on loopback"
    relayed = [name for name in FORWARDING_HEADERS if name in request.headers]
    if relayed:
        return f"the request came through a proxy ({', '.join(relayed)})"
    name = host_name(request.host)
    if not (is_loopback_host(name) or name in _settings().allowed_host_names):
        return (f"its Host {name!r} is not a loopback name (add it to DASHBOARD_ALLOWED_HOSTS "
                "if it is this machine)")
    return None


def failed(what: str) -> None:
    """Count a failed token check against the client address (``app.web.throttle``) and log it
    without the token."""
    g.auth_failed = True
    log.warning("%s failed from %s (%s %s)", what, request.remote_addr, request.method,
                request.path)


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
        refusal = loopback_refusal()
        if refusal is None:
            return None
        return error_response(
            403, f"writes without a token are for local clients only, and {refusal}: set "
                 "DASHBOARD_INGEST_TOKEN on the server and send it as 'Authorization: Bearer "
                 "<token>'")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = error_response(401, "send 'Authorization: Bearer <token>' to write")
        response.headers["WWW-Authenticate"] = 'Bearer realm="dashboard"'
        return response
    # Constant time on bytes: str comparison would raise for non-ASCII and leak timing.
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        failed("bearer token")
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
    if not (token and request.path.startswith("/api/v1/approvals/")
            and scheme.lower() == "bearer" and given.strip()):
        return False
    if hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    failed("bearer token")  # throttled like a wrong token on a write
    return False


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
    refusal = loopback_refusal()
    if refusal is None:
        return None
    return error_response(403, f"page actions without sign-in are for local viewers only, and "
                               f"{refusal}: set DASHBOARD_VIEW_TOKEN on the server")


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
    failed("login")
    return render_template("login.html", error="That token is not valid."), 401


@bp.post("/logout")
def logout():
    """End the session; 303 to ``/login``. 403 JSON unless the form came from this dashboard's
    own pages (a cross-site form must not sign a viewer out)."""
    if not same_origin():
        return error_response(403, "sign out from this dashboard's own pages (the Origin "
                                   "header does not match)")
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
