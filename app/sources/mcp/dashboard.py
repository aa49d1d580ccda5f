"""The dashboard's HTTP API as the MCP server uses it: one ``httpx2.AsyncClient`` per server,
and every failure as a :class:`DashboardError` whose message is one line an agent can act on
(the SDK hands a tool's :class:`~mcp.server.mcpserver.exceptions.ToolError` to the model as a
tool error; ``app.sources.mcp.server`` strips the SDK's prefix).

httpx2 is the SDK's own HTTP client (a dependency of ``mcp``): no second one in the process.
Redirects are not followed: a redirect would carry the key to wherever it points.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
from mcp.server.mcpserver.exceptions import ToolError

#: Seconds a stream read may wait: the dashboard pings every DASHBOARD_HEARTBEAT (15 s).
STREAM_READ_TIMEOUT = 75.0
#: Characters of a dashboard's error message kept in a tool error.
MESSAGE_CHARS = 300
SCOPES_HINT = "give the agent's key the scopes read, ingest and ask"


class DashboardError(ToolError):
    """The dashboard could not be asked, or refused: ``str()`` is one line; ``status`` the
    HTTP status (None: no answer), ``fields`` the parameters a 400/422 named."""

    def __init__(self, message: str, status: int | None = None,
                 fields: tuple[str, ...] = ()) -> None:
        super().__init__(one_line(message))
        self.status = status
        self.fields = fields


class Unreachable(DashboardError):
    """No answer: refused connection, unknown name, timeout, a connection that broke."""


class NotFound(DashboardError):
    """404: unknown host, approval, task; or no such route (an older dashboard)."""


def one_line(text: str, limit: int = 500) -> str:
    """``text`` with its whitespace runs made single spaces, cut to ``limit`` characters."""
    text = re.sub(r"\s+", " ", str(text)).strip()
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _message(response: httpx2.Response) -> tuple[str, tuple[str, ...], dict]:
    """The error message of an answer, the fields it names, and its JSON body ({} if none)."""
    try:
        body = response.json()
    except ValueError:
        return one_line(response.text, MESSAGE_CHARS) or response.reason_phrase, (), {}
    if not isinstance(body, dict):
        return one_line(str(body), MESSAGE_CHARS), (), {}
    message = one_line(str(body.get("error") or response.reason_phrase), MESSAGE_CHARS)
    details = body.get("details") if isinstance(body.get("details"), list) else []
    fields = tuple(str(d["field"]) for d in details if isinstance(d, dict) and d.get("field"))
    said = [f"{d.get('field')}: {d.get('message')}" for d in details
            if isinstance(d, dict) and d.get("message")]
    if said:  # what each parameter did wrong says more than "invalid query parameter: x"
        message = one_line("; ".join(said), MESSAGE_CHARS)
    return message, fields, body


def refusal(response: httpx2.Response, url: str, has_key: bool) -> DashboardError:
    """The :class:`DashboardError` that says why ``response`` (not 2xx) failed."""
    status = response.status_code
    message, fields, body = _message(response)
    if 300 <= status < 400:
        return DashboardError(f"the dashboard answered a redirect to "
                              f"{response.headers.get('Location', '?')}: --to must be its "
                              f"base URL ({url})", status)
    if status == 401:
        if has_key:
            return DashboardError(f"the dashboard refused the key (HTTP 401: {message}): the "
                                  "key is wrong, revoked or expired; give the MCP server a "
                                  "valid one in DASHBOARD_API_KEY", status)
        return DashboardError(f"the dashboard wants a key (HTTP 401: {message}): set "
                              f"DASHBOARD_API_KEY for the MCP server; {SCOPES_HINT}", status)
    if status == 403 and "needs" in body:
        return DashboardError(f"the key lacks the scope this needs (HTTP 403: {message}); "
                              f"{SCOPES_HINT}", status)
    if status == 403:
        return DashboardError(f"the dashboard refused (HTTP 403: {message})", status)
    if status == 429:
        after = response.headers.get("Retry-After", "a while")
        return DashboardError(f"the dashboard refuses this client for now after too many wrong "
                              f"keys (HTTP 429): retry after {after} s with a valid key", status)
    if status == 404:
        return NotFound(message, status)
    if status in (400, 422):
        return DashboardError(f"bad argument: {message}", status, fields)
    if status == 503:
        return DashboardError(f"the dashboard cannot reach its store (HTTP 503: {message}); "
                              "retry in a few seconds", status)
    return DashboardError(f"the dashboard answered HTTP {status}: {message}", status)


class Dashboard:
    """One dashboard's API: ``async with Dashboard(url, key) as dashboard: await
    dashboard.call("GET", "/api/v1/hosts")``.

    :param url: its base URL (no trailing slash). :param key: an API key, or "" for none.
    :param timeout: seconds each answer may take (connect, read and write alike).
    """

    def __init__(self, url: str, key: str = "", timeout: float = 10.0,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self._transport = transport
        self._client: httpx2.AsyncClient | None = None

    async def __aenter__(self) -> Dashboard:
        headers = {"User-Agent": "live-dashboard-mcp", "Accept": "application/json"}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        self._client = httpx2.AsyncClient(base_url=self.url, headers=headers,
                                          timeout=self.timeout, follow_redirects=False,
                                          transport=self._transport)
        return self

    async def __aexit__(self, *exc) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx2.AsyncClient:
        if self._client is None:
            raise RuntimeError("use the Dashboard in 'async with' first")
        return self._client

    def _unreachable(self, exc: Exception) -> Unreachable:
        if isinstance(exc, httpx2.TimeoutException):
            return Unreachable(f"the dashboard at {self.url} did not answer within "
                               f"{self.timeout:g} s; it may be overloaded or stuck")
        reason = one_line(str(exc) or type(exc).__name__, 200)
        return Unreachable(f"the dashboard at {self.url} cannot be reached ({reason}): is it "
                           "running, and is --to its address?")

    async def call(self, method: str, path: str, *, params: dict | None = None,
                   json: Any = None) -> Any:
        """Send one request; return its decoded JSON (None for an empty body).

        :raise DashboardError: no answer (:class:`Unreachable`), or not a 2xx (:func:`refusal`).
        """
        params = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            response = await self.client.request(method, path, params=params or None, json=json)
        except httpx2.TransportError as exc:
            raise self._unreachable(exc) from None
        if not response.is_success:
            raise refusal(response, self.url, bool(self.key))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise DashboardError(f"the dashboard at {self.url} answered {path} with something "
                                 "that is not JSON: is --to a dashboard?",
                                 response.status_code) from None

    @asynccontextmanager
    async def events(self, path: str, last_id: str | None = None) -> AsyncIterator[
            AsyncIterator[httpx2.ServerSentEvent]]:
        """Open the Server-Sent Events stream at ``path`` (resuming after ``last_id``); yield
        its messages as an async iterator. A stream that breaks raises :class:`Unreachable`
        from the iteration.

        :raise DashboardError: it could not be opened (as :meth:`call`).
        """
        headers = {"Accept": "text/event-stream"}
        if last_id:
            headers["Last-Event-ID"] = last_id
        timeout = httpx2.Timeout(self.timeout, read=STREAM_READ_TIMEOUT)
        try:
            async with self.client.stream("GET", path, headers=headers,
                                          timeout=timeout) as response:
                if not response.is_success:
                    await response.aread()
                    raise refusal(response, self.url, bool(self.key))
                yield self._messages(response)
        except httpx2.TransportError as exc:
            raise self._unreachable(exc) from None

    async def _messages(self, response: httpx2.Response):
        try:
            async for message in httpx2.EventSource(response):
                yield message
        except httpx2.TransportError as exc:
            raise self._unreachable(exc) from None
