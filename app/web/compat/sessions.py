"""The agent backend's session flow, under ``DASHBOARD_COMPAT_PREFIX`` (``/agent_backend``):

- ``GET /api/sse/events/<session_id>``: the session's stream (``app.live.compat.sessions``).
  A browser's ``EventSource`` sends no headers, so this route alone takes the key from
  ``?token=``, and only with ``DASHBOARD_QUERY_TOKENS=1`` (``app.web.credentials``).
- ``POST /api/sse/permission-response/<session_id>`` with ``{"approved", "reason"}``: answers
  the session's pending approval, the newest if several wait (the one its page shows last), as
  ``POST /api/v1/approvals/<id>/response`` would (operators and ``operate`` keys; audited);
  ``{"success": true, "message", "approval"}``, 404 when none is pending.
- ``GET /api/sse/health/<session_id>``: whether the session has a live stream, on any worker
  or host that shares the store.

A session is the ``source`` of what the agent posts; nothing else is stored for it.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from app.domain import approvals
from app.live.compat import session_stream
from app.live.delivery import client_socket, direct_socket
from app.live.viewers import session_streams

from ..access import needs
from ..api.approvals import answer
from ..credentials import principal, query_token
from ..errors import error_response
from ..payload import parse
from ..headers import STREAM_HEADERS

bp = Blueprint("sessions", __name__)


def _live():
    return current_app.extensions["dashboard"]


@bp.get("/events/<session_id>")
@needs("read")
@query_token
def events(session_id: str):
    """Unnamed messages ``{"session_id", "type", "data", "timestamp"}``: the session's state,
    then its ``permission_request``, ``permission_cleared``, ``tool_status``, ``tool_result``
    and ``heartbeat`` messages."""
    live, environ = _live(), request.environ
    body = session_stream(live.compat, session_id, live.settings.stream_lifetime,
                          direct_socket(environ), client_socket(environ))
    return Response(body, mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)


@bp.post("/permission-response/<session_id>")
@needs("operate")
def permission_response(session_id: str):
    """Answer the session's pending approval: ``{"approved": bool, "reason": "..."}`` (an
    empty reason is none) -> ``{"success": true, "message", "approval"}``; 404 when none is
    pending; 403 for the key that asked it; 409 / 410 as an answer by id gets."""
    # The schema loads on the first answer: a worker at rest never imports pydantic
    # (docs/performance.md).
    from app.domain.approval_schemas import ApprovalAnswer

    spec = parse(ApprovalAnswer)
    pending = approvals.listed(_live().store, approvals.PENDING, limit=10_000)
    asked = next((a for a in pending if a.get("source") == session_id), None)  # newest first
    if asked is None:
        return error_response(404, f"no pending approval of session {session_id!r}")
    answered = answer(asked["id"], spec)
    return jsonify({"success": True, "message": f"approval {answered['state']}",
                    "approval": answered})


@bp.get("/health/<session_id>")
@needs("read")
def health(session_id: str):
    """``{"success": true, "data": {"chat_session_id", "user_id", "connected",
    "subscriber_count", "manager_status"}}``: its open streams in this process, and in every
    other live one (as each shares its count through the store, within a second)."""
    live = _live()
    count = live.compat.sessions.count(session_id) + session_streams(live.store, session_id,
                                                                      live.owner)
    return jsonify({"success": True, "data": {
        "chat_session_id": session_id, "user_id": principal().by, "connected": count > 0,
        "subscriber_count": count, "manager_status": "running" if live.started else "stopped"}})
