"""Hosts compared and "Forget this host" in a real headless Chromium, with screenshots of the
compare view (desktop and phone, light and dark) and of the forget confirmation."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS, screens
from tests.servers import Server, free_port
from tests.system.test_forget_compare import push, sample

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """A gunicorn whose store holds 40 minutes of 12 agents' samples (host-N at about 5 N + 24 %
    CPU, with a gap in host-11's); its own sampler is off, so a busy test machine does not rank."""
    store = tmp_path_factory.mktemp("compare") / "store.sqlite3"
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{store}", "DASHBOARD_HOST_NAME": "home",
           "DASHBOARD_TIMEZONE": "UTC", "DASHBOARD_SAMPLER": "0"}
    with Server(free_port(), env) as srv:
        now = time.time()
        for n in range(12):
            push(srv.url, *(sample(f"host-{n:02d}", now - 2400 + 60 * i,
                                   5 * n + 15 + 6 * ((i + n) % 4))
                            for i in range(40) if not (n == 11 and 15 <= i < 22)))
        yield srv


def test_the_compare_view_draws_ten_hosts_with_a_legend_and_hover_values(fleet, watched: Page):
    page = watched
    page.goto(fleet.url + "/?host=host-05&range=1h")
    page.locator("#charts figure").first.locator("a.compare-link").click()
    expect(page).to_have_url(fleet.url + "/fleet/compare?metric=cpu_percent&range=1h")
    expect(page.locator("h2#compare-title")).to_have_text("CPU · last hour")
    expect(page.locator("#compare svg.plot path.line")).to_have_count(10)
    legend = page.locator("#compare ol.legend li a")
    expect(legend).to_have_count(10)
    expect(legend.first).to_have_text("host-11")
    expect(legend.last).to_have_text("host-02")
    # Ten distinct strokes (colour or dash), as the CSS draws them.
    styles = page.locator("#compare svg.plot path.line").evaluate_all(
        "els => els.map(e => getComputedStyle(e).stroke + ' ' + getComputedStyle(e).strokeDasharray)")
    assert len(set(styles)) == 10, styles
    title = page.locator("#compare svg.plot rect title").last.text_content()
    assert re.match(r"^\d\d:\d\d–\d\d:\d\d: host-11 \d+\.\d %; host-10 ", title), title
    label = page.locator("#compare svg.plot").get_attribute("aria-label")
    assert label.startswith("CPU of the 10 busiest hosts, last hour: latest busiest host-11")
    # Plain links switch metric and range.
    page.get_by_role("navigation", name="Metric").get_by_role("link", name="Memory", exact=True).click()
    expect(page).to_have_url(fleet.url + "/fleet/compare?metric=mem_percent&range=1h")
    page.locator('nav[aria-label="Time range"] a', has_text="6 h").click()
    expect(page).to_have_url(fleet.url + "/fleet/compare?metric=mem_percent&range=6h")
    expect(page.locator("h2#compare-title")).to_have_text("Memory · last 6 hours")
    # Live: the chart asks again every 5 s by itself (htmx polling, no script of ours).
    page.goto(fleet.url + "/fleet/compare?metric=cpu_percent&range=live")
    with page.expect_response(lambda r: "/fleet/compare/chart?metric=cpu_percent&range=live"
                              in r.url, timeout=15_000) as polled:
        pass
    assert polled.value.status in (200, 304)
    expect(page.locator("#compare svg.plot path.line")).to_have_count(10)
    assert page.problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_compare_screenshots(fleet, browser, scheme):
    for label, width, page in screens(browser, scheme):
        page.goto(fleet.url + "/fleet/compare?metric=cpu_percent&range=1h")
        expect(page.locator("#compare svg.plot path.line")).to_have_count(10)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=ARTIFACTS / f"compare-{label}-{scheme}.png", full_page=True)


def test_forget_this_host_asks_then_forgets(fleet, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    push(fleet.url, sample("old-box", time.time(), 3.0))
    page.goto(fleet.url + "/?host=old-box")
    expect(page.locator("#badge")).to_have_text("LIVE")
    button = page.get_by_role("button", name="Forget old-box")
    expect(button).to_be_hidden()  # behind the <details>: the first click only asks
    page.get_by_text("Forget this host…").click()
    expect(button).to_be_visible()
    page.locator("#forget").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / "forget-confirm.png")
    button.click()
    expect(page).to_have_url(fleet.url + "/?forgotten=old-box")
    expect(page.locator(".notice")).to_have_text(
        "old-box was forgotten: its card, sample and history are gone.")
    expect(page.locator("#fleet a", has_text="old-box")).to_have_count(0)
    page.screenshot(path=ARTIFACTS / "forget-done.png")
    # Its page, still kept by this process, says so; a page never opened is a 404.
    assert "old-box was forgotten." in httpx.get(fleet.url + "/?host=old-box").text
    assert httpx.get(fleet.url + "/?host=old-box&range=7d").status_code == 404
    context.close()
