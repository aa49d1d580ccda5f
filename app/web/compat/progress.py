"""The task-progress service's stream: ``GET /api/v1/sse/tasks/<task_id>/progress``.

The dashboard's own task stream (``app.live.tasks``) with that service's encoding
(:func:`app.live.compat.formats.progress_message`): ``event: progress`` with ``{"task_id",
"state", "progress", "estimated_time", "updated_at"}`` (ISO-8601), then ``complete`` or
``error`` and the end. 404 for an unknown task, 401 for a bad key, as that service answered.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from app.live.compat.formats import progress_message
from app.live.delivery import client_socket
from app.live.tasks import stream as task_stream

from ..access import needs
from ..api.tasks import known_task, no_task
from ..headers import STREAM_HEADERS

bp = Blueprint("progress", __name__)


@bp.get("/api/v1/sse/tasks/<task_id>/progress")
@needs("read")
def progress(task_id: str):
    """SSE: ``progress`` for the current state and each update, then ``complete`` or
    ``error``; ``id:`` the log id; 404 JSON for an unknown task."""
    live = current_app.extensions["dashboard"]
    if known_task(task_id) is None:
        return no_task(task_id)
    body = task_stream(live.tasks, live.store, live.view, task_id, live.settings.heartbeat,
                       live.settings.stream_lifetime, client_socket(request.environ),
                       encode=progress_message)
    return Response(body, mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)
