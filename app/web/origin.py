"""Where a request comes from: the loopback rule, the same-origin check of page actions, and
the proxies whose forwarding headers are believed (DESIGN.md, "Security").

The loopback rule holds only when all three say so: the peer is a loopback address, the ``Host``
header is a loopback name or address (or one listed in ``DASHBOARD_ALLOWED_HOSTS``), and no
forwarding header is present. Why the Host: a page on another site whose name an attacker
re-resolves to 127.0.0.1 (DNS rebinding) reaches us from a local browser with that site's name as
Host. Why the forwarding headers: behind a proxy on the same host every request comes from
127.0.0.1, so the rule would open everything to the world.

The same Host check guards reads too while nothing is configured (:func:`foreign_host`): a
rebinding page would otherwise read events, approvals and processes through a local browser.
A Host that is an IP address passes (no name, nothing to rebind), so a dashboard opened by its
address from another machine still shows; by a name, that name goes in
``DASHBOARD_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from flask import current_app, request

#: Headers that say a proxy relayed the request: their presence ends the loopback rule.
FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
_FORWARDING_KEYS = tuple("HTTP_" + name.upper().replace("-", "_") for name in FORWARDING_HEADERS)


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


def _host_refusal(allow_addresses: bool) -> str | None:
    """Why the request's ``Host`` is not one of ours (a loopback name, one of
    ``DASHBOARD_ALLOWED_HOSTS``, or with ``allow_addresses`` any IP address), or None."""
    name = host_name(request.host)
    if is_loopback_host(name) or name in current_app.config["SETTINGS"].allowed_host_names:
        return None
    if allow_addresses:
        try:
            ipaddress.ip_address(name)
            return None
        except ValueError:
            pass
    return (f"its Host {name!r} is not a loopback name (add it to DASHBOARD_ALLOWED_HOSTS "
            "if it names this machine)")


def loopback_refusal() -> str | None:
    """Why the loopback rule does not hold for this request (module docstring), as the
    sentence a 403 answer gives, or None when it holds."""
    if not is_loopback(request.remote_addr):
        return "the client is not on loopback"
    environ = request.environ
    relayed = [name for name, key in zip(FORWARDING_HEADERS, _FORWARDING_KEYS) if key in environ]
    if relayed:
        return f"the request came through a proxy ({', '.join(relayed)})"
    return _host_refusal(allow_addresses=False)


def foreign_host() -> str | None:
    """Why a request without any credential may not read here: its ``Host`` is a name that is
    neither loopback nor listed (DNS rebinding, module docstring); None when it may."""
    return _host_refusal(allow_addresses=True)


def _own_origin() -> str:
    return f"{request.scheme}://{request.host}"


def same_origin() -> bool:
    """Whether the request's ``Origin`` (or, without one, ``Referer``) is this dashboard's own:
    scheme, host and port (behind a TLS proxy the scheme is the proxy's
    ``X-Forwarded-Proto``, believed from ``DASHBOARD_TRUSTED_PROXIES``)."""
    source = request.headers.get("Origin") or request.headers.get("Referer") or ""
    parts = urlsplit(source)
    return f"{parts.scheme}://{parts.netloc}" == _own_origin() and source != "null"


def cross_site() -> bool:
    """Whether a browser says the request comes from another site: an ``Origin`` that is not
    ours, or ``Sec-Fetch-Site: cross-site``. Programs send neither."""
    origin = request.headers.get("Origin")
    return ((origin is not None and origin != _own_origin())
            or request.headers.get("Sec-Fetch-Site") == "cross-site")


# -- who is asking --------------------------------------------------------------------------------


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
