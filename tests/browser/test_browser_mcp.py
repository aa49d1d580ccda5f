"""An AI agent asks through the MCP server, a person answers on the page, in a real headless
Chromium against a real gunicorn: the question shows with the agent as its source, the on-call
operator approves it with a reason, and the agent's tool call returns once the person
answers, with the reason and who answered."""

from __future__ import annotations

import socket
import threading
import time

import anyio
import pytest
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS
from tests.sources.mcp.client import AGENT, OPERATOR, PASSWORD, Dashboard, connect, mcp_server, ok

pytestmark = [pytest.mark.browser, pytest.mark.server]

TITLE = "Restart nginx on web-1?"
DETAIL = "nginx on web-1 holds 3.1 GB and grows 1 GB an hour; a restart drops 40 connections."


@pytest.fixture(scope="module")
def oncall_server(tmp_path_factory):
    """gunicorn on a store with the on-call operator and the agent's key (read, ingest, ask)."""
    store = tmp_path_factory.mktemp("mcp-browser") / "store.sqlite3"
    with Dashboard(f"sqlite:///{store}") as srv:
        yield srv


class Agent(threading.Thread):
    """An agent in a thread of its own (Playwright holds this one): it calls request_approval
    over stdio and keeps the result, the wall-clock time it came back, and the progress."""

    def __init__(self, url: str, key: str) -> None:
        super().__init__(daemon=True)
        self.params = mcp_server(url, key)
        self.result = self.returned = self.failure = None
        self.progress: list[tuple] = []

    def run(self) -> None:
        async def ask():
            async def on_progress(done, total, message):
                self.progress.append((done, total, message))

            async with connect(self.params) as session:
                result = await session.call_tool("request_approval", {
                    "title": TITLE, "detail": DETAIL, "timeout_seconds": 600},
                    progress_callback=on_progress)
                self.returned = time.time()
                self.result = result

        try:
            anyio.run(ask)
        except BaseException as exc:  # shown by the test
            self.failure = exc


def test_an_agent_asks_and_an_operator_answers_on_the_page(oncall_server, browser):
    url = oncall_server.url
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(url + "/login")
    page.locator("#name").fill(OPERATOR)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#badge")).to_have_text("LIVE")
    expect(page.locator("#approvals")).to_be_hidden()

    agent = Agent(url, oncall_server.keys["agent"])
    agent.start()
    try:
        card = page.locator("#approvals li.approval")
        expect(card).to_have_count(1, timeout=20_000)  # the MCP server starts, then asks
        expect(card.locator(".title")).to_have_text(TITLE)
        expect(card.locator(".detail")).to_have_text(DETAIL)
        expect(card.locator(".source")).to_have_text(f"mcp:{AGENT}@{socket.gethostname()}")
        expect(card.locator(".asked-by")).to_have_text("asked by key:agent")
        expect(card.locator(".times")).to_have_text("asked just now · 9 min left")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "mcp-approval-1280x900.png", full_page=False)

        card.get_by_placeholder("Reason (optional)").fill("go ahead, traffic is low")
        card.get_by_role("button", name="Approve", exact=True).click()
        agent.join(10)
    finally:
        agent.join(0)
    assert agent.failure is None, agent.failure
    assert not agent.is_alive(), "request_approval did not return"
    outcome = ok(agent.result)
    assert (outcome["state"], outcome["approved"], outcome["reason"], outcome["by"]) == (
        "approved", True, "go ahead, traffic is low", OPERATOR)
    assert outcome["answer"] == f"approved by {OPERATOR}: go ahead, traffic is low"
    # Within a second of the answer: the dashboard's time of the answer, on this machine's clock.
    assert 0 <= agent.returned - outcome["answered_at"] < 1.0, \
        agent.returned - outcome["answered_at"]
    assert agent.progress and agent.progress[0][1] == 600

    # The page says who decided, and the card left.
    expect(page.locator(f"#decided-{outcome['id']}")).to_contain_text(f"approved by {OPERATOR}")
    expect(page.locator(f"#approval-{outcome['id']}")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "mcp-approval-answered-1280x900.png", full_page=False)
    assert problems == []
    context.close()
