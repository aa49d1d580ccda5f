"""Signing in and out: ``/login`` (a name and password, or the shared view token), ``/logout``,
and the session a person's browser carries (Flask-Login, a signed cookie).

A person's session names the account, its generation and a session id whose hash the account
keeps (``app.domain.accounts``); it is valid while the account is enabled, its generation is
unchanged (disabling, a new password or another role bump it), the session was not signed out
and it is younger than ``DASHBOARD_SESSION_LIFETIME`` (absolute, from the sign-in). Every process
checks this on each request against its :class:`~app.domain.accountcache.Accounts` cache, so a
change made anywhere ends the session everywhere within about half a second, and the tailer
ends that person's open streams (``app.live.engine``).

The view token (``DASHBOARD_VIEW_TOKEN``) signs a wall display in as a viewer: its session holds
an HMAC of the token under the secret key, so changing the token ends every such session and the
cookie reveals nothing of it. Session cookies are HttpOnly, SameSite=Strict, and ``Secure`` when
the request reaching Flask is https (or said so by a trusted proxy).

Failed sign-ins are counted per client address and per account name (``app.web.throttle``),
recorded in the audit log and logged, never with the password.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlsplit

from flask import (Blueprint, Flask, current_app, g, redirect, render_template, request, session,
                   url_for)
from flask.sessions import SecureCookieSessionInterface
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from app.domain import accounts, audit
from app.domain.accounts import sid_hash

from .access import needs
from .credentials import VIEW_TOKEN, failed, person
from .origin import same_origin
from .errors import error_response

_VIEWER_KEY = "viewer"

bp = Blueprint("auth", __name__)


class Person(UserMixin):
    """A signed-in person as Flask-Login holds them: ``id`` is ``name:generation:sid``."""

    def __init__(self, account: dict, sid: str) -> None:
        self.name = account["name"]
        self.role = account["role"]
        self.sid = sid
        self.id = f"{self.name}:{account['generation']}:{sid}"


def _live():
    return current_app.extensions["dashboard"]


def load_person(user_id: str) -> Person | None:
    """Flask-Login's user loader: the person of a session id, or None when that session is no
    longer valid (module docstring)."""
    name, _, rest = user_id.partition(":")
    generation, _, sid = rest.partition(":")
    account = _live().accounts.account(name)
    if account is None or account["disabled"] or str(account["generation"]) != generation:
        return None
    started = account["sessions"].get(sid_hash(sid))
    if started is None or time.time() - started > current_app.config["SETTINGS"].session_lifetime:
        return None
    return Person(account, sid)


def _tag(token: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"view:" + token.encode(), hashlib.sha256).hexdigest()


def session_principal():
    """The :class:`~app.web.credentials.Principal` of the request's session cookie, or None."""
    if current_app.config["SESSION_COOKIE_NAME"] not in request.cookies:
        return None  # no cookie: nothing to verify, not even the signer
    user = current_user._get_current_object()
    if user.is_authenticated:
        g.person = user
        return person(user.name, user.role)
    held = session.get(_VIEWER_KEY)
    token = current_app.config["SETTINGS"].view_token.get_secret_value()
    if token and isinstance(held, str) and hmac.compare_digest(held, _tag(token)):
        return VIEW_TOKEN
    return None


def stream_owner() -> tuple[str, str] | None:
    """The ``(name, session hash)`` of the signed-in person a stream belongs to (their
    sign-out, disabling or new role ends it: ``app.live.hub.Hub.end_sessions``), or None."""
    held = g.get("person")
    return (held.name, sid_hash(held.sid)) if held is not None else None


def proxy_person(name: str, role_value: str):
    """The person a trusted proxy's header names: their role from the role header (a role
    name, or groups mapped by ``DASHBOARD_OIDC_ROLES``), else their account's, else viewer.

    :raise ValueError: the account of that name is disabled.
    """
    account = _live().accounts.account(name)
    if account is not None and account["disabled"]:
        raise ValueError("disabled")
    settings = current_app.config["SETTINGS"]
    if settings.auth_role_header:
        role = settings.role_for([v.strip() for v in role_value.split(",")])
    else:
        role = account["role"] if account is not None else "viewer"
    return person(name, role)


def record(action: str, target: str | None = None, *, who=None, detail: dict | None = None):
    """Keep an audit entry of the current request: by the request's principal (or ``who``,
    a principal or a ``(name, role)`` pair), from its client address."""
    from .credentials import principal

    if who is None:
        who = principal()
    name, role = (who.by, who.role) if hasattr(who, "by") else who
    return audit.record(_live().store, who=name, role=role, action=action, target=target,
                        address=request.remote_addr, detail=detail)


def _next_path() -> str:
    """Where to go after signing in: ``?next=`` if it is a path of this dashboard, else ``/``."""
    wanted = request.values.get("next", "/")
    parts = urlsplit(wanted)
    # Nor a backslash, tab or newline: browsers read "/\\evil.example" and "/\t/evil.example"
    # as "//evil.example", another site.
    if (parts.scheme or parts.netloc or not wanted.startswith("/") or wanted.startswith("//")
            or "\\" in wanted or not wanted.isprintable()):
        return "/"
    return wanted


def signed_in(account: dict, how: str) -> None:
    """Open a session for ``account`` in this response and record the sign-in.

    :raise app.store.StoreUnavailable: nothing was opened.
    """
    store = _live().store
    account, sid = accounts.open_session(store, account["name"])
    session.clear()
    session.permanent = True
    login_user(Person(account, sid))
    record("sign-in", account["name"], who=(account["name"], account["role"]),
           detail={"with": how})


def _form(error: str | None = None, status: int = 200):
    settings = current_app.config["SETTINGS"]
    return render_template("login.html", error=error, next=_next_path(),
                           view_token=bool(settings.view_token.get_secret_value()),
                           oidc=bool(settings.oidc_issuer)), status


@bp.route("/login", methods=["GET", "POST"])
@needs("open")
def login():
    """The sign-in form (GET) and its post: ``name`` and ``password``, or ``token`` (the view
    token). Never in the URL.

    Right: a session cookie and 303 to ``?next=`` (a path here) or ``/``. Wrong: the form
    again with 401, the same message for an unknown name and a wrong password. With nothing to
    sign in with (no account, view token or single sign-on): 303 to ``/``.
    """
    settings = current_app.config["SETTINGS"]
    token = settings.view_token.get_secret_value()
    if not (token or settings.oidc_issuer or _live().accounts.configured()):
        return redirect("/", 303)
    if request.method == "GET":
        return _form()
    given = request.form.get("token")
    if given is not None:
        # Constant time on bytes: str comparison would raise for non-ASCII and leak timing.
        if token and given and hmac.compare_digest(given.encode(), token.encode()):
            session.clear()
            session[_VIEWER_KEY] = _tag(token)
            record("sign-in", "view-token", who=("view-token", "viewer"))
            return redirect(_next_path(), 303)
        failed("view token")
        record("sign-in-failed", "view-token", who=("anonymous", "none"))
        return _form("That token is not valid.", 401)
    name = request.form.get("name", "").strip()
    account = accounts.verify_password(_live().store, name, request.form.get("password", ""))
    if account is None:
        failed("sign-in")
        record("sign-in-failed", name[:100] or None, who=("anonymous", "none"))
        return _form("That name and password do not match an enabled account.", 401)
    signed_in(account, "password")
    return redirect(_next_path(), 303)


@bp.post("/logout")
@needs("open")
def logout():
    """End the session for good (the account forgets it); 303 to ``/login``. 403 JSON unless
    the form came from this dashboard's own pages (a cross-site form must not sign one out)."""
    if not same_origin():
        return error_response(403, "sign out from this dashboard's own pages (the Origin "
                                   "header does not match)")
    if current_user.is_authenticated:
        accounts.close_session(_live().store, current_user.name, current_user.sid)
        _live().accounts.forget(current_user.name)
        record("sign-out", current_user.name, who=(current_user.name, current_user.role))
        logout_user()
    session.clear()
    return redirect(url_for("auth.login"), 303)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, marked ``Secure`` whenever the request is https, with
    the cookies verified in the last :attr:`remember` seconds remembered (at most
    :attr:`kept` of them): checking a cookie's signature and decoding it costs about ten times
    the rest of the credential check, and a signed-in page sends the same cookie with every
    poll and stream. What a cookie says is checked against the account on every request all
    the same (``load_person``)."""

    remember, kept = 60.0, 4096

    def __init__(self) -> None:
        self._verified: dict[str, tuple[float, dict]] = {}

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure or super().get_cookie_secure(app)

    def open_session(self, app: Flask, request):
        # Without a cookie there is nothing to verify: skip building the signer, which costs
        # every poll and stream request of a dashboard without login a few percent.
        cookie = request.cookies.get(app.config["SESSION_COOKIE_NAME"])
        if cookie is None:
            return self.session_class()
        now = time.monotonic()
        held = self._verified.get(cookie)
        if held is not None and now - held[0] < self.remember:
            return self.session_class(held[1])
        session = super().open_session(app, request)
        if session:  # a cookie that verified; a bad one is an empty session, not remembered
            if len(self._verified) >= self.kept:
                self._verified = {k: v for k, v in self._verified.items()
                                  if now - v[0] < self.remember}
                if len(self._verified) >= self.kept:
                    self._verified.clear()
            self._verified[cookie] = (now, dict(session))
        return session


def register(app: Flask) -> None:
    """Add ``/login`` and ``/logout`` and Flask-Login's session loading; session cookies are
    HttpOnly, SameSite=Strict and last ``DASHBOARD_SESSION_LIFETIME``."""
    settings = app.config["SETTINGS"]
    # No refresh on each request: a sign-in lasts DASHBOARD_SESSION_LIFETIME from the moment
    # it was made, and re-signing the cookie on every poll would cost a signature each.
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_NAME="dashboard_session",
                      PERMANENT_SESSION_LIFETIME=settings.session_lifetime,
                      SESSION_REFRESH_EACH_REQUEST=False)
    app.session_interface = SessionInterface()
    manager = LoginManager(app)
    # The account's list of sessions ends them for good; a hash of address and browser
    # would only sign people out when their address changes.
    manager.session_protection = None
    manager.user_loader(load_person)
    app.register_blueprint(bp)
