"""Who may write (DESIGN.md, "Security"): a bearer token, or loopback clients when none is set.

Every ``POST``/``PUT``/``PATCH``/``DELETE`` under ``/api/`` and ``/simulator/`` passes through
:func:`check_write` before its view runs; reads (the page, ``/stream``, ``/poll``, ``/fragments``,
``/healthz``, ``/metrics``) stay open. Behind a reverse proxy every request comes from the
proxy's address, loopback for a local nginx, so loopback-only is for a bare local run: with a
proxy, set ``DASHBOARD_INGEST_TOKEN``. (No ProxyFix: a client-supplied X-Forwarded-For must not
decide who may write.)
"""

from __future__ import annotations

import hmac
import ipaddress

from flask import Flask, current_app, request

from .errors import error_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRITE_PREFIXES = ("/api/", "/simulator/")


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


def register(app: Flask) -> None:
    """Run :func:`check_write` before every request of ``app``."""
    app.before_request(check_write)
