"""The tools that report and ask: ``post_event`` and ``report_task`` (key scope ``ingest``),
``request_approval`` (scope ``ask``; the waiting is :mod:`.approval`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from . import approval
from .dashboard import Dashboard, DashboardError

TASK_ID = r"^[A-Za-z0-9._-]{1,100}$"
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)


def register(server: MCPServer, dashboard: Dashboard,
             who: Callable[[Context | None], str]) -> None:
    """Add the reporting and asking tools to ``server``; ``who(ctx)`` names their source."""

    @server.tool(annotations=WRITES, structured_output=True)
    async def post_event(
            message: Annotated[str, Field(min_length=1, max_length=2000,
                                          description="One line, up to 2000 characters.")],
            level: Annotated[Literal["info", "warning", "error", "critical"], Field(
                description="How the feed colours it.")] = "info",
            ctx: Context = None,
    ) -> dict[str, Any]:
        """Put one line in the dashboard's event feed, where every open page shows it within a
        second: what you did or found ("restarted nginx on web-1"). The message holds up to
        2000 characters; the dashboard stamps it with its time (Unix seconds) and with you as
        its source. Returns the event's id."""
        return await dashboard.call("POST", "/api/v1/events", json={
            "message": message, "level": level, "source": who(ctx)})

    @server.tool(annotations=WRITES, structured_output=True)
    async def report_task(
            task_id: Annotated[str, Field(pattern=TASK_ID, description=(
                "Your name for the task, 1-100 of A-Z a-z 0-9 . _ -; the same id for each "
                "update of one task."))],
            state: Annotated[Literal["pending", "running", "succeeded", "failed"], Field(
                description="succeeded and failed are final: a finished task takes no "
                            "further update.")],
            progress: Annotated[float, Field(ge=0, le=100, description="Percent done, "
                                                                         "0-100.")],
            message: Annotated[str | None, Field(max_length=500, description=(
                "A line shown next to the bar, up to 500 characters."))] = None,
            estimated_seconds: Annotated[float | None, Field(ge=0, description=(
                "Seconds the task still needs, as you estimate them."))] = None,
    ) -> dict[str, Any]:
        """Show a task's progress on the dashboard's Tasks card: progress in percent (0-100),
        estimated_seconds in seconds left, state and a message. Send it again as the work goes
        on; the last one (succeeded or failed) closes it. Returns the task as stored, with
        updated_at in Unix seconds."""
        body = {"state": state, "progress": progress, "message": message,
                "estimated_seconds": estimated_seconds}
        try:
            return await dashboard.call("PUT", f"/api/v1/tasks/{task_id}",
                                        json={k: v for k, v in body.items() if v is not None})
        except DashboardError as exc:
            if exc.status == 409:
                raise DashboardError(f"task {task_id!r} already finished and takes no further "
                                     "update: report new work under a new task_id", 409) from None
            raise

    # -- asking (scope ask) ----------------------------------------------------------------
    @server.tool(annotations=WRITES, structured_output=True)
    async def request_approval(
            title: Annotated[str, Field(min_length=1, max_length=200, description=(
                "The yes/no question, up to 200 characters: \"Restart nginx on web-1?\"."))],
            detail: Annotated[str | None, Field(max_length=2000, description=(
                "Why, and what it will do, up to 2000 characters."))] = None,
            timeout_seconds: Annotated[int, Field(ge=10, le=86_400, description=(
                "Seconds to wait for an answer, 10 to 86400; then the question expires."))] = 900,
            ctx: Context = None,
    ) -> dict[str, Any]:
        """Ask a person on the dashboard a yes/no question and wait for the answer: the
        question shows on every open page of the dashboard with Approve and Deny buttons and
        you as its source. It waits up to timeout_seconds (seconds), sending progress
        notifications (progress: seconds waited, total: timeout_seconds) meanwhile. Returns
        state approved or denied, with reason and by (who answered), or expired (nobody
        answered in time); answered_at in Unix seconds. Go ahead only on approved. Cancelling
        the call withdraws the question."""
        question = {"title": title, "detail": detail, "timeout_seconds": timeout_seconds,
                    "source": who(ctx)}

        async def progress(done: float, total: float, message: str) -> None:
            if ctx is not None:
                await ctx.report_progress(done, total, message)

        return await approval.ask(dashboard, question, progress)
