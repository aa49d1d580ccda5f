"""The MCP server's tools and resources, each a call or two of the dashboard's API
(:mod:`app.mcp.dashboard`) whose answer is cut down to what an agent needs: an agent's context
is small, so history comes as at most :data:`MAX_POINTS` points with its min, max and average,
and lists come shortest first with a ``limit``.

Every tool's description says what its figures are in (percent, bytes, seconds, Unix seconds):
an agent reads the description, not this module. Every failure is a tool error whose text is
one line naming the cause (:class:`DashboardServer`); a crash of ours is the SDK's bare
"Error executing tool", its traceback on stderr only.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedToolError
from mcp.types import ToolAnnotations
from pydantic import Field, ValidationError

from app.sources.sample import METRICS

from . import approval
from .dashboard import Dashboard, DashboardError, NotFound, one_line

#: Points ``history`` returns at most.
MAX_POINTS = 100
#: ``history``'s ranges: those of ``GET /api/v1/history`` (``app.domain.history.RANGES``).
RANGES = ("5m", "1h", "6h", "24h", "7d", "30d", "1y")
#: Sample keys the history keeps (``app.domain.history.HISTORY_KEYS``): all but the constant ones.
HISTORY_METRICS = tuple(k for k in METRICS if k not in {"cpu_count", "mem_total", "disk_total",
                                                        "swap_total", "uptime"})
#: Units of a sample's figures as an agent reads them.
UNITS = {key: {"%": "percent", "s": "seconds", "": "count"}.get(m.unit, m.unit)
         for key, m in METRICS.items()}
#: What a listed alert keeps.
ALERT_KEYS = ("id", "name", "level", "state", "host", "metric", "value", "peak", "message",
              "source", "started_at", "ended_at", "acked_by")
TASK_ID = r"^[A-Za-z0-9._-]{1,100}$"
HOST_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"

READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)
WRITES = ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False)

INSTRUCTIONS = """\
A live operations dashboard: hosts with their CPU, memory, disks and alerts, a feed of events,
tasks with progress, and people on call who answer yes/no questions on its page.
Read with list_hosts, host_status, top_processes, containers, history and list_alerts.
Say what you do with post_event (one line in the feed) and report_task (progress of long work).
Before any risky or irreversible step (restarting a service, deploying, deleting data), call
request_approval and go ahead only if its state is "approved"; on "denied" or "expired", do not.
"""

Host = Annotated[str | None, Field(
    pattern=HOST_NAME,
    description="A host's name as list_hosts gives it; default: the dashboard's own host.")]


class DashboardServer(MCPServer):
    """An :class:`MCPServer` whose tool descriptions are one paragraph and whose tool errors
    are one line, the cause alone: the SDK prefixes
    ``Error executing tool <name>:`` and gives pydantic's multi-line report for arguments that
    fail the schema; here those become ``bad argument range: Input should be ...``."""

    def add_tool(self, fn, name=None, title=None, description=None, **kwargs) -> None:
        """As :meth:`MCPServer.add_tool`; the description defaults to the docstring as one
        paragraph (the SDK keeps its line breaks and indentation)."""
        description = description or " ".join((fn.__doc__ or "").split())
        super().add_tool(fn, name=name, title=title, description=description, **kwargs)

    async def call_tool(self, name, arguments, context=None):
        try:
            return await super().call_tool(name, arguments, context)
        except UnexpectedToolError:
            raise
        except ToolError as exc:
            cause = exc.__cause__
            if isinstance(cause, ValidationError):
                raise ToolError(invalid(cause)) from cause
            if isinstance(cause, ToolError) and not isinstance(cause, UnexpectedToolError):
                raise ToolError(str(cause)) from cause
            raise


def invalid(exc: ValidationError) -> str:
    """``bad argument range: Input should be '5m', '1h' ...``: pydantic's report on one line."""
    said = "; ".join(f"{'.'.join(str(p) for p in error['loc']) or 'arguments'}: {error['msg']}"
                     for error in exc.errors(include_url=False))
    return one_line(f"bad argument {said}")


def _seen(row: dict, now: float) -> dict:
    seen = row.get("last_seen")
    return {**row, "seen_seconds_ago": None if seen is None else max(round(now - seen), 0)}


def _alert(alert: dict) -> dict:
    return {key: alert.get(key) for key in ALERT_KEYS if key in alert}


def _merge(points: list[dict], step: float | None) -> tuple[list[dict], float | None]:
    """At most :data:`MAX_POINTS` points: runs of consecutive points merged (min of mins, max
    of maxes, average weighted by count), and the step of the result (None: uneven)."""
    size = max(math.ceil(len(points) / MAX_POINTS), 1)
    merged = []
    for first in range(0, len(points), size):
        run = points[first:first + size]
        count = sum(p["count"] for p in run) or 1
        merged.append({"t": run[0]["t"], "min": min(p["min"] for p in run),
                       "avg": sum(p["avg"] * p["count"] for p in run) / count,
                       "max": max(p["max"] for p in run), "count": count})
    return merged, (step * size if step is not None else None)


def _figure(value: float) -> float:
    return round(value, 2)


def build(dashboard: Dashboard, source: str | None = None) -> DashboardServer:
    """The server: every tool and resource, talking to ``dashboard`` (opened while it runs).

    :param source: who events and approvals come from; None: ``mcp:<client>@<this host>``.
    """

    @asynccontextmanager
    async def lifespan(_server) -> AsyncIterator[dict]:
        async with dashboard:
            yield {}

    try:
        version = metadata.version("live-dashboard")
    except metadata.PackageNotFoundError:
        version = "0"
    server = DashboardServer("live-dashboard", title="Live dashboard", version=version,
                             instructions=INSTRUCTIONS, lifespan=lifespan)
    machine = socket.gethostname()

    def who(ctx: Context | None) -> str:
        if source:
            return source
        params = getattr(ctx.session, "client_params", None) if ctx is not None else None
        client = params.client_info.name if params is not None and params.client_info else None
        return (f"mcp:{client}@{machine}" if client else f"mcp@{machine}")[:200]

    async def known_host(host: str | None, error: NotFound) -> DashboardError:
        """``error`` for a host the dashboard knows; "unknown host" for one it does not."""
        if host is not None:
            try:
                await dashboard.call("GET", f"/api/v1/hosts/{host}")
            except NotFound:
                return DashboardError(f"unknown host {host!r}: list_hosts gives the hosts "
                                      "that report to the dashboard", 404)
        return error

    # -- reading (scope read) --------------------------------------------------------------
    async def hosts(limit: int) -> dict:
        rows = await dashboard.call("GET", "/api/v1/hosts")
        now = time.time()
        return {"count": len(rows), "hosts": [_seen(row, now) for row in rows[:limit]]}

    @server.tool(annotations=READS, structured_output=True)
    async def list_hosts(limit: Annotated[int, Field(
            ge=1, le=1000, description="At most this many hosts, those that need attention "
                                       "first.")] = 50) -> dict[str, Any]:
        """Every host that reports to the dashboard, those that need attention first (level
        critical, then warning, stale, ok; then by name). Each host: name; level; stale (no
        sample lately); cpu_percent, mem_percent and disk_percent in percent (0-100); load1,
        the 1-minute load average; last_seen in Unix seconds and seen_seconds_ago in seconds;
        alerts, the names of its firing alerts. count is the number of hosts in all."""
        return await hosts(limit)

    @server.tool(annotations=READS, structured_output=True)
    async def host_status(host: Annotated[str, Field(
            pattern=HOST_NAME, description="The host's name, as list_hosts gives it.")]
    ) -> dict[str, Any]:
        """One host's latest figures, file systems and firing alerts. figures holds the latest
        sample (cpu_percent, mem_percent, disk_percent, swap_percent in percent; mem_used,
        mem_total, disk_used, disk_total in bytes; net_rx_bps, net_tx_bps in bytes per second;
        load1, load5, load15 load averages; temperature in °C; uptime in seconds), units
        names each figure's unit. disks: per file system its mount, percent used, used and
        total in bytes. interfaces (bytes per second), sensors (°C) and disk_io (bytes and
        operations per second) as the host reports them. firing: its firing alerts (times in
        Unix seconds). last_seen in Unix seconds, seen_seconds_ago in seconds."""
        try:
            answer = await dashboard.call("GET", f"/api/v1/hosts/{host}")
        except NotFound:
            raise DashboardError(f"unknown host {host!r}: list_hosts gives the hosts that "
                                 "report to the dashboard", 404) from None
        sample = answer["sample"]
        figures = {key: sample[key] for key in METRICS if key in sample}
        return {**_seen({k: answer[k] for k in ("name", "level", "stale", "last_seen")},
                        time.time()),
                "figures": figures, "units": {key: UNITS[key] for key in figures},
                "cpu_modes_percent": sample.get("cpu_times"),
                **{key: sample.get(key) for key in ("disks", "disk_io", "interfaces", "sensors")},
                "firing": [_alert(a) for a in answer["firing"]]}

    @server.tool(annotations=READS, structured_output=True)
    async def top_processes(
            host: Host = None,
            sort: Annotated[Literal["cpu", "mem"], Field(
                description="cpu: busiest first; mem: largest memory first.")] = "cpu",
            limit: Annotated[int, Field(ge=1, le=100, description="At most this many.")] = 10,
    ) -> dict[str, Any]:
        """A host's top processes as last taken: pid, name, user, cpu_percent (percent of ONE
        CPU, so up to 100 times the CPUs), mem_percent (percent of memory), rss (resident
        memory in bytes), state, runtime (seconds since it started). taken_at is in Unix
        seconds, age_seconds in seconds. A dashboard lists its own host's processes only while
        someone views that host's page; an agent host only when its agent runs with
        --processes."""
        try:
            answer = await dashboard.call("GET", "/api/v1/processes",
                                          params={"host": host, "sort": sort})
        except NotFound as exc:
            raise await known_host(host, exc) from None
        return {"host": answer["host"], "taken_at": answer["ts"],
                "age_seconds": max(round(time.time() - answer["ts"]), 0),
                "count": len(answer["processes"]), "processes": answer["processes"][:limit]}

    @server.tool(annotations=READS, structured_output=True)
    async def containers(host: Host = None) -> dict[str, Any]:
        """The containers (Docker, Podman) of a host: name, image, state, health, uptime in
        seconds, restart count, CPU in percent of one CPU, memory used and limit in bytes and
        its percent, network and block I/O in bytes per second. Needs a dashboard with the
        containers API (GET /api/v1/containers)."""
        try:
            answer = await dashboard.call("GET", "/api/v1/containers", params={"host": host})
        except NotFound as exc:
            document = await dashboard.call("GET", "/api/v1/openapi.json")
            if "/api/v1/containers" not in document.get("paths", {}):
                raise DashboardError("this dashboard has no containers API (GET "
                                     "/api/v1/containers answered 404): it is a version "
                                     "without container support", 404) from None
            raise await known_host(host, exc) from None
        return answer if isinstance(answer, dict) else {"containers": answer}

    @server.tool(annotations=READS, structured_output=True)
    async def history(
            metric: Annotated[str, Field(
                min_length=1, max_length=400,
                description="A figure of a host sample: " + ", ".join(HISTORY_METRICS)
                            + "; or custom:<series key> for a metric a program sends "
                              "(custom:queue_depth{queue=\"mail\"}).")] = "cpu_percent",
            host: Host = None,
            range: Annotated[Literal[RANGES] | None, Field(  # type: ignore[valid-type]
                description="How far back from now; default 1h. Give range, or start "
                            "(and end), not both.")] = None,
            start: Annotated[float | None, Field(
                ge=0, description="Start of the range in Unix seconds.")] = None,
            end: Annotated[float | None, Field(
                ge=0, description="End of the range in Unix seconds; default: now.")] = None,
    ) -> dict[str, Any]:
        """A metric of a host over a time range: min, max and avg (average weighted by
        samples) over the whole range, latest (the last point's average), samples (how many
        samples it covers) and at most 100 points (t, the point's start in Unix seconds;
        min, avg, max), oldest first; step is the seconds each point covers (null: uneven).
        unit names the unit of the values: percent for *_percent, bytes for *_used, bytes per
        second for net_*_bps, °C for temperature; a custom metric's unit is its sender's.
        A range with no data has no points and null figures."""
        if range is not None and (start is not None or end is not None):
            raise DashboardError("bad range: give range, or start (and end), not both")
        if start is None and end is not None:
            raise DashboardError("bad range: end needs start")
        if start is not None and start > (time.time() if end is None else end):
            raise DashboardError(f"bad range: start ({start:g}) is after end "
                                 f"({'now' if end is None else format(end, 'g')})")
        params = {"metric": metric, "host": host, "range": range, "from": start, "to": end}
        try:
            answer = await dashboard.call("GET", "/api/v1/history", params=params)
        except DashboardError as exc:
            if exc.status != 400:
                raise
            if "host" in exc.fields:
                raise DashboardError(f"unknown host {host!r}: list_hosts gives the hosts that "
                                     "report to the dashboard", 400) from None
            if "metric" in exc.fields:
                raise DashboardError(f"unknown metric {metric!r}: one of "
                                     f"{', '.join(HISTORY_METRICS)} or custom:<series key>",
                                     400) from None
            raise DashboardError(f"bad range: {str(exc).removeprefix('bad argument: ')} "
                                 "(start and end are Unix seconds)", 400) from None
        points, step = _merge(answer["points"], answer["step"])
        samples = sum(p["count"] for p in points)
        figures = {"min": None, "max": None, "avg": None, "latest": None}
        if points:
            figures = {"min": _figure(min(p["min"] for p in points)),
                       "max": _figure(max(p["max"] for p in points)),
                       "avg": _figure(sum(p["avg"] * p["count"] for p in points) / samples),
                       "latest": _figure(points[-1]["avg"])}
        unit = UNITS.get(metric, "as the program that sends it says")
        return {"host": answer["host"], "metric": metric, "unit": unit, **figures,
                "samples": samples, "step": step,
                "points": [{"t": round(p["t"], 3), "min": _figure(p["min"]),
                            "avg": _figure(p["avg"]), "max": _figure(p["max"])}
                           for p in points]}

    async def alert_list(state: str, limit: int, host: str | None) -> dict:
        params = {"state": None if state == "all" else state}
        found = await dashboard.call("GET", "/api/v1/alerts", params=params)
        if host:
            found = [a for a in found if a.get("host") == host]
        return {"count": len(found), "alerts": [_alert(a) for a in found[:limit]]}

    @server.tool(annotations=READS, structured_output=True)
    async def list_alerts(
            state: Annotated[Literal["firing", "resolved", "all"], Field(
                description="firing (default), resolved or all (firing first).")] = "firing",
            host: Annotated[str | None, Field(
                description="Only this host's alerts.")] = None,
            limit: Annotated[int, Field(ge=1, le=200, description="At most this many, newest "
                                                                  "first.")] = 20,
    ) -> dict[str, Any]:
        """The dashboard's alerts, firing first, newest first: id, name, level (warning,
        error, critical), state, host, metric, value and peak (in the metric's unit: percent
        for *_percent, bytes, seconds...), message, source, started_at and ended_at in Unix
        seconds, acked_by (who acknowledged it). count is how many match in all."""
        return await alert_list(state, limit, host)

    # -- reporting (scope ingest) ----------------------------------------------------------
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

    # -- resources -------------------------------------------------------------------------
    @server.resource("dashboard://hosts", name="hosts", title="Hosts",
                     mime_type="application/json",
                     description="Every host that reports, those that need attention first, "
                                 "as list_hosts gives them (percent, Unix seconds, seconds).")
    async def hosts_resource() -> str:
        try:
            return json.dumps(await hosts(1000))
        except DashboardError as exc:
            raise ResourceError(str(exc)) from None

    @server.resource("dashboard://alerts/firing", name="firing-alerts", title="Firing alerts",
                     mime_type="application/json",
                     description="The firing alerts, newest first, as list_alerts gives them "
                                 "(values in the metric's unit, times in Unix seconds).")
    async def firing_resource() -> str:
        try:
            return json.dumps(await alert_list("firing", 200, None))
        except DashboardError as exc:
            raise ResourceError(str(exc)) from None

    return server


def serve(url: str, key: str, source: str | None = None, timeout: float = 10.0) -> None:
    """Run the server over stdin and stdout until the client closes them."""
    server = build(Dashboard(url, key, timeout), source)
    # The SDK logs each tool error on stderr (the client's log); a line per request is noise.
    for name in ("httpx2", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server.run("stdio")


