"""Throttling of credential guessing with Flask-Limiter: failed bearer keys, failed sign-ins
and refused proxy headers, counted per client address on every route, and failed sign-ins also
per account name.

One application-wide limit, ``DASHBOARD_AUTH_FAILURES_PER_MINUTE`` per minute (default 10),
that only a failure deducts from (``app.web.credentials.failed`` marks the request); once a client
address is past it, every request of it that carries a credential gets ``429`` with
``Retry-After`` until the minute is over, a right password or token included, so that a
guesser cannot tell a right guess from a wrong one. Only that answer carries ``Retry-After``;
the others carry no ``X-RateLimit-*`` headers: working them out cost two more look-ups in the
store per request that carries a credential (each agent's post, issue 29), for a limit that
only failures count against.

A right API key that this dashboard issued (``dk_<id>_<secret>``) is the exception: it is never
checked against the limit. Its secret is 256 random bits, which no guesser finds with or
without a throttle, and letting it through means that an agent behind the same address (a NAT,
a proxy) as a guesser keeps posting; the check cost every agent post a look-up in the store's
Redis, about a tenth of a fleet's ingest CPU (issue 29). A wrong key still counts as a failure.

Sign-in posts have a second limit of the same size keyed by the name typed, so that guessing
one person's password from many addresses is throttled too. Requests that carry no credential
are exempt, so they cost no look-up. The counts live in the store's Redis when there is one
(every worker and host shares them; with Sentinel, on the primary the sentinels name), in each
process's memory otherwise.

Limits are per client address as Flask sees it: behind a proxy, that is the proxy unless
``DASHBOARD_TRUSTED_PROXIES`` says which proxies' ``X-Forwarded-For`` to trust.

The limiter is installed only where a credential can be guessed when the process starts (a
token, single sign-on, header mode, or an account or key in the store): Flask-Limiter and the
``limits`` library it brings (with asyncio) cost every worker about 4 MB, which a dashboard that
nobody signs in to need not pay. A process that started with nothing and then sees the first
account created logs once that it must be restarted for failed sign-ins to be throttled
(:func:`warn_once`).
"""

from __future__ import annotations

import time

from flask import Flask, g, request

from app.domain import apikeys


def _carries_credential() -> bool:
    """Whether the request carries something a guess could be made with."""
    return ("Authorization" in request.headers
            or b"token=" in request.query_string  # a key in ?token= (DASHBOARD_QUERY_TOKENS)
            or (request.path == "/login" and request.method == "POST")
            or request.path == "/login/oidc/callback")  # a code (and state) from the provider


def _exempt() -> bool:
    """No credential, or a right API key this dashboard issued (``dk_...``): see the module
    docstring."""
    if not _carries_credential():
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.startswith(apikeys.KEY_PREFIX):
        return False
    from .credentials import issued_key

    return issued_key(given.strip()) is not None


def _failed(_response) -> bool:
    return bool(g.get("auth_failed"))


def guessable(settings, store) -> bool:
    """Whether a credential can be guessed now: a token, single sign-on, header mode, or an
    account or key in the store (a store that does not answer counts as yes)."""
    from app.domain.accountcache import any_exist
    from app.store import StoreUnavailable

    if (settings.people_configured or settings.ingest_token.get_secret_value()
            or settings.metrics_token.get_secret_value()):
        return True
    try:
        return any_exist(store)
    except StoreUnavailable:
        return True


_warned: list[bool] = []


def warn_once(app: Flask) -> None:
    """Log once per process that accounts appeared after start, so nothing throttles yet."""
    if not _warned and "limiter" not in app.extensions:
        _warned.append(True)
        app.logger.warning("accounts or keys were created after this process started: restart "
                           "the dashboard so that failed sign-ins and keys are throttled")


def register(app: Flask, store) -> None:
    """Install the limiter on ``app`` if a credential can be guessed (module docstring); call
    it before ``app.web.access.register`` so that its check runs first (a throttled client gets
    429, not another 401).

    :param store: the process's :class:`~app.store.Store`.
    """
    if not guessable(app.config["SETTINGS"], store):
        return
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    settings = app.config["SETTINGS"]
    # On the store's Redis, following its primary through a failover (limits' own
    # redis+sentinel:// storage); in this process's memory with SQLite.
    target = getattr(store, "target", None)
    storage, options = target.limiter_storage() if target else ("memory://", {})
    per_minute = f"{settings.auth_failures_per_minute} per minute"
    limiter = Limiter(
        get_remote_address, app=app, storage_uri=storage, storage_options=options,
        key_prefix="dashboard-auth",
        application_limits=[per_minute],
        application_limits_deduct_when=_failed,
        headers_enabled=False,
        # A Redis hiccup must not turn writes into 500s: the write itself answers 503 then.
        swallow_errors=True)
    # A request filter, not application_limits_exempt_when: it runs before Flask-Limiter
    # works out which limits apply, which cost as much again as the exemption itself.
    limiter.request_filter(_exempt)
    app.extensions["limiter"] = limiter

    @app.after_request
    def retry_after(response):
        """``Retry-After`` (whole seconds, at least 1) on a throttled answer."""
        if response.status_code == 429 and "Retry-After" not in response.headers:
            current = limiter.current_limit
            try:
                reset_at = current.reset_at if current is not None else None
            except Exception:  # noqa: BLE001 - the store went away meanwhile: 429 all the same
                reset_at = None
            if reset_at is not None:
                response.headers["Retry-After"] = str(max(int(reset_at - time.time()), 1))
        return response


def limit_sign_in(app: Flask) -> None:
    """Also limit failed sign-ins per account name typed; call it once ``/login`` exists."""
    if "limiter" not in app.extensions:
        return
    settings = app.config["SETTINGS"]
    limit = app.extensions["limiter"].shared_limit(
        f"{settings.auth_failures_per_minute} per minute", scope="sign-in-name",
        deduct_when=_failed,
        key_func=lambda: "name:" + request.form.get("name", "").strip().lower()[:100],
        exempt_when=lambda: request.method != "POST" or "name" not in request.form)
    app.view_functions["auth.login"] = limit(app.view_functions["auth.login"])
