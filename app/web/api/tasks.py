"""``/api/v1/tasks``: set a task's state and progress, read it, list tasks, follow one (SSE)."""

from __future__ import annotations

import re

from flask import Response, current_app, jsonify, request

from app.domain import tasks
from app.domain.payloads import TASK_ID_PATTERN
from app.live.delivery import client_socket
from app.live.tasks import stream

from ..errors import error_response
from ..payload import parse, parse_query
from ..headers import STREAM_HEADERS
from ..access import needs

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).

_TASK_ID = re.compile(TASK_ID_PATTERN)


def _live():
    return current_app.extensions["dashboard"]


def known_task(task_id: str) -> dict | None:
    if not _TASK_ID.match(task_id):
        return None
    return _live().store.get_state(tasks.state_key(task_id))


def no_task(task_id: str):
    return error_response(404, f"no task {task_id!r}")


@needs("ingest")
def put_task(task_id: str):
    """Set a task's state: ``{"state", "progress", "message"?, "estimated_seconds"?}``.

    200 with the stored task; 400 for a ``task_id`` that is not 1-100 of ``[A-Za-z0-9._-]``;
    409 with the stored ``task`` once it succeeded or failed; 415/400/422 for a bad body.
    """
    if not _TASK_ID.match(task_id):
        return error_response(400, "task_id must be 1-100 characters of A-Z a-z 0-9 . _ -",
                              details=[{"field": "task_id", "message": "invalid"}])
    from app.domain.schemas import TaskIn

    spec = parse(TaskIn)
    try:
        return jsonify(tasks.update_task(_live().store, task_id, spec))
    except tasks.TaskIsFinal as exc:
        return error_response(409, str(exc), task=exc.task)


@needs("read")
def get_task(task_id: str):
    """The task's current state, or 404 JSON for an unknown one."""
    task = known_task(task_id)
    return jsonify(task) if task else no_task(task_id)


@needs("read")
def get_tasks():
    """Stored tasks, most recently updated first, up to ``limit`` (1-1000, default 100)."""
    from app.domain.schemas import TaskQuery

    query = parse_query(TaskQuery)
    return jsonify(tasks.list_tasks(_live().store, query.limit))


@needs("read")
def task_stream(task_id: str):
    """SSE: ``progress`` for the current state and each update, then ``complete`` (succeeded)
    or ``error`` (failed) and the end; JSON data, ``id:`` the log id; 404 JSON if unknown."""
    live = _live()
    if known_task(task_id) is None:
        return no_task(task_id)
    body = stream(live.tasks, live.store, live.view, task_id, live.settings.heartbeat,
                  live.settings.stream_lifetime, client_socket(request.environ))
    return Response(body, mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)
