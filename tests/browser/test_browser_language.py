"""The dashboard in Simplified Chinese in a real headless Chromium, with Debian's CJK fonts
(fonts-noto-cjk, installed by scripts/setup --test) so that the screenshots show real glyphs:
the host page (with an approval and an alert waiting), the fleet page and the compare page,
on a desktop and a phone (the host page light and dark); nothing wider than a 390 px screen.
The audit page's live rows and an error page in Chinese too."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.server]

SIZES = {"desktop": (1280, 800), "phone": (390, 844)}


def test_the_pages_in_chinese(server, watched: Page):
    page = watched
    assert httpx.post(server.url + "/simulator/host", json={"enabled": True}).status_code == 200
    assert httpx.post(server.url + "/api/v1/approvals", json={
        "title": "重启 web 服务器？", "timeout_seconds": 600}).status_code == 201
    assert httpx.post(server.url + "/api/v1/alerts", json={
        "name": "disk-full", "level": "critical", "message": "/var 96 %"}).status_code == 201
    page.goto(server.url + "/?lang=zh_Hans")  # the cookie keeps the choice for what follows
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.locator("#badge")).to_have_text("实时")
    expect(page.locator("#approvals")).to_contain_text("等待审批")
    expect(page.locator("#alerts")).to_contain_text("触发中")
    expect(page.locator("#processes tbody tr")).to_have_count(15, timeout=15000)
    for path, name in (("/", "host"), ("/fleet", "fleet"), ("/fleet/compare", "compare")):
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            page.goto(server.url + path)
            expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
            # Every scheme of the host page; the light one of the others (the words are the
            # same, the colours are the host page's).
            for scheme in ("light", "dark") if name == "host" else ("light",):
                page.emulate_media(color_scheme=scheme)
                page.screenshot(path=ARTIFACTS / f"zh-{name}-{size}-{scheme}.png",
                                full_page=True)
            if size == "phone":
                # Nothing wider than the phone's screen but the tables' own scrolling boxes.
                assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    page.emulate_media(color_scheme="light")
    assert page.problems == []


def test_the_audit_page_and_an_error_page_in_chinese(server, watched: Page):
    page = watched
    page.goto(server.url + "/audit?lang=zh_Hans")
    raised = httpx.post(server.url + "/api/v1/alerts", json={
        "name": "disk-full", "level": "critical", "message": "/var 96 %"}).json()
    assert httpx.post(server.url + f"/api/v1/alerts/{raised['id']}/ack").status_code == 200
    # The entry arrives over the audit stream (or in its snapshot, if the stream opened after
    # it), rendered in Chinese for Chinese readers.
    row = page.locator("#audit-rows tbody tr").first
    expect(row).to_contain_text("alert-ack")
    expect(page.locator("#audit-rows thead")).to_contain_text("操作人")
    expect(row).to_contain_text("管理员")
    page.screenshot(path=ARTIFACTS / "zh-audit-desktop-light.png", full_page=True)
    assert page.problems == []
    page.goto(server.url + "/?host=no-such-host")  # Chromium logs the 404 itself
    expect(page.locator("h1")).to_have_text("404 · 未找到")
    expect(page.locator("main")).to_contain_text("未知主机“no-such-host”")
