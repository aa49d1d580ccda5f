"""The per-approval event stream, ``GET /api/v1/approvals/<id>/stream``: what a waiting
program (``flask ask``) reads.

Messages, each with ``id:`` a log id and JSON data:

- ``event: permission_request``: the whole approval (``app.domain.approvals``) as it stands
  when the stream opens; left out when the client resumes (it sent ``Last-Event-ID``: it had
  this stream's first message already).
- ``event: permission_response``: it was answered, ``{"id", "state", "approved", "reason",
  "by", "at"}`` (``at``: Unix seconds of the answer); the stream ends.
- ``event: permission_cleared``: it expired or was withdrawn, the same fields (``approved``
  null); the stream ends.
- ``: ping`` comments while nothing happens.

Like the task stream it does not poll the store: the tailer hands every ``approval`` item to
the keyed :class:`~app.live.watchers.Watchers`. A pending approval whose deadline passes while
its stream waits is expired by the stream itself (a compare-and-set, so the tailers' sweeps
and other streams doing the same write it once): its expiry then never depends on any view
still holding it.
"""

from __future__ import annotations

import json
import time

import gevent.queue

from app.domain import approvals as approvals_mod
from app.store import Store, StoreUnavailable

from . import sse
from .watchers import CLOSE, Watchers

REQUEST, RESPONSE, CLEARED = "permission_request", "permission_response", "permission_cleared"


class ApprovalWatchers(Watchers):
    """This process's approval streams: approval id -> the queues of the streams that watch it."""

    def __init__(self, queue_size: int) -> None:
        super().__init__("approval", "id", queue_size)


def request(approval: dict, log_id: int) -> bytes:
    """``event: permission_request`` with the whole approval as it stands."""
    return sse.encode(_json(approval), event=REQUEST, id=log_id)


def outcome(approval: dict, log_id: int) -> bytes:
    """``permission_response`` (approved, denied) or ``permission_cleared`` (expired,
    withdrawn) for an approval that left ``pending``."""
    data = {"id": approval["id"], "state": approval["state"],
            "approved": approval.get("approved"), "reason": approval.get("reason"),
            "by": approval.get("by"), "at": approval.get("answered_at")}
    event = RESPONSE if approval["state"] in approvals_mod.ANSWERED else CLEARED
    return sse.encode(_json(data), event=event, id=log_id)


def update(approval: dict, log_id: int) -> bytes | None:
    """What a stream sends for a logged change of its approval: :func:`outcome` once it left
    ``pending``, nothing for a pending state (the ask's own item)."""
    return None if approval["state"] == approvals_mod.PENDING else outcome(approval, log_id)


def _json(value: dict) -> str:
    return json.dumps(value, separators=(",", ":"))


def stream(watchers: Watchers, store: Store, view, approval_id: str, heartbeat: float,
           resumed: bool = False, clock=time.time, lifetime: float = float("inf"),
           closer=None):
    """Yield the SSE bytes of one approval's stream (module docstring); the route checked that
    the approval exists.

    :param view: the :class:`~app.view.regions.LiveView` the tailer keeps: ``view.last_id``,
        the newest log id it folded, is the id of a message built from the state read here.
    :param heartbeat: seconds without news after which a ``: ping`` comment is sent.
    :param resumed: the client sent ``Last-Event-ID``: no ``permission_request`` again.
    :param clock: Unix seconds now (tests pass a fake).
    :param lifetime: seconds after which the stream ends (``DASHBOARD_STREAM_LIFETIME``, as
        ``/stream``); the client reconnects with ``Last-Event-ID`` and goes on.
    :param closer: the client socket, shut down if the client stops reading (``Watchers``).

    The stream registers with ``watchers`` before it reads the state, so no change falls
    between the two. An approval decided already gets its final message at once.
    """
    queue = watchers.watch(approval_id, closer, update)
    ends_at = clock() + lifetime
    try:
        approval = approvals_mod.get(store, approval_id)
        if approval is None:
            return
        if not resumed:
            yield request(approval, view.last_id)
        if approval["state"] != approvals_mod.PENDING:
            yield outcome(approval, view.last_id)
            return
        expiry_asked = False
        while clock() < ends_at:
            wait = min(heartbeat, ends_at - clock())
            remaining = approval["expires_at"] - clock()
            if remaining <= 0 and not expiry_asked:
                expiry_asked = True
                try:
                    approvals_mod.expire_due(store, [approval], clock())
                except StoreUnavailable:
                    expiry_asked = False  # asked again after the next wait
            elif remaining > 0:
                wait = min(wait, remaining)
            try:
                item = queue.get(timeout=wait)
            except gevent.queue.Empty:
                if wait == heartbeat:  # a wait cut short by the deadline or the end sends none
                    yield sse.HEARTBEAT
                continue
            if item is CLOSE:
                return
            _item, data = item
            if data is not None:
                yield data
                return
    finally:
        watchers.unwatch(approval_id, queue)
