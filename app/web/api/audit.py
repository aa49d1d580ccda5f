"""``GET /api/v1/audit``: the audit log (``app.domain.audit``), newest first, for admins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app, jsonify

from ..access import needs
from ..payload import parse_query

if TYPE_CHECKING:
    from app.domain.audit_schemas import AuditQuery

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


def page(store, query: AuditQuery) -> tuple[list[dict], int | None]:
    """Up to ``query.limit`` entries that match ``query``, and the ``before`` of the next page
    (None when there is none). :raise StoreUnavailable:"""
    found = store.audit_query(who=query.who, action=query.action, since=query.since,
                              until=query.until, before=query.before, limit=query.limit + 1)
    entries = found[:query.limit]
    return entries, entries[-1]["id"] if len(found) > query.limit else None


@needs("admin")
def get_audit():
    """``{"entries": [...], "next": id | null}``: entries ``{"id", "ts", "who", "role",
    "action", "target", "address", "detail"}`` that match ``who``, ``action``, ``since`` and
    ``until`` (Unix seconds), older than ``before`` (an id: the previous answer's ``next``), at
    most ``limit`` (1-500, default 50). 400 naming the parameter for a bad value."""
    from app.domain.audit_schemas import AuditQuery

    entries, after = page(current_app.extensions["dashboard"].store, parse_query(AuditQuery))
    return jsonify({"entries": entries, "next": after})
