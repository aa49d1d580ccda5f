"""``/api/v1/approvals``: ask a person, answer, withdraw, read and follow an approval (SSE).

A key with the ``ask`` scope (and no ``read``) reads, follows and withdraws only the approvals
it asked; an admin withdraws any; no credential ever answers an approval it asked itself (a
program must not approve its own deploy). The rules (first
answer wins, expiry, withdrawal) live in ``app.domain.approvals``, whose refusals
``app.web.errors`` answers (404, 409 and 410 JSON, with the approval that stands); the stream
lives in ``app.live.approvals``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Response, current_app, jsonify, request

from app.domain import approvals
from app.domain.i18n import N_, Text
from app.live.approvals import stream
from app.live.delivery import client_socket

from ..payload import parse, parse_query
from ..headers import STREAM_HEADERS
from ..access import needs
from ..credentials import principal
from ..auth import record

if TYPE_CHECKING:
    from app.domain.approval_schemas import ApprovalAnswer

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


def _live():
    return current_app.extensions["dashboard"]


def _known(approval_id: str, right: str = "read") -> dict:
    """The stored approval, if the request's credential has ``right`` or asked it.

    :raise approvals.Unknown: none, or another's that it may not see (``app.web.errors``:
        404 JSON: an asking key learns nothing of other approvals).
    """
    approval = approvals.get(_live().store, approval_id)
    who = principal()
    if approval is None or not (who.can(right) or _asked_by(approval, who)):
        raise approvals.Unknown(Text(N_("no approval '%(id)s'"), id=approval_id))
    return approval


def _asked_by(approval: dict, who) -> bool:
    return who.kind == "key" and approval.get("asked_by") == f"key:{who.name}"


@needs("ask")
def post_approval():
    """Ask: ``{"title", "detail"?, "source"?, "timeout_seconds"?}`` -> ``201 {"id"}``."""
    from app.domain.approval_schemas import ApprovalIn

    spec = parse(ApprovalIn)
    who = principal()
    asked_by = f"key:{who.name}" if who.kind == "key" else who.by
    approval = approvals.ask(_live().store, **spec.model_dump(), asked_by=asked_by)
    return jsonify({"id": approval["id"]}), 201


@needs("read", "ask")
def get_approval(approval_id: str):
    """The approval (its ``state`` says pending, approved, denied, expired or withdrawn), or 404.

    A pending one found past its deadline is expired now rather than shown as pending.
    """
    store = _live().store
    approval = _known(approval_id)
    if approvals.expire_due(store, [approval]):
        approval = approvals.get(store, approval_id) or approval
    return jsonify(approval)


@needs("read")
def list_approvals():
    """Stored approvals, newest first: ``?state=`` filters, ``?limit=`` 1-200 (default 50)."""
    from app.domain.approval_schemas import ApprovalQuery

    query = parse_query(ApprovalQuery)
    return jsonify(approvals.listed(_live().store, query.state, query.limit))


class AskedIt(approvals.ApprovalError):
    """The key that asked an approval tries to answer it (403)."""

    status = 403


def answer(approval_id: str, spec: ApprovalAnswer) -> dict:
    """Record the request's credential's answer ``spec`` to ``approval_id`` and audit it;
    return the approval as answered (also the agent backend's ``permission-response``).

    :raise AskedIt: the credential is the key that asked it. :raise approvals.ApprovalError:
        unknown (404), decided (409) or expired (410), as ``app.domain.approvals`` says.
    """
    who = principal()
    asked = approvals.get(_live().store, approval_id)
    if asked is not None and _asked_by(asked, who):
        raise AskedIt("a key never answers an approval it asked itself; a person (or another "
                      "key with the operate scope) must")
    answered = approvals.answer(_live().store, approval_id, approved=spec.approved,
                                reason=spec.reason, by=who.by)
    record("approval-answer", approval_id, detail={"approved": spec.approved,
                                                   "reason": spec.reason})
    return answered


@needs("operate")
def respond(approval_id: str):
    """Answer: ``{"approved": bool, "reason"?}`` (an empty reason is none) -> 200 with the
    approval, ``by`` the credential's holder; 409 with the decision that stands, 410 once
    expired, 404 unknown, 403 for the key that asked it."""
    from app.domain.approval_schemas import ApprovalAnswer

    return jsonify(answer(approval_id, parse(ApprovalAnswer)))


@needs("ask", "admin")
def withdraw(approval_id: str):
    """Withdraw a pending approval -> 200 with it; 409 once decided (or expired), 404 unknown
    (or another's, for a key that may only withdraw its own)."""
    _known(approval_id, "admin")
    withdrawn = approvals.withdraw(_live().store, approval_id, by=principal().by)
    record("approval-withdraw", approval_id)
    return jsonify(withdrawn)


@needs("read", "ask")
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
