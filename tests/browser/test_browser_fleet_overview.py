"""The fleet row and the fleet page in a real headless Chromium, with three hosts on one Redis:
two dashboards (each samples itself) and an agent whose samples the test posts."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS
from tests.servers import Server, free_port
from tests.web.test_api_samples import agent_sample

pytestmark = [pytest.mark.browser, pytest.mark.server]

#: Bounds no real figure of this machine reaches (a busy one's CPU may read 100 %), so that only
#: the agent's posted temperature makes a host critical, whatever else runs here; these
#: machines have no temperature sensor.
THRESHOLDS = {"cpu_percent": [101, 102], "mem_percent": [101, 102], "disk_percent": [101, 102],
              "swap_percent": [101, 102], "load_per_cpu": [1000, 2000],
              "temperature": [80, 90]}
AGENT = "zz-agent"  # last by name, first by level


@pytest.fixture
def fleet_of_three(redis_url):
    env = {"DASHBOARD_STORE_URL": redis_url, "DASHBOARD_STALE_AFTER": "600",
           "DASHBOARD_THRESHOLDS": json.dumps(THRESHOLDS), "DASHBOARD_ALERT_RULES": "[]"}
    with Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-a"}) as a, \
            Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-b"}) as b:
        now = time.time()
        # Ten minutes of the agent's CPU climbing to 99.7 %: its trend has a line to draw.
        samples = [agent_sample(AGENT, ts=now - 540 + 60 * n, cpu_percent=10.0 + 9.97 * n,
                                temperature=95.0) for n in range(10)]
        response = httpx.post(b.url + "/api/v1/samples", json={"samples": samples})
        assert response.status_code == 202
        yield a


def boxes(page: Page) -> list[dict]:
    """Each card's box; asked again while a card is being swapped (an out-of-band swap between
    listing the cards and measuring one leaves that one without a box for a moment)."""
    deadline = time.monotonic() + 10
    while True:
        found = [card.bounding_box() for card in page.locator("#fleet li").all()]
        if None not in found:
            return found
        assert time.monotonic() < deadline, "a fleet card stayed without a box"
        page.wait_for_timeout(50)


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_row_is_a_grid_ordered_by_level_that_links_to_the_fleet_page(fleet_of_three,
                                                                          watched: Page):
    page = watched
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(fleet_of_three.url + "/")
    expect(page.locator("#badge")).to_have_text("LIVE")
    names = page.locator("#fleet li .name")
    expect(names).to_have_text([AGENT, "host-a", "host-b"])  # by level, then name
    expect(page.locator("#fleet li").first).to_have_class("host level-critical")
    expect(page.locator("#fleet li.level-ok")).to_have_count(2)
    # The trend, drawn at the tailer's next sweep after the agent joined the row.
    expect(page.locator(f"#ft-{AGENT} path")).to_have_count(1)
    expect(page.locator(f"#fc-{AGENT} .cpu")).to_have_text("CPU 100 %")
    # A new sample that moves only the agent's CPU: its card's CPU part alone is swapped in.
    response = httpx.post(fleet_of_three.url + "/api/v1/samples", json={"samples": [
        agent_sample(AGENT, ts=time.time(), cpu_percent=50.0, temperature=95.0)]})
    assert response.status_code == 202
    expect(page.locator(f"#fc-{AGENT} .cpu")).to_have_text("CPU 50 %")
    expect(page.locator(f"#fc-{AGENT}")).to_have_count(1)
    expect(page.locator("#fleet li")).to_have_count(3)

    # 1280 px: side by side in one row, the heading above them, nothing wider than the window.
    first, second, third = boxes(page)
    assert abs(first["y"] - second["y"]) < 1 and abs(second["y"] - third["y"]) < 1
    assert first["x"] < second["x"] < third["x"]
    assert page.locator("#fleet h2").bounding_box()["y"] < first["y"]
    assert no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "fleet-row-1280.png")

    page.set_viewport_size({"width": 1400, "height": 900})
    first, second, third = boxes(page)
    assert first["y"] == second["y"] == third["y"] and no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "fleet-row-1400.png")

    # A phone: one column, full width, in the same order.
    page.set_viewport_size({"width": 390, "height": 844})
    first, second, third = boxes(page)
    assert abs(first["x"] - second["x"]) < 1 and abs(second["x"] - third["x"]) < 1
    assert first["y"] + first["height"] <= second["y"] and second["y"] + second["height"] <= third["y"]
    assert no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "fleet-row-390.png", full_page=True)

    # The link to every host: the fleet page, live too.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="all 3 hosts").click()
    expect(page).to_have_url(fleet_of_three.url + "/fleet")
    expect(page.locator("#badge")).to_have_text("LIVE")
    expect(page.locator("#fleet-table tbody tr td:first-child")).to_have_text(
        [AGENT, "host-a", "host-b"])
    expect(page.locator("#fleet-summary")).to_contain_text("1 critical 0 warning 0 stale 2 ok")
    page.screenshot(path=ARTIFACTS / "fleet-page-1280.png", full_page=True)
    page.get_by_role("link", name="Host", exact=True).click()
    expect(page).to_have_url(fleet_of_three.url + "/fleet?sort=name")
    expect(page.locator("#fleet-table tbody tr td:first-child")).to_have_text(
        ["host-a", "host-b", AGENT])
    page.get_by_label("Host name starts with").fill("host-")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(fleet_of_three.url + "/fleet?sort=name&q=host-")
    expect(page.locator("#fleet-table tbody tr td:first-child")).to_have_text(["host-a", "host-b"])
    expect(page.locator("#badge")).to_have_text("LIVE")
    page.set_viewport_size({"width": 390, "height": 844})
    assert no_horizontal_scroll(page)
    page.screenshot(path=ARTIFACTS / "fleet-page-390.png", full_page=True)
    assert page.problems == []
