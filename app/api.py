"""The JSON API under ``/api/v1``: ingest for other programs, snapshots and the task streams.

Every route here needs a row in ``app.openapi.ROUTES`` (a test checks it).
"""

from __future__ import annotations

import re
import time

from flask import Blueprint, Response, current_app, jsonify
from pydantic import BaseModel

from . import tasks
from .errors import error_response
from .openapi import build as build_openapi
from .schemas import TASK_ID_PATTERN, EventIn, EventQuery, TaskIn, TaskQuery, parse, parse_query
from .stream import STREAM_HEADERS

bp = Blueprint("api", __name__, url_prefix="/api/v1")

_TASK_ID = re.compile(TASK_ID_PATTERN)


def _live():
    return current_app.extensions["dashboard"]


def store_event(event: EventIn | dict) -> int:
    """Append one event to the log; return its id. ``ts`` is set here (Unix seconds)."""
    data = event.model_dump() if isinstance(event, BaseModel) else event
    return _live().store.append("event", {**data, "ts": time.time()})


@bp.post("/events")
def post_event():
    """Take ``{"level", "message", "source"}``; 201 with ``{"id": N}`` once it is stored."""
    event_id = store_event(parse(EventIn))
    return jsonify({"id": event_id}), 201


@bp.get("/events")
def get_events():
    """Up to ``limit`` (1-500, default 100) events, newest first, each ``{"id", "level",
    "message", "source", "ts"}``; ``level`` keeps one level, ``since`` (a log id) only later
    events. 400 naming the parameter for a bad value."""
    query = parse_query(EventQuery)
    where = {"level": query.level} if query.level else None
    items = _live().store.find("event", after_id=query.since, limit=query.limit, where=where)
    return jsonify([{"id": item.id, **item.data} for item in items])


def _known_task(task_id: str) -> dict | None:
    if not _TASK_ID.match(task_id):
        return None
    return _live().store.get_state(tasks.state_key(task_id))


def _no_task(task_id: str):
    return error_response(404, f"no task {task_id!r}")


@bp.put("/tasks/<task_id>")
def put_task(task_id: str):
    """Set a task's state: ``{"state", "progress", "message"?, "estimated_seconds"?}``.

    200 with the stored task; 400 for a ``task_id`` that is not 1-100 of ``[A-Za-z0-9._-]``;
    409 with the stored ``task`` once it succeeded or failed; 415/400/422 for a bad body.
    """
    if not _TASK_ID.match(task_id):
        return error_response(400, "task_id must be 1-100 characters of A-Z a-z 0-9 . _ -",
                              details=[{"field": "task_id", "message": "invalid"}])
    spec = parse(TaskIn)
    try:
        return jsonify(tasks.update_task(_live().store, task_id, spec))
    except tasks.TaskIsFinal as exc:
        return error_response(409, str(exc), task=exc.task)


@bp.get("/tasks/<task_id>")
def get_task(task_id: str):
    """The task's current state, or 404 JSON for an unknown one."""
    task = _known_task(task_id)
    return jsonify(task) if task else _no_task(task_id)


@bp.get("/tasks")
def get_tasks():
    """Stored tasks, most recently updated first, up to ``limit`` (1-1000, default 100)."""
    query = parse_query(TaskQuery)
    return jsonify(tasks.list_tasks(_live().store, query.limit))


@bp.get("/tasks/<task_id>/stream")
def task_stream(task_id: str):
    """SSE: ``progress`` for the current state and each update, then ``complete`` (succeeded)
    or ``error`` (failed) and the end; JSON data, ``id:`` the log id; 404 JSON if unknown."""
    live = _live()
    if _known_task(task_id) is None:
        return _no_task(task_id)
    body = tasks.stream(live.tasks, live.store, live.view, task_id, live.settings.heartbeat)
    return Response(body, mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document of this app's API, built on the first request (``app.openapi``).

    Not at start: building it compiles every pydantic model, memory an idle worker never needs.
    """
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build_openapi(current_app)
    return jsonify(document)


# Routes kept in modules of their own, registered on ``bp`` (imported last: they import ``bp``).
from . import alerts_api, metrics_api, samples_api  # noqa: E402,F401
