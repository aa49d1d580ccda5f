"""The agent backend's browser client, unchanged, against a real gunicorn mounted under its
prefix: ``new EventSource('/agent_backend/api/sse/events/<session>?token=...')`` whose
``onmessage`` dispatches on ``data.type``, ``fetch`` of ``permission-response`` and ``health``
with ``Authorization: Bearer``; the agent on the other side posts with its session as
``source``. The flow ``permission_request`` -> ``permission-response`` -> ``permission_cleared``
is checked field by field."""

from __future__ import annotations

import json
import time
from datetime import datetime

import httpx
import pytest

from app.domain import apikeys
from app.store import open_store
from tests.servers import Server, free_port
from tests.sse_client import SSEClient

pytestmark = pytest.mark.server

PREFIX = "/agent_backend"
SESSION = "chat-7f3a"
TYPES = {"permission_request", "permission_cleared", "tool_status", "tool_result", "heartbeat"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(server, the browser's key, the agent's headers): the browser's key operates (answers
    approvals, reads too), the agent's asks and ingests."""
    path = tmp_path_factory.mktemp("agent-backend") / "store.sqlite3"
    store = open_store(f"sqlite:///{path}", log_size=10_000, poll_interval=0.1)
    try:
        _, browser = apikeys.add_key(store, "chat-ui", ["operate"], by="test")
        _, agent = apikeys.add_key(store, "copilot", ["ask", "ingest"], by="test")
    finally:
        store.close()
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{path}", "DASHBOARD_SAMPLER": "0",
           "DASHBOARD_COMPAT_PREFIX": PREFIX, "DASHBOARD_QUERY_TOKENS": "1",
           "DASHBOARD_HEARTBEAT": "1"}
    with Server(free_port(), env) as srv:
        yield srv, browser, {"Authorization": f"Bearer {agent}"}


class ChatPage:
    """The client's ``handleEvent``: ``switch (data.type)``, keeping what each callback got."""

    def __init__(self, es: SSEClient, session: str = SESSION) -> None:
        self.es = es
        self.session = session
        self.got: dict[str, list[dict]] = {kind: [] for kind in TYPES}

    def until(self, kind: str, predicate=lambda data: True, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self.es.next(timeout=max(deadline - time.monotonic(), 0.01))
            if not message.data:
                continue  # retry: only
            assert message.event is None  # onmessage
            data = json.loads(message.data)
            assert data["type"] in TYPES, data
            if data["type"] == "heartbeat":
                assert set(data) == {"type", "data", "timestamp"}
                assert isinstance(data["timestamp"], float)  # onHeartbeat(timestamp: number)
            else:
                assert set(data) == {"session_id", "type", "data", "timestamp"}
                assert data["session_id"] == self.session
                assert abs(datetime.fromisoformat(data["timestamp"]).timestamp()
                           - time.time()) < 30
            self.got[data["type"]].append(data["data"])
            if data["type"] == kind and predicate(data["data"]):
                return data["data"]


def test_permission_request_response_cleared(world):
    server, key, agent = world
    base = f"{server.url}{PREFIX}/api/sse"
    bearer = {"Authorization": f"Bearer {key}"}
    with SSEClient(f"{base}/events/{SESSION}?token={key}") as es:
        assert es.response.status_code == 200
        page = ChatPage(es)
        health = httpx.get(f"{base}/health/{SESSION}", headers=bearer).json()
        assert health == {"success": True, "data": {
            "chat_session_id": SESSION, "user_id": "key:chat-ui", "connected": True,
            "subscriber_count": 1, "manager_status": "running"}}

        # The agent starts a tool call, then asks before the risky one.
        assert httpx.put(f"{server.url}/api/v1/tasks/{SESSION}.file_search.1", headers=agent,
                         json={"state": "running", "progress": 10, "message": "searching",
                               "source": SESSION}).status_code == 200
        status = page.until("tool_status")
        assert (status["tool_name"], status["status"], status["details"]["progress"]) == (
            f"{SESSION}.file_search.1", "executing", 10)
        asked = httpx.post(f"{server.url}/api/v1/approvals", headers=agent, json={
            "title": "file_edit", "detail": "edit example.py", "source": SESSION})
        assert asked.status_code == 201
        request = page.until("permission_request")
        assert request == {
            "tool_name": "file_edit", "parameters": {}, "detail": "edit example.py",
            "risk_level": None, "status": "pending", "id": asked.json()["id"],
            "timestamp": request["timestamp"], "expires_at": request["expires_at"]}

        # The person approves on the page: approvePermission(true, '用户同意').
        answered = httpx.post(f"{base}/permission-response/{SESSION}", headers=bearer,
                              json={"approved": True, "reason": "用户同意"})
        assert answered.status_code == 200
        result = answered.json()
        assert result["success"] is True and result["approval"]["state"] == "approved"
        cleared = page.until("permission_cleared")
        assert cleared == {"message": "approved", "id": asked.json()["id"], "state": "approved",
                           "approved": True, "reason": "用户同意", "by": "key:chat-ui",
                           "timestamp": cleared["timestamp"]}
        # The agent, waiting on the approval by its id, learns the answer.
        decided = httpx.get(f"{server.url}/api/v1/approvals/{asked.json()['id']}", headers=agent)
        assert (decided.json()["state"], decided.json()["by"]) == ("approved", "key:chat-ui")
        # Nothing pending any more: the next answer is a 404.
        again = httpx.post(f"{base}/permission-response/{SESSION}", headers=bearer,
                           json={"approved": False, "reason": ""})
        assert again.status_code == 404

        # The tool finishes: its status and its result.
        httpx.put(f"{server.url}/api/v1/tasks/{SESSION}.file_search.1", headers=agent,
                  json={"state": "succeeded", "progress": 100, "message": "5 matches",
                        "source": SESSION})
        page.until("tool_status", lambda data: data["status"] == "completed")
        assert page.until("tool_result") == {
            "tool_name": f"{SESSION}.file_search.1", "result": {"message": "5 matches"},
            "success": True, "timestamp": page.got["tool_result"][-1]["timestamp"]}
        beat = page.until("heartbeat", timeout=3)  # DASHBOARD_HEARTBEAT=1 here
        assert beat == {}

    deadline = time.monotonic() + 5  # the server sees the closed stream at its next write
    while httpx.get(f"{base}/health/{SESSION}", headers=bearer).json()["data"]["connected"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_a_reconnecting_page_gets_the_pending_request_again(world):
    server, key, agent = world
    base = f"{server.url}{PREFIX}/api/sse"
    session = "chat-reconnect"
    asked = httpx.post(f"{server.url}/api/v1/approvals", headers=agent, json={
        "title": "shell", "source": session}).json()
    with SSEClient(f"{base}/events/{session}?token={key}") as es:
        page = ChatPage(es, session)
        assert page.until("permission_request", timeout=3)["id"] == asked["id"]  # at once
        assert httpx.delete(f"{server.url}/api/v1/approvals/{asked['id']}",
                            headers=agent).status_code == 200  # the agent stopped waiting
        cleared = page.until("permission_cleared")
        assert (cleared["id"], cleared["state"], cleared["approved"]) == (
            asked["id"], "withdrawn", None)
