"""Approvals in a real headless Chromium: the real ``flask ask`` command asks, a person denies
it with a reason on the page, the command exits 1 with that reason, and the card leaves every
open page."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS
from tests.servers import ROOT, Server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]

FLASK = os.path.join(os.path.dirname(sys.executable), "flask")
TITLE = "Deploy v2 to production?"


@pytest.fixture(scope="module")
def approvals_server(tmp_path_factory):
    store = tmp_path_factory.mktemp("approvals") / "store.sqlite3"
    with Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{store}"}) as srv:
        yield srv


def pending(url: str) -> list[dict]:
    return httpx.get(url + "/api/v1/approvals?state=pending", timeout=5).json()


def test_a_program_asks_a_person_denies_and_the_program_hears_it(approvals_server,
                                                                  watched: Page):
    url = approvals_server.url
    page = watched
    page.set_viewport_size({"width": 1280, "height": 900})
    other = page.context.new_page()
    for p in (page, other):
        p.goto(url + "/")
        expect(p.locator("#badge")).to_have_text("LIVE")
    expect(page.locator("#approvals")).to_be_hidden()  # nothing waits yet

    asker = subprocess.Popen(
        [FLASK, "--app", "wsgi", "ask", "--to", url, TITLE, "--detail",
         "build 1432 <b>green</b>", "--timeout", "600"],
        cwd=ROOT, env=approvals_server.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.monotonic() + 20  # python, flask and the app start
        while not pending(url):
            assert asker.poll() is None, asker.communicate()
            assert time.monotonic() < deadline, "the ask command did not post"
            time.sleep(0.05)
        [asked] = pending(url)
        # The card shows on both pages once the question reaches the store (no reload).
        card = page.locator(f"#approval-{asked['id']}")
        expect(card).to_be_visible()
        expect(other.locator(f"#approval-{asked['id']}")).to_be_visible()
        expect(card.locator(".title")).to_have_text(TITLE)
        expect(card.locator(".detail")).to_have_text("build 1432 <b>green</b>")  # escaped
        expect(card.locator(".source")).to_contain_text("ask@")
        expect(card.locator(".times")).to_have_text("asked just now · 9 min left")
        expect(page.locator("#approvals .count")).to_have_text("1")

        # A reason being typed survives a re-render of the region (a second question).
        reason = card.get_by_placeholder("Reason (optional)")
        reason.fill("not during the sale")
        second = httpx.post(url + "/api/v1/approvals", json={
            "title": "Rotate the TLS keys?", "source": "cron", "timeout_seconds": 300},
            timeout=5).json()["id"]
        expect(page.locator("#approvals .count")).to_have_text("2")
        expect(page.locator("#approvals li.approval").first).to_have_id(f"approval-{second}")
        expect(reason).to_have_value("not during the sale")

        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "approvals-1280x900.png", full_page=False)
        page.emulate_media(color_scheme="dark")
        # Pico fades form colours over 0.2 s: wait until the reason field is dark.
        page.wait_for_function("""() => {
            const [r, g, b] = getComputedStyle(document.querySelector('#approvals input'))
                .backgroundColor.match(/[\\d.]+/g).map(Number);
            return r + g + b < 200;
        }""", timeout=15_000)  # wide: CI saw 3 s run out on a loaded machine
        page.screenshot(path=ARTIFACTS / "approvals-dark-1280x900.png", full_page=False)
        page.emulate_media(color_scheme="light")

        card.get_by_role("button", name="Deny", exact=True).click()
        out, err = asker.communicate(timeout=20)
    finally:
        if asker.poll() is None:
            asker.kill()
            asker.wait(5)
        # Closed here too when a step above failed: an open pipe is a ResourceWarning, which
        # this suite turns into an error in whichever later test the collector runs in.
        asker.stdout.close()
        asker.stderr.close()
    assert asker.returncode == 1, (out, err)
    assert out.strip() == "denied by local: not during the sale"

    expect(other.locator(f"#approval-{asked['id']}")).to_have_count(0)
    expect(page.locator(f"#approval-{asked['id']}")).to_have_count(0)
    expect(other.locator(f"#approval-{second}")).to_be_visible()
    expect(other.locator("#events li").filter(
        has_text=f"Denied: {TITLE} (by local): not during the sale").first).to_be_visible()
    # It says who decided, for a while, on every page.
    expect(other.locator(f"#decided-{asked['id']}")).to_contain_text("denied by local")

    # Withdrawn by its program: it leaves the waiting list too.
    assert httpx.delete(f"{url}/api/v1/approvals/{second}", timeout=5).status_code == 200
    expect(other.locator("#approvals .count")).to_have_text("0")
    expect(other.locator(f"#decided-{second}")).to_contain_text("withdrawn by local")

    page.set_viewport_size({"width": 390, "height": 844})
    httpx.post(url + "/api/v1/approvals", json={"title": TITLE, "detail": "a phone"}, timeout=5)
    expect(page.locator("#approvals li.approval")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    buttons = page.locator("#approvals li.approval button")
    # Both buttons on one line under the reason field.
    assert buttons.nth(0).bounding_box()["y"] == buttons.nth(1).bounding_box()["y"]
    page.screenshot(path=ARTIFACTS / "approvals-390x844.png", full_page=False)
    assert page.problems == []
