"""The MCP server: the SDK's :class:`MCPServer` with every tool (:mod:`.reading`,
:mod:`.writing`) and the two resources, talking to one dashboard (:mod:`.dashboard`).

Every failure is a tool error whose text is one line naming the cause
(:class:`DashboardServer`); a crash of ours is the SDK's bare "Error executing tool", its
traceback on stderr only (the client's log).
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ToolError, UnexpectedToolError
from pydantic import ValidationError

from . import reading, writing
from .dashboard import Dashboard, DashboardError, one_line

INSTRUCTIONS = """\
A live operations dashboard: hosts with their CPU, memory, disks and alerts, a feed of events,
tasks with progress, and people on call who answer yes/no questions on its page.
Read with list_hosts, host_status, top_processes, containers, history and list_alerts.
Say what you do with post_event (one line in the feed) and report_task (progress of long work).
Before any risky or irreversible step (restarting a service, deploying, deleting data), call
request_approval and go ahead only if its state is "approved"; on "denied" or "expired", do not.
"""


class DashboardServer(MCPServer):
    """An :class:`MCPServer` whose tool descriptions are one paragraph and whose tool errors
    are one line, the cause alone: the SDK prefixes ``Error executing tool <name>:`` and gives
    pydantic's multi-line report for arguments that fail the schema; here those become
    ``bad argument range: Input should be ...``."""

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

    reading.register(server, dashboard)
    writing.register(server, dashboard, who)

    async def as_json(read) -> str:
        try:
            return json.dumps(await read)
        except DashboardError as exc:
            raise ResourceError(str(exc)) from None

    @server.resource("dashboard://hosts", name="hosts", title="Hosts",
                     mime_type="application/json",
                     description="Every host that reports, those that need attention first, "
                                 "as list_hosts gives them (percent, Unix seconds, seconds).")
    async def hosts_resource() -> str:
        return await as_json(reading.hosts(dashboard, 1000))

    @server.resource("dashboard://alerts/firing", name="firing-alerts", title="Firing alerts",
                     mime_type="application/json",
                     description="The firing alerts, newest first, as list_alerts gives them "
                                 "(values in the metric's unit, times in Unix seconds).")
    async def firing_resource() -> str:
        return await as_json(reading.alerts(dashboard, "firing", 200, None))

    return server


def serve(url: str, key: str, source: str | None = None, timeout: float = 10.0) -> None:
    """Run the server over stdin and stdout until the client closes them."""
    server = build(Dashboard(url, key, timeout), source)
    # The SDK logs each tool error on stderr (the client's log); a line per request is noise.
    for name in ("httpx2", "httpcore2"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server.run("stdio")
