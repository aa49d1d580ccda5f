"""``request_approval`` through the SDK's own client over stdio, against a real gunicorn: the
on-call operator answers it with the page's buttons (approved with a reason, denied), nobody
does (expired), or the agent stops waiting (the call cancelled, the client gone), which
withdraws it. Progress notifications come while it waits, and the call returns at once after
the answer (the browser test measures the second in Chromium)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import anyio
import pytest

from tests.sources.mcp.client import (AGENT, OPERATOR, Dashboard, connect, error, mcp_server,
                                      ok, run)

pytestmark = pytest.mark.server

SOURCE = f"mcp:{AGENT}@{socket.gethostname()}"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    store = tmp_path_factory.mktemp("mcp-approvals") / "store.sqlite3"
    with Dashboard(f"sqlite:///{store}") as srv:
        yield srv


def pending(dashboard) -> list[dict]:
    return dashboard.api("GET", "/api/v1/approvals?state=pending").json()


async def asked(dashboard, title: str, within: float = 20.0) -> dict:
    """The pending approval titled ``title``, once the agent asked it."""
    deadline = time.monotonic() + within
    while True:
        found = [a for a in await anyio.to_thread.run_sync(pending, dashboard)
                 if a["title"] == title]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"{title!r} was not asked"
        await anyio.sleep(0.05)


def ask_and_answer(dashboard, key: str, question: dict, answer: tuple[bool, str] | None,
                   after: float = 0.0):
    """Call request_approval with ``question`` as ``key``; once it is pending, wait ``after``
    seconds and answer it on the page as the on-call operator (``answer``: approved and reason;
    None: nobody answers). Returns the result, the approval as asked, the progress
    notifications and the seconds from the answer to the call's return."""
    progress: list[tuple] = []
    seen: dict = {}

    async def on_progress(done, total, message):
        progress.append((done, total, message))

    async def go():
        async with connect(mcp_server(dashboard.url, dashboard.keys[key])) as session:
            async with anyio.create_task_group() as group:
                async def respond():
                    seen["approval"] = await asked(dashboard, question["title"])
                    if answer is None:
                        return
                    await anyio.sleep(after)
                    await anyio.to_thread.run_sync(lambda: dashboard.answer_on_page(
                        seen["approval"]["id"], *answer))
                    seen["answered"] = time.monotonic()

                group.start_soon(respond)
                result = await session.call_tool("request_approval", question,
                                                 progress_callback=on_progress)
                seen["returned"] = time.monotonic()
                return result

    result = run(go)
    lag = seen["returned"] - seen["answered"] if "answered" in seen else None
    return result, seen["approval"], progress, lag


def test_approved_with_a_reason(dashboard):
    question = {"title": "Restart nginx on web-1?", "detail": "it leaks 1 GB an hour",
                "timeout_seconds": 120}
    result, approval, progress, lag = ask_and_answer(
        dashboard, "agent", question, (True, "go ahead, it is quiet"), after=6.0)
    outcome = ok(result)
    assert outcome == {"id": approval["id"], "state": "approved", "approved": True,
                       "reason": "go ahead, it is quiet", "by": OPERATOR,
                       "answered_at": outcome["answered_at"],
                       "answer": f"approved by {OPERATOR}: go ahead, it is quiet"}
    assert lag < 2.0, f"the call returned {lag:.2f} s after the answer"  # 1 s: the browser test
    # As the page shows it: the question, its detail, the agent as its source, the key.
    assert (approval["title"], approval["detail"], approval["source"], approval["asked_by"],
            approval["timeout_seconds"]) == (question["title"], question["detail"], SOURCE,
                                              "key:agent", 120)
    # Progress while it waited: at once, then every 5 s; seconds waited of 120.
    assert len(progress) >= 2
    assert [total for _, total, _ in progress] == [120.0] * len(progress)
    done = [d for d, _, _ in progress]
    assert done[0] == 0 and done == sorted(set(done)) and done[1] >= 4.5
    assert progress[0][2] == f"waiting for a person to answer on {dashboard.url}: 120 s left"


def test_denied_to_a_key_that_may_only_ask(dashboard):
    result, approval, _, lag = ask_and_answer(
        dashboard, "asker", {"title": "Drop the staging database?"},
        (False, "not during the sale"))
    assert ok(result)["state"] == "denied" and ok(result)["approved"] is False
    assert ok(result)["answer"] == f"denied by {OPERATOR}: not during the sale"
    assert approval["timeout_seconds"] == 900  # the default
    assert lag < 2.0


def test_expired_when_nobody_answers(dashboard):
    started = time.monotonic()
    result, approval, progress, _ = ask_and_answer(
        dashboard, "agent", {"title": "Rotate the keys?", "timeout_seconds": 10}, None)
    assert ok(result) == {"id": approval["id"], "state": "expired", "approved": None,
                          "reason": None, "by": None, "answered_at": ok(result)["answered_at"],
                          "answer": "expired"}
    assert 9.5 < time.monotonic() - started < 40  # 10 s, and the server starting on a busy machine
    assert len(progress) >= 2


def withdrawn(dashboard, approval_id: str) -> dict:
    """The approval once it left pending (within 10 s)."""
    deadline = time.monotonic() + 10
    while (approval := dashboard.api("GET", f"/api/v1/approvals/{approval_id}").json())[
            "state"] == "pending":
        assert time.monotonic() < deadline, "the question was not withdrawn"
        time.sleep(0.05)
    return approval


def test_a_cancelled_call_withdraws_its_question(dashboard):
    title = "Deploy v3 to production?"

    async def go():
        async with connect(mcp_server(dashboard.url, dashboard.keys["agent"])) as session:
            async with anyio.create_task_group() as group:
                group.start_soon(session.call_tool, "request_approval", {"title": title})
                approval = await asked(dashboard, title)
                group.cancel_scope.cancel()  # the SDK's client sends notifications/cancelled
            # The session goes on after a cancelled call.
            return approval, await session.call_tool("list_hosts", {})

    approval, after = run(go)
    gone = withdrawn(dashboard, approval["id"])
    assert (gone["state"], gone["by"]) == ("withdrawn", "key:agent")
    assert ok(after)["count"] >= 1


def test_a_client_that_goes_away_withdraws_its_question(dashboard):
    """A client that dies closes the server's stdin with the call pending, no cancellation."""
    params = mcp_server(dashboard.url, dashboard.keys["agent"])
    proc = subprocess.Popen([params.command, *params.args], cwd=params.cwd,
                            env={**os.environ, **params.env}, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        def send(message: dict) -> None:
            proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}) + "\n")
            proc.stdin.flush()

        send({"id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "short-lived", "version": "1"}}})
        assert json.loads(proc.stdout.readline())["id"] == 1
        send({"method": "notifications/initialized"})
        send({"id": 2, "method": "tools/call", "params": {
            "name": "request_approval", "arguments": {"title": "Reboot web-1?"}}})
        approval = run(asked, dashboard, "Reboot web-1?")
        assert approval["source"] == f"mcp:short-lived@{socket.gethostname()}"
        proc.stdin.close()
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
        proc.stdout.close()
        if not proc.stdin.closed:
            proc.stdin.close()
    gone = withdrawn(dashboard, approval["id"])
    assert (gone["state"], gone["by"]) == ("withdrawn", "key:agent")


def test_the_answer_must_come_from_another_key(dashboard):
    async def go():
        async with connect(mcp_server(dashboard.url, dashboard.keys["agent"])) as session:
            async with anyio.create_task_group() as group:
                group.start_soon(session.call_tool, "request_approval",
                                 {"title": "Approve myself?"})
                approval = await asked(dashboard, "Approve myself?")
                response = await anyio.to_thread.run_sync(lambda: dashboard.api(
                    "POST", f"/api/v1/approvals/{approval['id']}/response", "agent",
                    json={"approved": True}))
                group.cancel_scope.cancel()
                return response

    response = run(go)
    assert response.status_code == 403  # the agent's own key may not answer it


def test_a_question_the_dashboard_refuses(dashboard):
    async def go():
        async with connect(mcp_server(dashboard.url, dashboard.keys["agent"])) as session:
            return await session.call_tool("request_approval", {"title": "   "})

    assert error(run(go)).startswith("bad argument")
    assert not [a for a in pending(dashboard) if a["title"].strip() == ""]
