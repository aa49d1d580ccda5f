"""Single sign-on with OpenID Connect (Authlib's Flask client): ``/login/oidc`` and its callback.

Registered by ``create_app`` only when ``DASHBOARD_OIDC_ISSUER`` is set, and only then imported,
with Authlib (a few MB per process that a dashboard without single sign-on does not pay).

The flow is the authorization code flow with PKCE (S256), a state and a nonce. The provider is
found by discovery (``<issuer>/.well-known/openid-configuration``); Authlib exchanges the code,
checks the state against the one this browser was given and verifies the ID token (signature
against the issuer's key set, ``iss``, ``aud``, ``exp``, ``nonce``). The person is then the
account named by ``preferred_username`` (else ``email``, else ``sub``), created on their first
sign-in (``source: "oidc"``, no password) with the role their groups give
(``DASHBOARD_OIDC_ROLE_CLAIM`` through ``DASHBOARD_OIDC_ROLES``), and given that role again at
each sign-in when the mapping changed. A disabled account, or an account of that name that signs
in with a password here, is refused.

Why the sign-in's state lives in a cookie of its own (``dashboard_oidc``, SameSite=Lax, for
``/login/oidc/`` only, ten minutes) and not in the session as Authlib would keep it: the session
cookie is SameSite=Strict, and a browser does not send it with the provider's redirect back to
the callback (a navigation started on another site), so the state would never match. For the
same reason, when the callback was reached from another site (``Sec-Fetch-Site: cross-site``)
it answers a page that moves on to ``next`` by itself (a meta refresh, no script): a redirect
would still be part of that cross-site navigation, and RFC 6265bis lets a browser withhold the
new Strict cookie from it (Chromium 156 sends it anyway; ``tests/browser/test_browser_oidc.py``
signs in across sites with it).
"""

from __future__ import annotations

import logging

from authlib.integrations.flask_client import FlaskIntegration, OAuth, OAuthError
from joserfc.errors import JoseError
from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from requests import RequestException

from app.domain import accounts

from .access import needs
from .credentials import failed
from .auth import _form, _next_path, record, signed_in

COOKIE = "dashboard_oidc"
COOKIE_PATH = "/login/oidc/"
#: Seconds a started sign-in may take at the provider.
PENDING_FOR = 600
#: Seconds the dashboard waits for the provider's discovery, key set and token answers.
PROVIDER_TIMEOUT = 10

bp = Blueprint("oidc", __name__)
log = logging.getLogger(__name__)


class _CookieState(FlaskIntegration):
    """Authlib's Flask integration with the state kept in :data:`COOKIE` (module docstring):
    ``set_state_data`` leaves it in ``g`` for :func:`start` to set; ``get_state_data`` reads
    the request's cookie, signed by the app's secret key."""

    def set_state_data(self, session, state, data):
        g.oidc_pending = {"state": state, "data": data}

    def get_state_data(self, session, state):
        pending = g.get("oidc_pending")
        if pending is None or not state or pending["state"] != state:
            return None
        return pending["data"]

    def clear_state_data(self, session, state):
        pass  # the callback's answer deletes the cookie, whatever the outcome


class _OAuth(OAuth):
    framework_integration_cls = _CookieState


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="dashboard-oidc")


def _client():
    return current_app.extensions["authlib.integrations.flask_client"].create_client("oidc")


def _callback_url() -> str:
    """The redirect URI the provider must have registered: under ``DASHBOARD_PUBLIC_URL`` when
    set (behind a proxy that does not say how it was reached), else as this request came."""
    public = current_app.config["SETTINGS"].public_url
    if public:
        return public + url_for("oidc.callback")
    return url_for("oidc.callback", _external=True)


@bp.get("/login/oidc")
@needs("open")
def start():
    """Send the browser to the provider (303) with a fresh state, nonce and PKCE challenge;
    ``?next=`` (a path here, else ``/``) is where the callback goes once signed in. 502 with
    the sign-in form when the provider's discovery document cannot be read."""
    try:
        response = _client().authorize_redirect(_callback_url())
    except (RequestException, OAuthError, ValueError) as exc:
        log.warning("OpenID Connect discovery failed: %s", exc.__class__.__name__)
        return _form("Single sign-on is unavailable: the provider did not answer.", 502)
    response.status_code = 303
    pending = {**g.oidc_pending, "next": _next_path()}
    response.set_cookie(COOKIE, _serializer().dumps(pending), max_age=PENDING_FOR,
                        path=COOKIE_PATH, secure=request.is_secure, httponly=True,
                        samesite="Lax")
    return response


def _refuse(why: str, message: str, status: int, name: str | None = None):
    """The sign-in form with ``message`` and ``status``; the failure is counted against the
    client (throttle), logged and kept in the audit log with ``why``."""
    failed(f"single sign-on ({why})")
    record("sign-in-failed", name, who=("anonymous", "none"),
           detail={"with": "oidc", "why": why})
    return _form(message, status)


def _pending() -> dict | None:
    """The sign-in this browser started (:data:`COOKIE`), or None: no cookie, a forged one, or
    one older than :data:`PENDING_FOR`."""
    held = request.cookies.get(COOKIE)
    if not held:
        return None
    try:
        return _serializer().loads(held, max_age=PENDING_FOR)
    except BadSignature:  # SignatureExpired included
        return None


def _verified_claims():
    """The ID token's claims, verified by Authlib; or the refusal to answer instead.

    :return: ``(claims, None)`` or ``(None, response)``.
    """
    if "error" in request.args:
        why = f"provider error {request.args['error'][:60]}"
        return None, _refuse(why, "The provider did not sign you in: "
                                  f"{request.args.get('error_description', '')[:200]}", 401)
    pending = _pending()
    if pending is None or pending["state"] != request.args.get("state"):
        return None, _refuse("state", "That sign-in was not started here, or took too long. "
                                      "Start it again.", 400)
    g.oidc_pending = pending
    try:
        token = _client().authorize_access_token()
    except OAuthError as exc:  # the token endpoint refused the code or the client
        return None, _refuse(f"token: {exc.error}"[:80], "The provider refused the sign-in.",
                             401)
    except JoseError as exc:  # bad signature, wrong nonce, issuer, audience, expired ...
        why = f"id token: {exc.error} {exc.description or ''}".strip()[:120]
        return None, _refuse(why, "The provider's answer could not be verified, so nobody "
                                  "was signed in.", 401)
    except (RequestException, ValueError) as exc:
        log.warning("OpenID Connect token exchange failed: %s", exc.__class__.__name__)
        return None, _refuse("provider unreachable", "Single sign-on is unavailable: the "
                             "provider did not answer.", 502)
    claims = token.get("userinfo")
    if not claims:  # no ID token (a plain OAuth 2 server), so nothing was verified
        return None, _refuse("no id token", "The provider sent no ID token.", 401)
    return claims, None


def _account(claims) -> tuple[dict | None, str | None, str]:
    """The account of the person ``claims`` name, created or given their mapped role.

    :return: ``(account, None, name)``, or ``(None, why, name)`` when they may not sign in.
    :raise app.store.StoreUnavailable: nothing was written.
    """
    settings = current_app.config["SETTINGS"]
    name = str(claims.get("preferred_username") or claims.get("email") or claims["sub"])
    groups = claims.get(settings.oidc_role_claim) or []
    role = settings.role_for([groups] if isinstance(groups, str) else list(groups))
    store = current_app.extensions["dashboard"].store
    try:
        accounts.check_name(name)
    except accounts.AccountError:
        return None, "bad name", name[:100]
    account = accounts.get(store, name)
    if account is None:
        try:
            return accounts.add(store, name, role, None, source="oidc"), None, name
        except accounts.Conflict:  # a sign-in in another tab or worker made it meanwhile
            account = accounts.get(store, name)
    if account.get("source") != "oidc":
        # An account made here with a password must not be taken over by whoever the
        # provider lets call themselves that.
        return None, "local account", name
    if account["disabled"]:
        return None, "disabled", name
    if account["role"] != role:
        account = accounts.set_role(store, name, role)
    return account, None, name


REFUSALS = {
    "bad name": "The provider's user name cannot be used here.",
    "local account": "An account of that name signs in with a password here.",
    "disabled": "That account is disabled.",
}


@bp.get("/login/oidc/callback")
@needs("open")
def callback():
    """Finish the sign-in the provider sends the browser back with (``code``, ``state``).

    Right: a session cookie, and 303 to the ``next`` given to :func:`start` (or, reached from
    another site, a 200 page that goes there by itself: module docstring). Wrong: the sign-in
    form with 400 (a state this browser was not given), 401 (the provider's error, a refused
    code, an ID token that fails verification), 403 (an account that may not sign in) or 502
    (the provider did not answer); the state cookie is deleted either way.
    """
    claims, refusal = _verified_claims()
    if refusal is None:
        account, why, name = _account(claims)
        if why is not None:
            refusal = _refuse(why, REFUSALS[why], 403, name)
    if refusal is not None:
        response = current_app.make_response(refusal)
    else:
        signed_in(account, "oidc")
        target = g.oidc_pending["next"]
        if request.headers.get("Sec-Fetch-Site") == "cross-site":
            response = current_app.make_response(render_template("oidc_done.html",
                                                                 target=target))
        else:
            response = redirect(target, 303)
    response.delete_cookie(COOKIE, path=COOKIE_PATH, secure=request.is_secure, httponly=True,
                           samesite="Lax")
    return response


def register(app: Flask) -> None:
    """Add the blueprint, with the provider of ``DASHBOARD_OIDC_ISSUER`` registered as ``oidc``
    (read on the first sign-in, not at start: a provider that is down does not stop the
    dashboard)."""
    settings = app.config["SETTINGS"]
    oauth = _OAuth(app)
    oauth.register(
        "oidc", client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret.get_secret_value() or None,
        server_metadata_url=f"{settings.oidc_issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256",
                       "default_timeout": PROVIDER_TIMEOUT})
    app.register_blueprint(bp)
