"""What the browser does, in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS, simulate_host

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module", autouse=True)
def moving_figures(server):
    """The tests wait for the CPU figure to change (:func:`tests.conftest.simulate_host`)."""
    simulate_host(server.url)


def changes(page: Page, selector: str, timeout_ms: int) -> None:
    """Wait until the text of ``selector`` differs from what it shows now."""
    before = page.locator(selector).inner_text()
    expect(page.locator(selector)).not_to_have_text(before, timeout=timeout_ms)


def test_live_page_updates_without_reload(server, watched: Page):
    page = watched
    page.goto(server.url + "/")
    expect(page.locator("#badge")).to_have_text("LIVE")
    expect(page.locator("#cpu .number")).to_have_text(re.compile(r"^\d+\.\d$"))
    page.evaluate("window.__same_document = true")  # gone if the page reloads

    changes(page, "#cpu .number", timeout_ms=5000)

    marker = "backup finished on shelf 7"
    assert httpx.post(server.url + "/api/v1/events",
                      json={"level": "warning", "message": marker}).status_code == 201
    item = page.locator("#events li").first
    expect(item).to_contain_text(marker)
    expect(item).to_have_class(re.compile(r"\blevel-warning\b"))
    expect(item.locator(".level-word")).to_have_text("warning")
    expect(page.locator("#viewers .number")).not_to_have_text("0")
    # A new event comes alone, prepended; the feed keeps its 20 newest (DASHBOARD_FEED_SIZE).
    for n in range(21):
        assert httpx.post(server.url + "/api/v1/events",
                          json={"message": f"event {n} of 21"}).status_code == 201
    expect(page.locator("#events li").first).to_have_text(re.compile("event 20 of 21"))
    expect(page.locator("#events li")).to_have_count(20)
    expect(page.locator("#events li").last).to_contain_text("event 1 of 21")

    assert page.evaluate("window.__same_document") is True
    assert page.locator("#badge").inner_text() == "LIVE"
    assert page.problems == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)


def test_blocked_stream_falls_back_to_polling(server, page: Page):
    # A proxy that refuses the stream: the connection fails, the badge asks /poll every 2 s.
    page.route(re.compile(r"/stream(\?|$)"), lambda route: route.abort())
    page.goto(server.url + "/")
    expect(page.locator("#badge")).to_have_text("POLLING")
    changes(page, "#cpu .number", timeout_ms=10_000)  # polls every 2 s; slack for a busy CI

    marker = "seen while polling"
    httpx.post(server.url + "/api/v1/events", json={"message": marker})
    expect(page.locator("#events li").first).to_contain_text(marker)
    expect(page.locator("#badge")).to_have_text("POLLING")

    # The proxy lets the stream through again: the page re-dials (every 15 s) and is LIVE.
    page.unroute(re.compile(r"/stream(\?|$)"))
    expect(page.locator("#badge")).to_have_text("LIVE", timeout=25_000)
    changes(page, "#cpu .number", timeout_ms=5000)
    expect(page.locator("#badge")).to_have_text("LIVE")


def test_poll_transport_page_polls_from_the_start(server, watched: Page):
    page = watched
    page.goto(server.url + "/?transport=poll")
    expect(page.locator("#badge")).to_have_text("POLLING")
    changes(page, "#cpu .number", timeout_ms=10_000)  # polls every 2 s; slack for a busy CI
    assert page.problems == []


def test_event_text_is_shown_as_text_and_runs_nothing(server, watched: Page):
    page = watched
    page.goto(server.url + "/")
    expect(page.locator("#badge")).to_have_text("LIVE")
    assert httpx.post(server.url + "/api/v1/events",
                      json={"level": "critical", "message": XSS, "source": XSS}).status_code == 201
    message = page.locator("#events li .message").first
    expect(message).to_have_text(XSS)
    assert page.locator("#events img").count() == 0
    page.wait_for_timeout(500)  # time for an onerror handler to fire, were there an <img>
    assert page.problems == []

    page.reload()  # the page render escapes it too, not only the stream
    expect(page.locator("#events li .message").first).to_have_text(XSS)
    assert page.locator("#events img").count() == 0
    assert page.problems == []
