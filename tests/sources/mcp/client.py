"""What the MCP tests share: a dashboard (real gunicorn) whose store holds the keys an agent and
an on-call person use, and the SDK's own client talking to ``python -m app.sources.mcp`` over
stdio."""

from __future__ import annotations

import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, Implementation

from app.domain import accounts, apikeys
from app.store import open_store
from tests.servers import ROOT, Server, free_port

AGENT = "test-agent"
#: A rule that fires on the first hot sample of a web-* host.
HOT_RULE = ('[{"metric": "cpu_percent", "op": ">", "value": 90, "for": 0, '
            '"level": "critical", "name": "cpu-hot", "hosts": "web-*"}]')


#: The on-call operator's account, who answers on the page.
OPERATOR, PASSWORD = "olga", "correct-horse-battery"


class Dashboard(Server):
    """A gunicorn whose store holds the keys :attr:`keys` (name -> secret): ``agent`` (read,
    ingest, ask: what an agent gets), ``reader`` (read), ``admin`` (admin) and ``asker`` (ask
    alone); and :data:`OPERATOR`, a person on call who answers on the page."""

    def __init__(self, store_url: str, env: dict[str, str] | None = None) -> None:
        store = open_store(store_url, log_size=10_000, poll_interval=0.1)
        try:
            self.keys = {name: apikeys.add_key(store, name, scopes, by="test")[1]
                         for name, scopes in (("agent", ["read", "ingest", "ask"]),
                                              ("reader", ["read"]),
                                              ("admin", ["admin"]), ("asker", ["ask"]))}
            accounts.add(store, OPERATOR, "operator", PASSWORD)
        finally:
            store.close()
        super().__init__(free_port(), {"DASHBOARD_STORE_URL": store_url,
                                       "DASHBOARD_SAMPLER": "0", "DASHBOARD_ALERT_RULES": HOT_RULE,
                                       "DASHBOARD_SECRET_KEY": "s" * 32, **(env or {})})

    def as_(self, name: str) -> dict[str, str]:
        """The Authorization header of key ``name``."""
        return {"Authorization": f"Bearer {self.keys[name]}"}

    def api(self, method: str, path: str, key: str = "admin", **kwargs) -> httpx.Response:
        return httpx.request(method, self.url + path, headers=self.as_(key), timeout=10,
                             **kwargs)

    def answer_on_page(self, approval_id: str, approve: bool, reason: str = "") -> None:
        """What the page's Approve or Deny button sends, as :data:`OPERATOR` signed in."""
        with httpx.Client(base_url=self.url, timeout=10, headers={"Origin": self.url}) as page:
            signed_in = page.post("/login", data={"name": OPERATOR, "password": PASSWORD})
            assert signed_in.status_code == 303, signed_in.text
            answered = page.post(f"/ui/approvals/{approval_id}/response", data={
                "decision": "approve" if approve else "deny", "reason": reason})
            assert answered.status_code == 303, answered.text


def mcp_server(url: str, key: str | None, *extra: str,
               command: list[str] | None = None, env: dict[str, str] | None = None
               ) -> StdioServerParameters:
    """How a client starts the MCP server: ``python -m app.sources.mcp --to URL`` with the key in
    ``DASHBOARD_API_KEY`` (``command`` replaces ``python -m app.sources.mcp``)."""
    return StdioServerParameters(
        command=(command or [sys.executable])[0],
        args=[*(command[1:] if command else ["-m", "app.sources.mcp"]), "--to", url, *extra],
        env={**({"DASHBOARD_API_KEY": key} if key else {}), **(env or {})}, cwd=str(ROOT))


@asynccontextmanager
async def connect(params: StdioServerParameters):
    """An initialised :class:`ClientSession` with the MCP server; its stderr goes to a
    temporary file, shown when the block fails."""
    with tempfile.TemporaryFile("w+") as errlog:
        try:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write, client_info=Implementation(
                        name=AGENT, version="1.0")) as session:
                    await session.initialize()
                    yield session
        except BaseException:
            errlog.seek(0)
            sys.stderr.write(f"--- the MCP server's stderr ---\n{errlog.read()}\n")
            raise


def text(result: CallToolResult) -> str:
    """The result's one text block."""
    [block] = result.content
    return block.text


def ok(result: CallToolResult) -> dict[str, Any]:
    """The structured content of a successful call."""
    assert not result.is_error, text(result)
    return result.structured_content


def error(result: CallToolResult) -> str:
    """The message of a tool error, checked to be one line and no traceback."""
    assert result.is_error, result
    message = text(result)
    assert "\n" not in message and "Traceback" not in message, message
    assert not message.startswith("Error executing tool"), message
    return message


def run(function, *args):
    """``anyio.run(function, *args)`` in a thread of its own: a module that ran a browser test
    before leaves Playwright's event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, function, *args).result()
