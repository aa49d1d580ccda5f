"""Throttling of credential guessing with Flask-Limiter: failed bearer keys, failed sign-ins
and refused proxy headers, counted per client address on every route, and failed sign-ins also
per account name.

One application-wide limit, ``DASHBOARD_AUTH_FAILURES_PER_MINUTE`` per minute (default 10),
that only a failure deducts from (``app.web.access.failed`` marks the request); once a client
address is past it, every request of it that carries a credential gets ``429`` with
``Retry-After`` until the minute is over, a right one included. Sign-in posts have a second
limit of the same size keyed by the name typed, so that guessing one person's password from many
addresses is throttled too. Requests that carry no credential are exempt, so they cost no
look-up. The counts live in the store's Redis when there is one (every worker and host shares
them), in each process's memory otherwise.

Limits are per client address as Flask sees it: behind a proxy, that is the proxy unless
``DASHBOARD_TRUSTED_PROXIES`` says which proxies' ``X-Forwarded-For`` to trust.
"""

from __future__ import annotations

from flask import Flask, g, request


def _carries_credential() -> bool:
    """Whether the request carries something a guess could be made with."""
    return ("Authorization" in request.headers
            or (request.path == "/login" and request.method == "POST")
            or request.path == "/login/oidc/callback")  # a code (and state) from the provider


def _failed(_response) -> bool:
    return bool(g.get("auth_failed"))


def register(app: Flask) -> None:
    """Install the limiter on ``app``; call it before ``app.web.access.register`` so that its
    check runs first (a throttled client gets 429, not another 401)."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    settings = app.config["SETTINGS"]
    store_url = settings.store_url
    storage = store_url if store_url.startswith(("redis://", "rediss://")) else "memory://"
    per_minute = f"{settings.auth_failures_per_minute} per minute"
    limiter = Limiter(
        get_remote_address, app=app, storage_uri=storage, key_prefix="dashboard-auth",
        application_limits=[per_minute],
        application_limits_deduct_when=_failed,
        application_limits_exempt_when=lambda: not _carries_credential(),
        headers_enabled=True, retry_after="delta-seconds",
        # A Redis hiccup must not turn writes into 500s: the write itself answers 503 then.
        swallow_errors=True)
    app.extensions["limiter"] = limiter


def limit_sign_in(app: Flask) -> None:
    """Also limit failed sign-ins per account name typed; call it once ``/login`` exists."""
    settings = app.config["SETTINGS"]
    limit = app.extensions["limiter"].shared_limit(
        f"{settings.auth_failures_per_minute} per minute", scope="sign-in-name",
        deduct_when=_failed,
        key_func=lambda: "name:" + request.form.get("name", "").strip().lower()[:100],
        exempt_when=lambda: request.method != "POST" or "name" not in request.form)
    app.view_functions["auth.login"] = limit(app.view_functions["auth.login"])
