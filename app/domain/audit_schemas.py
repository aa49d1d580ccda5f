"""The query of the audit log: ``GET /api/v1/audit`` and the ``/audit`` page's filter
(:class:`AuditQuery`), validated with pydantic like the rest of :mod:`app.domain.schemas`; the
log itself is :mod:`app.domain.audit`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from .audit import ACTIONS
from .schemas import Strict, UnixTime


class AuditQuery(Strict):
    """Query string of ``GET /api/v1/audit``: ``who`` and ``action`` (one of
    :data:`app.domain.audit.ACTIONS`) keep entries with exactly that value, ``since``
    (inclusive) and ``until`` (exclusive) are Unix seconds, ``before`` an entry id (the
    answer's ``next``: the page after), ``limit`` 1-500 (default 50), newest first."""

    who: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    action: Literal[ACTIONS] | None = None  # type: ignore[valid-type]
    since: UnixTime | None = None
    until: UnixTime | None = None
    before: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 50

    @field_validator("until")
    @classmethod
    def _after_since(cls, until, info):
        since = info.data.get("since")
        if until is not None and since is not None and until <= since:
            raise ValueError("until must be later than since")
        return until
