"""Who is asking: the :class:`Principal` of a request, worked out once from its credential
(DESIGN.md, "Security"). First match wins:

1. ``Authorization: Bearer``: an API key (``dk_...``, its scopes' rights) or
   ``DASHBOARD_INGEST_TOKEN`` (a key named ``ingest-token`` with ``ingest`` and ``ask``). A
   wrong one is 401, counted by the throttle (``app.web.throttle``) and logged without it.
   With ``DASHBOARD_QUERY_TOKENS=1``, a view marked :func:`query_token` (the agent backend's
   session stream, which a browser's ``EventSource`` opens without headers) takes the same
   key from ``?token=`` when no ``Authorization`` came; anywhere else ``?token=`` is nothing.
2. ``DASHBOARD_AUTH_HEADER`` (``Remote-User``) set by a proxy of ``DASHBOARD_TRUSTED_PROXIES``;
   the same header from any other peer is refused (403), since anybody can send it. With it,
   an ``Authorization`` that is not Bearer (the Basic one nginx's ``auth_basic`` passes on)
   is left to this rule rather than refused as a bad key.
3. A session cookie: a person signed in at ``/login`` (``app.web.auth``, Flask-Login), valid
   while the account is enabled, its generation unchanged, the session not signed out and
   younger than ``DASHBOARD_SESSION_LIFETIME``; or the shared ``DASHBOARD_VIEW_TOKEN`` sign-in,
   a viewer that can never act.
4. With nothing configured (no account, key, token, single sign-on or header mode), a local
   client is an admin (``local``): the loopback rule (``app.web.origin``), so ``scripts/start``
   works alone.
5. With no account, view token, single sign-on or header mode, anyone may view (``anonymous``).
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from dataclasses import dataclass
from urllib.parse import unquote

from flask import current_app, g, request

from app.domain import apikeys
from app.domain.accounts import rights_of_role, rights_of_scopes

from .errors import error_response
from .origin import loopback_refusal

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Principal:
    """Who a request comes from.

    ``kind``: ``person``, ``key``, ``view-token``, ``local`` or ``anonymous``; ``name``: the
    account or key name (None for the last three); ``role``: the person's role, ``key`` for
    keys, ``viewer`` for the view token and anonymous viewers, ``admin`` for ``local``;
    ``rights``: what it may do (:data:`RIGHTS`); ``key_id``: a key's id; ``relayed``: the
    person a key says it acts for (``X-Relayed-For``), for the record only.
    """

    kind: str
    name: str | None
    role: str
    rights: frozenset
    key_id: str | None = None
    relayed: str | None = None

    @property
    def by(self) -> str:
        """Who did it, as actions record it: ``alice``, ``key:deploy-bot``, ``key:chat-bot
        for alice``, ``local``, ``view-token`` or ``anonymous``."""
        if self.kind == "person":
            return self.name
        if self.kind == "key":
            return f"key:{self.name}" + (f" for {self.relayed}" if self.relayed else "")
        return self.kind

    def can(self, right: str) -> bool:
        """Whether it has ``right``."""
        return right in self.rights

    @property
    def signed_in(self) -> bool:
        """Whether it came with a credential (so a refusal is 403, not 401)."""
        return self.kind not in ("anonymous",)


ANONYMOUS = Principal("anonymous", None, "viewer", frozenset())
ANONYMOUS_VIEWER = Principal("anonymous", None, "viewer", frozenset({"read"}))
LOCAL = Principal("local", None, "admin", rights_of_role("admin"))
VIEW_TOKEN = Principal("view-token", None, "viewer", frozenset({"read"}))


def person(name: str, role: str) -> Principal:
    """A signed-in person with ``role``'s rights."""
    return Principal("person", name, role, rights_of_role(role))


# -- the loopback rule ----------------------------------------------------------------------------


def _settings():
    return current_app.config["SETTINGS"]


def _accounts():
    return current_app.extensions["dashboard"].accounts


def failed(what: str) -> None:
    """Count a failed credential against the client (``app.web.throttle``) and log it, never
    with the credential."""
    g.auth_failed = True
    log.warning("%s failed from %s (%s %s)", what, request.remote_addr, request.method,
                request.path)


class Refused(Exception):
    """A credential that was sent and is not valid: ``response`` is the answer."""

    def __init__(self, response) -> None:
        super().__init__(response.status_code)
        self.response = response


#: ``token=<value>`` in a raw query string: the name exactly as written (``%74oken`` is not
#: it), so that what gunicorn.conf.py redacts from log lines is all that is ever taken.
_QUERY_TOKEN = re.compile(r"(?:^|&)token=([^&]*)")


def query_token(view):
    """Declare that ``view`` takes an API key from ``?token=`` (with ``DASHBOARD_QUERY_TOKENS=1``);
    returns the view unchanged, with ``view.query_token`` set."""
    view.query_token = True
    return view


def takes_query_token() -> bool:
    """Whether the request's view was declared with :func:`query_token`."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    return getattr(view, "query_token", False)


def _authorization(environ, settings) -> str | None:
    """The request's ``Authorization``, or ``Bearer <?token=>`` where :func:`query_token`
    allows it (module docstring); None without either."""
    header = environ.get("HTTP_AUTHORIZATION")
    if header is None and settings.query_tokens and takes_query_token():
        found = _QUERY_TOKEN.search(environ.get("QUERY_STRING", ""))
        if found:
            return f"Bearer {unquote(found.group(1))}"
    return header


def issued_key(given: str) -> dict | None:
    """The stored record of the API key ``given`` (``dk_<id>_<secret>``) if this dashboard
    issued it and it is not revoked, else None; the secret is compared in constant time.
    Remembered for the request: the throttle (``app.web.throttle``) asks first."""
    known = g.get("issued_key")
    if known is not None and known[0] == given:  # this request's own header both times
        return known[1]
    parsed = apikeys.parse_key(given)
    record = _accounts().key(parsed[0]) if parsed else None
    if record is not None and (record["revoked"] or not apikeys.secret_matches(record,
                                                                               parsed[1])):
        record = None
    g.issued_key = (given, record)
    return record


def _bearer(header: str) -> Principal | None:
    """The key of an ``Authorization: Bearer`` header (``header``, its value).

    :raise Refused: a header that is not a valid key (401).
    """
    environ = request.environ
    scheme, _, given = header.partition(" ")
    given = given.strip()
    app = current_app._get_current_object()
    settings = app.config["SETTINGS"]
    if (scheme.lower() != "bearer" and settings.auth_header
            and settings.auth_header in request.headers):
        # A proxy that checked a password (nginx auth_basic) passes the client's
        # "Authorization: Basic" on: the header mode decides, and refuses untrusted peers.
        return None
    if scheme.lower() != "bearer" or not given:
        response = error_response(401, "send 'Authorization: Bearer <key>'")
        response.headers["WWW-Authenticate"] = 'Bearer realm="dashboard"'
        raise Refused(response)
    token = settings.ingest_token.get_secret_value()
    relayed = environ.get("HTTP_X_RELAYED_FOR", "").strip()[:100] or None
    # Constant time on bytes: str comparison would raise for non-ASCII and leak timing.
    if token and hmac.compare_digest(given.encode(), token.encode()):
        return Principal("key", "ingest-token", "key", rights_of_scopes(("ingest", "ask")),
                         key_id="ingest-token", relayed=relayed)
    record = issued_key(given)
    if record is not None:
        app.extensions["dashboard"].accounts.touch_key(record["id"], time.time())
        return Principal("key", record["name"], "key", rights_of_scopes(record["scopes"]),
                         key_id=record["id"], relayed=relayed)
    failed("bearer key")
    response = error_response(401, "the bearer key is not valid (revoked, or never issued)")
    response.headers["WWW-Authenticate"] = 'Bearer realm="dashboard", error="invalid_token"'
    raise Refused(response)


def _from_proxy_header(settings) -> Principal | None:
    """The person a trusted proxy names in ``DASHBOARD_AUTH_HEADER``, None without the header.

    :raise Refused: the header came from a peer that is not a trusted proxy (403).
    """
    name = request.headers.get(settings.auth_header)
    if name is None:
        return None
    peer = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR",
                                                                   request.remote_addr)
    if not settings.is_trusted_proxy(peer):
        failed(f"{settings.auth_header} header")
        raise Refused(error_response(
            403, f"the {settings.auth_header} header is believed only from "
                 "DASHBOARD_TRUSTED_PROXIES; sign in through the proxy"))
    from app.domain.accounts import check_name

    from .auth import proxy_person

    try:
        return proxy_person(check_name(name.strip()),
                            request.headers.get(settings.auth_role_header or "", ""))
    except ValueError:
        raise Refused(error_response(403, f"the {settings.auth_header} header does not hold "
                                          "a valid name")) from None


def principal() -> Principal:
    """Who the current request comes from (module docstring), worked out once per request.

    :raise Refused: it sent a credential that is not valid.
    :raise app.store.StoreUnavailable: accounts could not be read.
    """
    held = g._get_current_object()  # one proxy look-up, not one per use
    found = getattr(held, "principal", None)
    if found is not None:
        return found
    app = current_app._get_current_object()
    settings = app.config["SETTINGS"]
    environ = request.environ
    header = _authorization(environ, settings)
    found = _bearer(header) if header is not None else None
    if found is None and settings.auth_header:
        found = _from_proxy_header(settings)
    if found is None and "HTTP_COOKIE" in environ:
        from .auth import session_principal

        found = session_principal()
    if found is None:
        configured = settings.people_configured or app.extensions["dashboard"].accounts.configured()
        if configured and "limiter" not in app.extensions:
            from .throttle import warn_once

            warn_once(app)
        if not (configured or settings.ingest_token.get_secret_value()) and loopback_refusal() is None:
            found = LOCAL
        elif not configured:
            found = ANONYMOUS_VIEWER
        else:
            found = ANONYMOUS
    held.principal = found
    return found
