"""The compatibility layer's routes: the paths of the four systems this dashboard grew from,
served from the dashboard's own log, tasks, approvals and streams (the manual,
docs/compat.md; the streams themselves are ``app.live.compat``).

- the agent OS dashboard (:mod:`.agentos`): ``/api/metrics/stream``, ``/api/metrics``,
  ``/api/events``;
- the task-progress service (:mod:`.progress`): ``/api/v1/sse/tasks/<id>/progress``;
- the SSE demo (:mod:`.demo`): ``/api/events/metrics``, ``/alerts``, ``/all``;
- the agent backend (:mod:`.sessions`): ``/api/sse/events/<session>``,
  ``/permission-response/<session>``, ``/health/<session>``, under ``DASHBOARD_COMPAT_PREFIX``.

Every route says what it needs (``app.web.access``) like the dashboard's own; only the session
stream takes a key from ``?token=`` (``app.web.credentials.query_token``).
"""

from __future__ import annotations

from flask import Flask

from . import agentos, demo, progress, sessions


def register(app: Flask) -> None:
    """Register the compatibility blueprints; the agent backend's under
    ``DASHBOARD_COMPAT_PREFIX`` (empty: at the root)."""
    app.register_blueprint(agentos.bp)
    app.register_blueprint(demo.bp)
    app.register_blueprint(progress.bp)
    prefix = app.config["SETTINGS"].compat_prefix
    app.register_blueprint(sessions.bp, url_prefix=f"{prefix}/api/sse")
