"""Who is asking, and may they: one check before every view (DESIGN.md, "Security").

Every view declares what it needs once, next to it, with :func:`needs`: ``"open"`` (the sign-in
form, probes, assets), or rights: ``read`` (pages, streams, read APIs), ``ingest`` (events,
metrics, samples, tasks, pushed alerts), ``ask`` (approvals of one's own), ``operate``
(acknowledge, silence, answer approvals, the simulator's buttons) and ``admin`` (rules, hosts,
accounts, keys, the audit log). :func:`check_access` reads the declaration of the request's
endpoint and the request's :class:`Principal` (:func:`principal`), which is, first match wins:

1. ``Authorization: Bearer``: an API key (``dk_...``, its scopes' rights) or
   ``DASHBOARD_INGEST_TOKEN`` (a key named ``ingest-token`` with ``ingest`` and ``ask``). A
   wrong one is 401, counted by the throttle (``app.web.throttle``) and logged without it.
2. ``DASHBOARD_AUTH_HEADER`` (``Remote-User``) set by a proxy of ``DASHBOARD_TRUSTED_PROXIES``;
   the same header from any other peer is refused (403), since anybody can send it. With it,
   an ``Authorization`` that is not Bearer (the Basic one nginx's ``auth_basic`` passes on)
   is left to this rule rather than refused as a bad key.
3. A session cookie: a person signed in at ``/login`` (``app.web.auth``, Flask-Login), valid
   while the account is enabled, its generation unchanged, the session not signed out and
   younger than ``DASHBOARD_SESSION_LIFETIME``; or the shared ``DASHBOARD_VIEW_TOKEN`` sign-in,
   a viewer that can never act.
4. With nothing configured (no account, key, token, single sign-on or header mode), a local
   client is an admin (``local``): the loopback rule below, so ``scripts/start`` works alone.
5. With no account, view token, single sign-on or header mode, anyone may view (``anonymous``).

The loopback rule holds only when all three say so: the peer is a loopback address, the ``Host``
header is a loopback name or address (or one listed in ``DASHBOARD_ALLOWED_HOSTS``), and no
forwarding header is present. Why the Host: a page on another site whose name an attacker
re-resolves to 127.0.0.1 (DNS rebinding) reaches us from a local browser with that site's name as
Host. Why the forwarding headers: behind a proxy on the same host every request comes from
127.0.0.1, so the rule would open everything to the world.

A request without the right gets 401 when it has no credential (browsers asking for a page are
sent to ``/login``, htmx requests get ``HX-Redirect: /login``) and 403 naming the role or scope
it needs otherwise. A write a browser sends with its cookie must come from this dashboard's own
pages (``Origin``, or ``Referer``): SameSite cookies aside, that is what stops another site's form.
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app, g, redirect, request

from app.domain.accounts import rights_of_role, rights_of_scopes

from .errors import error_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Headers that say a proxy relayed the request: their presence ends the loopback rule.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
_FORWARDING_KEYS = tuple("HTTP_" + name.upper().replace("-", "_") for name in FORWARDING_HEADERS)
#: The role, and the key scope, that give each right: what a 403 says is missing.
NEEDED = {"read": ("viewer", "read"), "operate": ("operator", "operate"),
          "admin": ("admin", "admin"), "ingest": ("admin", "ingest"), "ask": ("admin", "ask")}
RIGHTS = frozenset(NEEDED)
#: What a request to no route (404, 405) needs: reading for reads, some write right for writes,
#: so that an unauthorised write is refused before it learns which paths exist.
_ANY_WRITE = ("ingest", "ask", "operate", "admin")

log = logging.getLogger(__name__)


def is_write() -> bool:
    """Whether the current request is a program's write (``POST``/``PUT``/``PATCH``/``DELETE``
    under ``/api/`` or ``/simulator/``): what ``/metrics`` counts as ingest."""
    return request.method in WRITE_METHODS and request.path.startswith(("/api/", "/simulator/"))


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

@functools.lru_cache(maxsize=1024)
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
    """Why the loopback rule does not hold for this request (module docstring), as the
    sentence a 403 answer gives, or None when it holds."""
    if not is_loopback(request.remote_addr):
        return "the client is not on loopback"
    environ = request.environ
    relayed = [name for name, key in zip(FORWARDING_HEADERS, _FORWARDING_KEYS) if key in environ]
    if relayed:
        return f"the request came through a proxy ({', '.join(relayed)})"
    name = host_name(request.host)
    if not (is_loopback_host(name) or name in _settings().allowed_host_names):
        return (f"its Host {name!r} is not a loopback name (add it to DASHBOARD_ALLOWED_HOSTS "
                "if it is this machine)")
    return None


def same_origin() -> bool:
    """Whether the request's ``Origin`` (or, without one, ``Referer``) names this host."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    return urlsplit(source).netloc == request.host and source != "null"


# -- who is asking --------------------------------------------------------------------------------

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


def _bearer() -> Principal | None:
    """The key of an ``Authorization: Bearer`` header, None without one.

    :raise Refused: a header that is not a valid key (401).
    """
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, given = header.partition(" ")
    given = given.strip()
    settings = _settings()
    if (scheme.lower() != "bearer" and settings.auth_header
            and settings.auth_header in request.headers):
        # A proxy that checked a password (nginx auth_basic) passes the client's
        # "Authorization: Basic" on: the header mode decides, and refuses untrusted peers.
        return None
    if scheme.lower() != "bearer" or not given:
        response = error_response(401, "send 'Authorization: Bearer <key>'")
        response.headers["WWW-Authenticate"] = 'Bearer realm="dashboard"'
        raise Refused(response)
    from app.domain import accounts as accounts_mod

    token = settings.ingest_token.get_secret_value()
    relayed = request.headers.get("X-Relayed-For", "").strip()[:100] or None
    # Constant time on bytes: str comparison would raise for non-ASCII and leak timing.
    if token and hmac.compare_digest(given.encode(), token.encode()):
        return Principal("key", "ingest-token", "key", rights_of_scopes(("ingest", "ask")),
                         key_id="ingest-token", relayed=relayed)
    parsed = accounts_mod.parse_key(given)
    record = _accounts().key(parsed[0]) if parsed else None
    if (record is not None and not record["revoked"]
            and accounts_mod.secret_matches(record, parsed[1])):
        _accounts().touch_key(record["id"], time.time())
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
    found = _bearer() if "HTTP_AUTHORIZATION" in environ else None
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
    try:
        who = principal()
    except Refused as refused:
        return refused.response
    # Cookies (and the loopback rule, for a local browser) go with another site's forms too;
    # a local program (curl) writing to the API sends no Origin and is no browser.
    if (request.method in WRITE_METHODS and not same_origin()
            and (who.kind in ("person", "view-token") or (
                who.kind == "local" and not request.path.startswith(("/api/", "/simulator/"))))):
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
                and not settings.ingest_token.get_secret_value() and not _accounts().configured()):
            if not request.path.startswith(("/api/", "/simulator/")):
                return error_response(
                    403, f"page actions without signing in are for local viewers only, and "
                         f"{loopback_refusal()}: create an account (flask --app wsgi users add "
                         "NAME --role operator) and sign in")
            return error_response(
                403, f"writes without a key are for local clients only, and "
                     f"{loopback_refusal()}: create an API key (flask --app wsgi users key-add) "
                     "or set DASHBOARD_INGEST_TOKEN and send it as 'Authorization: Bearer <key>'")
        if request.method == "GET" and not request.path.startswith("/api/") \
                and not request.headers.get("HX-Request") and _wants_page():
            return redirect("/login?" + _next(), 303)
        response = error_response(401, "sign in at /login first, or send 'Authorization: "
                                       "Bearer <key>'")
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
    asked = {mimetype for mimetype, _quality in request.accept_mimetypes}
    return not (asked & {"text/event-stream", "application/json"})


def _next() -> str:
    from urllib.parse import urlencode

    return urlencode({"next": request.full_path.rstrip("?")})


class TrustedProxies:
    """WSGI middleware: believe ``X-Forwarded-For`` and ``-Proto`` of the proxies that
    ``DASHBOARD_TRUSTED_PROXIES`` names (Werkzeug's ``ProxyFix``): the last N hops for a count,
    one hop and only from those peers for addresses. The socket's peer stays in
    ``werkzeug.proxy_fix.orig``, where :func:`_from_proxy_header` looks."""

    def __init__(self, wsgi_app, settings) -> None:
        from werkzeug.middleware.proxy_fix import ProxyFix

        self.plain = wsgi_app
        self.settings = settings
        self.fixed = ProxyFix(wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops)

    def __call__(self, environ, start_response):
        if (isinstance(self.settings.trusted_proxies, int)
                or self.settings.is_trusted_proxy(environ.get("REMOTE_ADDR"))):
            return self.fixed(environ, start_response)
        return self.plain(environ, start_response)


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
