"""``/api/v1/approvals``: ask a person, answer, withdraw, read and follow an approval (SSE).

Writes pass :func:`app.web.auth.check_write` like every ``/api/`` write. The rules (first
answer wins, expiry, withdrawal) live in ``app.domain.approvals``, whose refusals
``app.web.errors`` answers (404, 409 and 410 JSON, with the approval that stands); the stream
lives in ``app.live.approvals``.
"""

from __future__ import annotations

from flask import Response, current_app, jsonify, request

from app.domain import approvals
from app.domain.approval_schemas import ApprovalAnswer, ApprovalIn, ApprovalQuery
from app.live.approvals import stream
from app.live.delivery import client_socket

from ..payload import parse, parse_query
from ..stream import STREAM_HEADERS


def _live():
    return current_app.extensions["dashboard"]


def _known(approval_id: str) -> dict:
    """The stored approval. :raise approvals.Unknown: none (``app.web.errors``: 404 JSON)."""
    approval = approvals.get(_live().store, approval_id)
    if approval is None:
        raise approvals.Unknown(f"no approval {approval_id!r}")
    return approval


def post_approval():
    """Ask: ``{"title", "detail"?, "source"?, "timeout_seconds"?}`` -> ``201 {"id"}``."""
    spec = parse(ApprovalIn)
    approval = approvals.ask(_live().store, **spec.model_dump())
    return jsonify({"id": approval["id"]}), 201


def get_approval(approval_id: str):
    """The approval (its ``state`` says pending, approved, denied, expired or withdrawn), or 404.

    A pending one found past its deadline is expired now rather than shown as pending.
    """
    store = _live().store
    approval = _known(approval_id)
    if approvals.expire_due(store, [approval]):
        approval = approvals.get(store, approval_id) or approval
    return jsonify(approval)


def list_approvals():
    """Stored approvals, newest first: ``?state=`` filters, ``?limit=`` 1-200 (default 50)."""
    query = parse_query(ApprovalQuery)
    return jsonify(approvals.listed(_live().store, query.state, query.limit))


def respond(approval_id: str):
    """Answer: ``{"approved": bool, "reason"?, "by"?}`` -> 200 with the approval; 409 with the
    decision that stands, 410 once expired, 404 unknown."""
    spec = parse(ApprovalAnswer)
    return jsonify(approvals.answer(_live().store, approval_id, approved=spec.approved,
                                    reason=spec.reason, by=spec.by))


def withdraw(approval_id: str):
    """Withdraw a pending approval -> 200 with it; 409 once decided (or expired), 404 unknown."""
    return jsonify(approvals.withdraw(_live().store, approval_id, by="api"))


def approval_stream(approval_id: str):
    """SSE: ``permission_request`` (unless resumed with ``Last-Event-ID``), then
    ``permission_response`` or ``permission_cleared`` and the end (``app.live.approvals``)."""
    live = _live()
    _known(approval_id)
    resumed = bool(request.headers.get("Last-Event-ID", "").strip())
    body = stream(live.approvals, live.store, live.view, approval_id, live.settings.heartbeat,
                  resumed=resumed, lifetime=live.settings.stream_lifetime,
                  closer=client_socket(request.environ))
    return Response(body, mimetype="text/event-stream", headers=STREAM_HEADERS,
                    direct_passthrough=True)
