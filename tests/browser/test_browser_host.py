"""Inside the host in a real headless Chromium, on the simulated host (so on any machine): a
core's bar, a disk row, an interface row, a sensor, the process table and its sort link, in the
desktop and the phone layout, light and dark."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_inside_the_simulated_host(server, watched: Page):
    page = watched
    assert httpx.post(server.url + "/simulator/host", json={"enabled": True}).status_code == 200
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(server.url + "/")
    expect(page.locator("#badge")).to_have_text("LIVE")

    # The simulated host has 8 cores, two file systems, two interfaces and five sensors.
    expect(page.locator("#cpu-detail .cores i")).to_have_count(8)
    expect(page.locator("#cpu-detail .cores")).to_have_attribute(
        "aria-label", re.compile(r"^Busy per logical CPU, %: (\d+ ){7}\d+$"))
    expect(page.locator("#cpu-detail .cores i").first).to_be_visible()
    expect(page.locator("#cpu-modes svg.modes rect.user")).to_have_count(1)
    expect(page.locator("#cpu-modes .legend")).to_contain_text(re.compile(r"user \d+ %"))
    expect(page.locator("#memory-detail .swap")).to_contain_text(re.compile(r"\d+ % [\d.]+ MiB of 4\.0 GiB"))
    var = page.locator('#disks tr[data-mount="/var"]')
    expect(var).to_contain_text("/dev/sda1 · xfs")
    expect(var.locator("meter")).to_have_count(1)
    expect(var.locator("td").nth(1)).to_contain_text("B/s")  # its disk's read rate
    expect(page.locator('#interfaces tr[data-interface="eth0"]')).to_contain_text("up")
    expect(page.locator("#sensors li", has_text="coretemp Core 0")).to_contain_text(
        re.compile(r"\d+ °C"))

    # The process table comes once someone views the host (this page): the first scan within
    # a few seconds.
    rows = page.locator("#processes tbody tr")
    expect(rows).to_have_count(15, timeout=15000)
    expect(page.locator("#processes thead")).not_to_contain_text("Command")  # hidden by default
    cpu = [float(t) for t in page.locator("#processes tbody td:nth-child(4)").all_inner_texts()]
    assert cpu == sorted(cpu, reverse=True)
    page.screenshot(path=ARTIFACTS / "host-1280x800.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=ARTIFACTS / "host-dark-1280x800.png", full_page=True)
    page.emulate_media(color_scheme="light")

    # The sort link is a plain link; the table sorted by memory keeps itself current by polling.
    page.locator("#processes a", has_text="sort by memory").click()
    expect(page).to_have_url(re.compile(r"sort=mem"))
    expect(page.locator("#processes-mem tbody tr")).to_have_count(15)
    rss = page.locator("#processes-mem tbody td:nth-child(6)").all_inner_texts()
    assert rss[0].endswith("GiB")  # the simulated java process holds about 2 GiB
    expect(page.locator("#processes-mem a", has_text="sort by CPU")).to_be_visible()
    first = page.locator("#processes-mem time").inner_text()
    expect(page.locator("#processes-mem time")).not_to_have_text(first, timeout=15000)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/")
    expect(page.locator("#processes tbody tr")).to_have_count(15, timeout=15000)
    expect(page.locator("#disks tbody tr")).to_have_count(2)
    page.screenshot(path=ARTIFACTS / "host-390x844.png", full_page=True)
    page.emulate_media(color_scheme="dark")
    page.screenshot(path=ARTIFACTS / "host-dark-390x844.png", full_page=True)
    # Nothing wider than the phone's screen but the tables' own scrolling boxes.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.problems == []
