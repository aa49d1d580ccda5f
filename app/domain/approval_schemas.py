"""Payload schemas of the approvals API and the page's approval form (``app.domain.approvals``),
validated with pydantic like the rest of :mod:`app.domain.schemas`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StringConstraints

from .schemas import NoBy, Strict, Text, WholeNumber

ApprovalState = Literal["pending", "approved", "denied", "expired", "withdrawn"]


class ApprovalIn(Strict):
    """``POST /api/v1/approvals``: a yes/no question for a person on the dashboard.

    ``timeout_seconds``: seconds until it expires unanswered, 10 s to 24 h (default 15 min).
    """

    title: Annotated[Text, Field(max_length=200)]
    detail: Annotated[Text, Field(max_length=2000)] | None = None
    source: Annotated[Text, Field(max_length=200)] | None = None
    timeout_seconds: Annotated[int, WholeNumber(10, 86_400)] = 900


def _no_reason(value):
    """An empty or blank reason is no reason (what clients of the permission flow send)."""
    return None if isinstance(value, str) and not value.strip() else value


class ApprovalAnswer(NoBy):
    """``POST /api/v1/approvals/<id>/response``: ``{"approved": bool, "reason"}``; who
    answered comes from the credential, never from the body."""

    approved: Annotated[bool, Field(strict=True)]
    reason: Annotated[Text | None, Field(max_length=500), BeforeValidator(_no_reason)] = None


class ApprovalForm(Strict):
    """The page's Approve / Deny form (``POST /ui/approvals/<id>/response``), form-encoded:
    ``decision`` (which button) and an optional ``reason`` (an empty field means none)."""

    decision: Literal["approve", "deny"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = ""


class Approval(ApprovalIn):
    """A stored approval as the API returns it (``app.domain.approvals``); times are Unix
    seconds, ``answered_at`` is when it left ``pending``."""

    id: Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]
    created_at: float
    expires_at: float
    state: ApprovalState
    approved: bool | None
    reason: str | None
    by: str | None
    answered_at: float | None
    asked_by: str | None = None


class ApprovalQuery(Strict):
    """Query string of ``GET /api/v1/approvals``: ``state`` filters, ``limit`` (newest first)."""

    state: ApprovalState | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
