"""The audit log: who did what, on what, from where and when.

An entry is a dict, the same in the store, the API and the ``/audit`` page::

    {"id": int, "ts": unix s, "who": "alice" | "key:deploy-bot" | "local" | ...,
     "role": "admin" | "operator" | "viewer" | "key" | ..., "action": one of ACTIONS,
     "target": str | None, "address": "203.0.113.7" | None, "detail": dict | None}

Entries live beside the log (``Store.audit_append``), kept ``DASHBOARD_AUDIT_RETENTION``
seconds and at most ``DASHBOARD_AUDIT_SIZE`` of them (:func:`sweep`, from the janitor); each is
also appended to the log as an ``audit`` item, so that the ``/audit`` page of every process
shows it live. The query of the log (:class:`~app.domain.audit_schemas.AuditQuery`) is a
payload schema of its own, which loads on the first request that needs it.
"""

from __future__ import annotations

import time

from app.store import Store

#: What is recorded. Sign-ins are people's; the rest is what a person or a key changed.
ACTIONS = (
    "sign-in", "sign-in-failed", "sign-out",
    "approval-answer", "approval-withdraw",
    "alert-ack", "silence-create", "silence-extend", "silence-end",
    "rules-replace", "host-forget",
    "account-add", "account-role", "account-disable", "account-enable", "account-password",
    "account-language",
    "key-add", "key-revoke",
)


def record(store: Store, *, who: str, role: str, action: str, target: str | None = None,
           address: str | None = None, detail: dict | None = None,
           now: float | None = None) -> dict:
    """Keep one entry (module docstring) and return it with its id.

    :raise ValueError: ``action`` is not one of :data:`ACTIONS` (a programming error).
    :raise StoreUnavailable: nothing was kept.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = {"ts": time.time() if now is None else now, "who": who, "role": role,
             "action": action, "target": target, "address": address, "detail": detail}
    entry["id"] = store.audit_append(entry)
    store.append("audit", entry)
    return entry


def sweep(store: Store, now: float, *, retention: float, keep: int) -> int:
    """Drop entries older than ``retention`` seconds and all but the ``keep`` newest; return
    how many went. :raise StoreUnavailable: part may have been dropped."""
    return store.audit_trim(now - retention, keep)

