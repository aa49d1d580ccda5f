"""Approvals: a program asks a person a yes/no question and waits for the answer.

An approval is a dict, the same in the store, the JSON API, the streams and the templates::

    {"id": "9c1e...",            # 32 hex digits (uuid4)
     "title": "Deploy v2?", "detail": str|None, "source": str|None,
     "timeout_seconds": 900, "created_at": unix s, "expires_at": unix s,
     "state": "pending"|"approved"|"denied"|"expired"|"withdrawn",
     "approved": bool|None,       # True / False once answered, else None
     "reason": str|None, "by": str|None,
     "answered_at": unix s|None,  # when it left "pending" (answer, expiry or withdrawal)
     "asked_by": str|None}        # the credential that asked (app.web.credentials.Principal.by)

Every change appends the whole dict as an ``approval`` log item and sets it as the state
``approval:<id>``, so each process's tailer folds it (the page region, the streams). Leaving
``pending`` goes through :meth:`app.store.Store.append_if` on ``state == "pending"``: of two
answers, or an answer and the expiry, racing in different workers or hosts exactly one is
written; the others find the decision that stands. Each decision, expiry and withdrawal also
puts an event in the feed. Nothing here knows Flask; functions take ``now`` so tests need no
waiting.
"""

from __future__ import annotations

import heapq
import re
import time
import uuid

from app.store import Store

from .events import record_event
from .i18n import N_, Text, TextError, with_text

STATE_PREFIX = "approval:"
#: An approval id: what ``uuid4().hex`` gives.
ID_PATTERN = re.compile(r"^[0-9a-f]{32}$")
PENDING = "pending"
#: The final states that are answers (the stream's ``permission_response``); the others,
#: ``expired`` and ``withdrawn``, are "cleared" (``permission_cleared``).
ANSWERED = frozenset({"approved", "denied"})


class ApprovalError(TextError):
    """Base of the refusals below; ``approval`` is the stored approval (None for Unknown).
    ``status`` is the HTTP status each deserves, as :class:`~app.domain.payloads.BadPayload`
    carries its own (``app.web.errors`` answers them)."""

    status = 400

    def __init__(self, message: str | Text, approval: dict | None = None) -> None:
        super().__init__(message)
        self.approval = approval


class Unknown(ApprovalError):
    """No approval has that id (404)."""

    status = 404


class AlreadyDecided(ApprovalError):
    """It was answered or withdrawn before; ``approval`` holds the decision that stands (409)."""

    status = 409


class Expired(ApprovalError):
    """It expired before this answer; ``approval`` is the expired one (410)."""

    status = 410


def state_key(approval_id: str) -> str:
    """The store state key of an approval: ``approval:<id>``."""
    return STATE_PREFIX + approval_id


def get(store: Store, approval_id: str) -> dict | None:
    """The stored approval, or None (also for an id that could not be one)."""
    if not ID_PATTERN.match(approval_id):
        return None
    return store.get_state(state_key(approval_id))


def ask(store: Store, *, title: str, detail: str | None = None, source: str | None = None,
        timeout_seconds: float = 900, asked_by: str | None = None, now: float | None = None
        ) -> dict:
    """Store a new pending approval and return it; it expires ``timeout_seconds`` after ``now``.
    ``asked_by`` is who asked (``key:deploy-bot``; ``app.web.credentials.Principal.by``): that
    credential may read and withdraw it, and never answer it.

    :raise app.store.StoreUnavailable: nothing was written.
    """
    now = time.time() if now is None else now
    approval = {"id": uuid.uuid4().hex, "title": title, "detail": detail, "source": source,
                "timeout_seconds": timeout_seconds, "created_at": now,
                "expires_at": now + timeout_seconds, "state": PENDING, "approved": None,
                "reason": None, "by": None, "answered_at": None, "asked_by": asked_by}
    store.append("approval", approval, state_key=state_key(approval["id"]), replicated=True)
    return approval


def listed(store: Store, state: str | None = None, limit: int = 200) -> list[dict]:
    """Stored approvals, newest first (``created_at``), at most ``limit``; ``state`` filters
    (None: all). A pending one past ``expires_at`` is listed as pending until the next sweep
    (within about a second while a dashboard runs)."""
    found = (a for a in store.states(STATE_PREFIX).values() if state in (None, a["state"]))
    return heapq.nlargest(limit, found, key=lambda a: a["created_at"])


def answer(store: Store, approval_id: str, *, approved: bool, reason: str | None, by: str,
           now: float | None = None) -> dict:
    """Record the first answer to a pending approval and return it.

    An answer that arrives after ``expires_at`` while the approval is still pending expires
    it instead (nobody swept it yet).

    :raise Unknown: no such approval. :raise AlreadyDecided: answered or withdrawn already
        (``exc.approval`` is the decision that stands). :raise Expired: too late.
    :raise app.store.StoreUnavailable: nothing was written.
    """
    now = time.time() if now is None else now
    current = _pending(store, approval_id, now, verb="answered")
    decided = {**current, "state": "approved" if approved else "denied", "approved": approved,
               "reason": reason, "by": by, "answered_at": now}
    return _leave_pending(store, decided, verb="answered")


def withdraw(store: Store, approval_id: str, *, by: str, now: float | None = None) -> dict:
    """Withdraw a pending approval (its asker no longer waits) and return it.

    :raise Unknown: no such approval. :raise AlreadyDecided: it is no longer pending
        (answered, expired or withdrawn); ``exc.approval`` is what stands.
    :raise app.store.StoreUnavailable: nothing was written.
    """
    now = time.time() if now is None else now
    try:
        current = _pending(store, approval_id, now, verb="withdrawn")
    except Expired as exc:
        raise AlreadyDecided(exc.text or str(exc), exc.approval) from None
    return _leave_pending(store, {**current, "state": "withdrawn", "by": by, "answered_at": now},
                          verb="withdrawn")


def expire_due(store: Store, approvals, now: float | None = None) -> list[dict]:
    """Expire each of ``approvals`` (dicts) that is pending with ``expires_at`` <= ``now``;
    return those this call expired (another process may have won some: they are left out).

    Every process's tailer calls it each second for the pending approvals its view holds; the
    compare-and-set makes exactly one of them write each expiry.

    :raise app.store.StoreUnavailable: the store failed (some may have been expired already).
    """
    now = time.time() if now is None else now
    done = []
    for approval in approvals:
        if approval["state"] == PENDING and approval["expires_at"] <= now:
            expired = _expired(approval, now)
            if store.append_if("approval", expired, state_key(approval["id"]), "state",
                               PENDING) is not None:
                _record(store, expired)
                done.append(expired)
    return done


def _expired(approval: dict, now: float) -> dict:
    return {**approval, "state": "expired", "approved": None, "answered_at": now}


def _pending(store: Store, approval_id: str, now: float, verb: str) -> dict:
    """The stored approval if it is pending and not past ``expires_at``; expires it if it is
    past (and raises :class:`Expired`); raises what :func:`_refusal` says otherwise."""
    current = get(store, approval_id)
    if current is None:
        raise Unknown(Text(N_("no approval '%(id)s'"), id=approval_id))
    if current["state"] != PENDING:
        raise _refusal(current, verb)
    if current["expires_at"] <= now:
        expire_due(store, [current], now)
        raise _refusal(get(store, approval_id) or _expired(current, now), verb)
    return current


def _leave_pending(store: Store, changed: dict, verb: str) -> dict:
    """Write ``changed`` if its approval is still pending (compare-and-set), record the feed
    event and return it; else raise what stands."""
    # replicated: an answer someone saw accepted survives a failover of the store's Redis.
    if store.append_if("approval", changed, state_key(changed["id"]), "state",
                       PENDING, replicated=True) is None:
        stands = get(store, changed["id"]) or changed
        # redis-py retries a call whose reply was lost; the retry then finds our own write.
        if stands != changed:
            raise _refusal(stands, verb)
    _record(store, changed)
    return changed


def _refusal(approval: dict, verb: str) -> ApprovalError:
    if approval["state"] == "expired":
        return Expired(Text(N_("approval '%(id)s' expired before it was withdrawn")
                            if verb == "withdrawn" else
                            N_("approval '%(id)s' expired before it was answered"),
                            id=approval["id"]), approval)
    state = Text(approval["state"])  # a word of app.view.words.APPROVAL_STATES
    if approval.get("by"):
        return AlreadyDecided(Text(N_("approval '%(id)s' was %(state)s by %(by)s already"),
                                   id=approval["id"], state=state, by=approval["by"]), approval)
    return AlreadyDecided(Text(N_("approval '%(id)s' was %(state)s already"),
                               id=approval["id"], state=state), approval)


#: The feed's sentence for each way an approval leaves ``pending``.
_DECIDED = {"approved": N_("Approved: %(title)s"), "denied": N_("Denied: %(title)s"),
            "expired": N_("Expired: %(title)s"), "withdrawn": N_("Withdrawn: %(title)s")}


def _record(store: Store, approval: dict) -> None:
    """The feed event of a decision, expiry or withdrawal: who, what and why."""
    state = approval["state"]
    text = Text(_DECIDED.get(state, "%(title)s"), title=approval["title"])
    if approval.get("by") and state != "expired":
        text = Text(N_("%(what)s (by %(by)s)"), what=text, by=approval["by"])
    if approval.get("reason"):
        text = Text(N_("%(what)s: %(reason)s"), what=text, reason=approval["reason"])
    level = "warning" if state in ("denied", "expired") else "info"
    record_event(store, with_text({"level": level,
                                   "source": approval.get("source") or "approvals"}, text))
