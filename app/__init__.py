"""The dashboard application factory: it wires the layers and does nothing else.

The layers, each importing only those below it (``tests/test_layers.py`` holds the order)::

    web/      Flask blueprints: page and poll, HTML stream, JSON API (web/api/), auth, ops, ...
    config    settings from DASHBOARD_* variables
    live/     the engine: Live (tailer, sampler loop), pages, hubs, SSE, JSON and task streams
    view/     rendering: the regions of a host's page (LiveView), the SVG charts
    domain/   alerts, tasks, events, custom metrics, the fleet, payload schemas
    sources/  what produces samples: psutil sampler, simulated host, the agent; the ask CLI and
              the MCP server for AI agents (sources/mcp/, an asyncio process apart)
    store/    the log and the state: SQLite or Redis
"""

from __future__ import annotations

import os
import secrets
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict | None = None) -> Flask:
    """Build the app from ``DASHBOARD_*`` variables, with ``config`` overriding them (tests).

    The background greenlets (sampler, tailer) start on the first request, or earlier from
    gunicorn's ``post_worker_init`` hook (``gunicorn.conf.py``), never at import time.

    :raise app.config.ConfigError: a setting is invalid; the message names the variable.
    """
    # Imported here, not at the top: ``import app`` stays free of Flask and gevent, so that
    # ``python -m app.sources.mcp`` (an asyncio process) imports neither.
    from flask import Flask
    from htmx_flask import Htmx

    from .config import ROOT, ConfigError, load_settings
    from .config.apart import load_settings_apart
    from .domain.fleet import Fleet
    from .live.engine import Live
    from .sources import agent, ask
    from .sources.mcp.cli import command as mcp_command
    from .store import open_store
    from .store.tiers import Retention
    from .view.format import FILTERS, GLOBALS
    from .view.host import Inside
    from .view.language import Languages, compiled_templates
    from .view.regions import LiveView
    from .view.timeaxis import zone_of
    from .web import (access, admin, api, assets, audit, auth, compare, compat, dashboard,
                      deadline, errors, fill, headers, language, ops, origin, overview, stream,
                      throttle, users)
    from .web.api import stream as api_stream

    app = Flask(__name__, instance_path=str(ROOT / "instance"),
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    app.jinja_options = {**app.jinja_options, "bytecode_cache": compiled_templates("pages")}
    # From the environment alone, a process apart validates: this one then never loads pydantic
    # until a request validates a payload (a worker at rest, docs/performance.md).
    settings = load_settings_apart() if config is None else load_settings(config)
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_body,
        TESTING=bool((config or {}).get("TESTING", False)),
        # A random key when none is set: sessions then last until the restart, in one process.
        SECRET_KEY=settings.secret_key.get_secret_value() or secrets.token_hex(32),
    )
    Htmx(app)
    app.jinja_env.filters.update(FILTERS)
    app.jinja_env.globals.update(GLOBALS)
    try:
        languages = Languages(app.jinja_env, ROOT / "translations", settings.language,
                              zone_of(settings.timezone))
    except ValueError as exc:
        raise ConfigError(f"DASHBOARD_LANGUAGE: {exc}") from None
    language.register(app, languages)

    store_url = settings.store_url or f"sqlite:///{os.path.join(app.instance_path, 'dashboard.sqlite3')}"
    store = open_store(store_url, log_size=settings.log_size, poll_interval=settings.tail_interval,
                       history_retention=Retention(settings.history_raw, settings.history_minute,
                                                   settings.history_hour))
    view = LiveView(languages.get().env, host=settings.host_name, thresholds=settings.thresholds,
                    feed_size=settings.feed_size, simulator=settings.simulator,
                    zone=zone_of(settings.timezone),
                    fleet=Fleet(settings.stale_after, home=settings.host_name,
                                forget_after=settings.host_retention,
                                thresholds=settings.thresholds),
                    inside=Inside(settings.process_count, settings.process_interval))
    live = Live(settings, store, view, languages)
    app.extensions["dashboard"] = live

    errors.register(app)
    headers.register(app)
    throttle.register(app, store)  # before access: a throttled client gets 429, not another 401
    access.register(app)
    auth.register(app)
    throttle.limit_sign_in(app)
    ops.register(app)
    app.register_blueprint(assets.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(compare.bp)
    app.register_blueprint(stream.bp)
    app.register_blueprint(overview.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_stream.bp)
    compat.register(app)  # the paths of the systems this grew from
    app.cli.add_command(agent.command)  # flask --app wsgi agent --to URL
    app.cli.add_command(ask.command)  # flask --app wsgi ask --to URL "Deploy?"
    app.cli.add_command(fill.command)  # flask --app wsgi history-fill --host NAME --days 7
    app.cli.add_command(users.command)  # flask --app wsgi users add NAME --role ROLE
    app.cli.add_command(mcp_command)  # flask --app wsgi mcp --to URL (python -m app.sources.mcp)
    if settings.oidc_issuer:
        # Imported only here: Authlib costs memory in every process of a dashboard without it.
        from .web import oidc

        oidc.register(app)
    if settings.simulator:
        from .web import simulator

        app.register_blueprint(simulator.bp)
        app.register_blueprint(simulator.ui_bp)

    app.before_request(live.start)
    app.wsgi_app = deadline.BodyDeadline(app.wsgi_app, settings.body_timeout)
    if settings.trusted_proxies:
        app.wsgi_app = origin.TrustedProxies(app.wsgi_app, settings)
    app.wsgi_app = dashboard.NotModifiedPolls(
        app.wsgi_app, live, open_view=settings.view_token.get_secret_value() == "")
    return app
