"""Silencing an alert from the page in a real headless Chromium: the card is marked, and the
receiver of notifications gets nothing about it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from app.store import open_store
from tests.conftest import ARTIFACTS
from tests.receiver import Receiver
from tests.servers import Server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def notify_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("silence")
    # The test holds the sender's lease from before the server starts until the page has
    # silenced the alert, so no process of the server can send about it before the silence.
    store = open_store(f"sqlite:///{tmp / 'store.sqlite3'}", log_size=10_000, poll_interval=0.1)
    assert store.lease("notifier", "the-test", 300)
    with Receiver(free_port(), tmp / "posts.jsonl") as receiver, Server(free_port(), {
            "DASHBOARD_STORE_URL": f"sqlite:///{tmp / 'store.sqlite3'}",
            "DASHBOARD_ALERT_RULES": "[]",
            "DASHBOARD_WEBHOOK_URLS": f"{receiver.url}/webhook"}) as srv:
        yield srv, receiver, store
    store.close()


def test_silence_an_alert_from_the_page(notify_server, watched: Page):
    server, receiver, store = notify_server
    page = watched
    page.set_viewport_size({"width": 1280, "height": 900})
    alert_id = httpx.post(server.url + "/api/v1/alerts", json={
        "name": "backup-late", "level": "error", "message": "the nightly backup is late"}).json()["id"]
    page.goto(server.url + "/")
    expect(page.locator("#badge")).to_have_text("LIVE")
    card = page.locator(f"#alert-{alert_id}")
    button = card.get_by_role("button", name="Silence 4 h", exact=True)
    expect(button).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    card.screenshot(path=ARTIFACTS / "alert-silence-buttons.png")
    button.click()
    expect(card.locator(".silenced")).to_contain_text("Silenced by local until")
    expect(card.get_by_role("button", name="Silence 1 h", exact=True)).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "alert-silenced-1280x900.png", full_page=True)
    store.lease("notifier", "the-test", 0.001)  # let go: the server's notifier takes over

    # Another alert, raised after the silence, is notified: by then the silenced one has been
    # looked at by the same sender, and it got nothing.
    other = httpx.post(server.url + "/api/v1/alerts", json={
        "name": "disk-slow", "level": "warning", "message": "disk latency high"}).json()["id"]
    got = receiver.wait_for(lambda got: any(p["key"].startswith(other) for p in got), timeout=30)
    assert not [p for p in got if p["key"].startswith(alert_id)]
    listed = httpx.get(server.url + "/api/v1/silences").json()
    assert [(s["created_by"], s["matchers"]) for s in listed] == [
        ("local", {"name": "backup-late"})]
