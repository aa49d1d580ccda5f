"""Throttling of token guessing: failed bearer checks and failed ``/login`` posts, counted per
client address with Flask-Limiter.

One application-wide limit, ``DASHBOARD_AUTH_FAILURES_PER_MINUTE`` per minute (default 10),
that only a failure deducts from (``app.web.auth.failed`` marks the request); once a client
address is past it, every write and login from it gets ``429`` with ``Retry-After`` until the
minute is over, a right token included. Requests that cannot guess a token (reads, and writes or
logins while no token is configured) are exempt, so they cost no look-up. The counts live in the
store's Redis when there is one (every worker and host shares them), in each process's memory
otherwise.

Limits are per client address as Flask sees it: behind a proxy, that is the proxy unless
``DASHBOARD_TRUSTED_PROXIES`` says how many proxies' ``X-Forwarded-For`` to trust.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request

from .auth import is_write


def _can_guess() -> bool:
    """Whether the request carries a token that a configured one is checked against."""
    settings = current_app.config["SETTINGS"]
    if is_write():
        return bool(settings.ingest_token.get_secret_value())
    return (request.path == "/login" and request.method == "POST"
            and bool(settings.view_token.get_secret_value()))


def register(app: Flask) -> None:
    """Install the limiter on ``app``; call it before ``app.web.auth.register`` so that its
    check runs first (a throttled client gets 429, not another 401).

    Without any token there is nothing to guess, so nothing is installed: Flask-Limiter (and
    its storage library) then cost no worker memory (about 2 MB each otherwise).
    """
    settings = app.config["SETTINGS"]
    if not (settings.ingest_token.get_secret_value() or settings.view_token.get_secret_value()):
        return
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    store_url = settings.store_url
    storage = store_url if store_url.startswith(("redis://", "rediss://")) else "memory://"
    Limiter(
        get_remote_address, app=app, storage_uri=storage, key_prefix="dashboard-auth",
        application_limits=[f"{settings.auth_failures_per_minute} per minute"],
        application_limits_deduct_when=lambda _response: bool(g.get("auth_failed")),
        application_limits_exempt_when=lambda: not _can_guess(),
        headers_enabled=True, retry_after="delta-seconds",
        # A Redis hiccup must not turn writes into 500s: the write itself answers 503 then.
        swallow_errors=True)
