"""``request_approval``: ask a person on the dashboard, wait for the answer, and say so while
waiting; a call that ends any other way than by the answer withdraws the question.

It posts the question (``POST /api/v1/approvals``), then follows the approval's own stream
(``GET /api/v1/approvals/<id>/stream``, which a key with the ``ask`` scope alone may read)
until ``permission_response`` (approved, denied) or ``permission_cleared`` (expired,
withdrawn) arrives: the answer reaches the agent as soon as the dashboard has it, no polling.
Meanwhile it sends an MCP progress notification every :data:`PROGRESS_EVERY` seconds (progress
= seconds waited, total = the seconds the question lasts), so that a client shows it waits
and does not time the call out.

A stream that breaks is opened again with ``Last-Event-ID`` after :data:`BACKOFF_BASE`
doubling up to :data:`BACKOFF_CAP` seconds; the dashboard then sends the outcome at once if it
came meanwhile. It gives up (a tool error) only once the question's deadline passed by
:data:`GRACE` seconds without the dashboard telling the outcome. When the call ends otherwise,
the client cancelled it (``notifications/cancelled``), the MCP server is stopped, or waiting
failed, the approval is withdrawn (``DELETE``) so that nobody answers a question nobody waits
for; that, like ``flask ask``'s Ctrl-C, is best effort within :data:`WITHDRAW_WITHIN` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

import anyio

from ..ask import describe  # the same line as flask ask prints
from .dashboard import Dashboard, DashboardError, Unreachable

log = logging.getLogger(__name__)

PROGRESS_EVERY = 5.0
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
#: Seconds past the deadline during which an unreachable dashboard is still waited for.
GRACE = 60.0
WITHDRAW_WITHIN = 5.0
FINAL_EVENTS = ("permission_response", "permission_cleared")

Progress = Callable[[float, float, str], Awaitable[None]]


async def follow(dashboard: Dashboard, approval_id: str, give_up_at: float,
                 clock: Callable[[], float] = time.monotonic) -> dict:
    """The outcome's JSON (``{"id", "state", "approved", "reason", "by", "at"}``) once the
    approval's stream tells it.

    :raise DashboardError: the dashboard refused the stream (unknown approval, key refused),
        or stayed unreachable until ``give_up_at`` (``clock()`` seconds).
    """
    path = f"/api/v1/approvals/{approval_id}/stream"
    last_id: str | None = None
    failures = 0
    while True:
        try:
            async with dashboard.events(path, last_id) as messages:
                async for message in messages:
                    failures = 0
                    if message.id:
                        last_id = message.id
                    if message.event in FINAL_EVENTS:
                        return message.json()
            problem = "the stream ended"
        except Unreachable as exc:
            problem = str(exc)
        except DashboardError as exc:
            if exc.status is not None and 400 <= exc.status < 500:
                raise
            problem = str(exc)
        if clock() > give_up_at:
            raise DashboardError(f"no answer from the dashboard about approval {approval_id} "
                                 f"({problem}); gave up waiting")
        failures += 1
        await anyio.sleep(min(BACKOFF_BASE * 2 ** (failures - 1), BACKOFF_CAP))


async def _report(progress: Progress, timeout: float, url: str,
                  clock: Callable[[], float]) -> None:
    started = clock()
    while True:
        waited = clock() - started
        left = max(timeout - waited, 0)
        try:
            await progress(round(waited, 1), timeout,
                           f"waiting for a person to answer on {url}: {left:.0f} s left")
        except Exception:  # a client gone: the wait goes on, its end tells it
            log.debug("progress notification failed", exc_info=True)
        await anyio.sleep(PROGRESS_EVERY)


async def withdraw(dashboard: Dashboard, approval_id: str) -> None:
    """``DELETE`` the approval, best effort and shielded from the cancellation that asks for
    it: an error (decided already, unreachable) is ignored."""
    with anyio.CancelScope(shield=True), anyio.move_on_after(WITHDRAW_WITHIN):
        try:
            await dashboard.call("DELETE", f"/api/v1/approvals/{approval_id}")
        except DashboardError:
            pass


async def ask(dashboard: Dashboard, question: dict, progress: Progress,
              clock: Callable[[], float] = time.monotonic) -> dict:
    """Ask ``question`` (``{"title", "detail", "source", "timeout_seconds"}``) and wait;
    return ``{"id", "state", "approved", "reason", "by", "answered_at", "answer"}``.

    :raise DashboardError: it could not be asked, or the answer could not be learnt (the
        approval is then withdrawn, as on cancellation).
    """
    created = await dashboard.call("POST", "/api/v1/approvals", json=question)
    approval_id = created["id"]
    timeout = float(question["timeout_seconds"])
    failed: DashboardError | None = None
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(_report, progress, timeout, dashboard.url, clock)
            try:
                outcome = await follow(dashboard, approval_id, clock() + timeout + GRACE, clock)
            except DashboardError as exc:  # raised as it is, not in the group's ExceptionGroup
                failed = exc
            group.cancel_scope.cancel()
        if failed is not None:
            raise failed
    except BaseException:
        await withdraw(dashboard, approval_id)
        raise
    return {"id": approval_id, "state": outcome["state"], "approved": outcome.get("approved"),
            "reason": outcome.get("reason"), "by": outcome.get("by"),
            "answered_at": outcome.get("at"), "answer": describe(outcome)}
