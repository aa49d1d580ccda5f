"""The chart panel in a real Chromium, on a gunicorn whose store ``flask history-fill`` filled with
a week of history: each range page's axes, tick labels, hover titles, current range link, the
figures still changing every second; screenshots of the desktop and phone layouts, light and dark."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS, screens, simulate_host
from tests.servers import ROOT, Server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]

HOST = "chart-host"


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A gunicorn (1 Hz sampler) whose store holds a week of made-up history of its host."""
    store = tmp_path_factory.mktemp("charts") / "store.sqlite3"
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{store}", "DASHBOARD_HOST_NAME": HOST,
           "DASHBOARD_TIMEZONE": "Europe/Paris", "DASHBOARD_SIMULATOR": "1"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "history-fill", "--days", "7"],
                   cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True,
                   timeout=300)
    with Server(free_port(), env) as srv:
        simulate_host(srv.url)  # the figures must move each second (tests.conftest)
        yield srv


def changes(page: Page, selector: str, timeout_ms: int) -> None:
    before = page.locator(selector).inner_text()
    expect(page.locator(selector)).not_to_have_text(before, timeout=timeout_ms)


@pytest.mark.parametrize(("name", "link", "tick"), [
    ("live", "live", r"^\d\d:\d\d$"),
    ("1h", "1 h", r"^\d\d:\d\d$"),
    ("24h", "24 h", r"^\d\d:\d\d$"),
    ("7d", "7 d", r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d$"),
])
def test_each_range_shows_charts_with_axes_and_hover_values(filled, watched: Page, name, link, tick):
    page = watched
    page.goto(filled.url + ("/" if name == "live" else f"/?range={name}"))
    expect(page.locator("#badge")).to_have_text("LIVE")
    current = page.locator('#charts nav a[aria-current="page"]')
    expect(current).to_have_text(link)
    expect(current).to_have_attribute("href", re.compile(
        rf"^/\?host={HOST}" + ("$" if name == "live" else rf"&range={name}$")))
    cpu = page.locator("#charts figure").first
    expect(cpu.locator("figcaption")).to_have_text("CPU")
    # Axes: the value labels with their unit, the time ticks in the zone's local time.
    values = cpu.locator("svg.frame text.v")
    expect(values.first).to_have_text("0 %")
    expect(values.last).to_have_text("100 %")
    ticks = cpu.locator("svg.frame text.t").all_text_contents()
    assert len(ticks) >= 4 and all(re.match(tick, t) for t in ticks), ticks
    expect(page.locator("#charts .zone")).to_contain_text("times in CET")
    # A line drawn, and the aria-label saying what it shows.
    expect(cpu.locator("svg.plot path.line")).to_have_count(1)
    expect(cpu.locator("svg.plot")).to_have_attribute(
        "aria-label", re.compile(r"^CPU, last .+: latest \d+\.\d %; min \d+\.\d %, max \d+\.\d %$"))
    if name != "live":
        expect(cpu.locator("svg.plot path.band")).to_have_count(1)
    # Hover: the rect under the pointer has a title with a time and a value.
    rect = cpu.locator("rect").last
    expect(rect).to_have_count(1)
    rect.hover()
    # Title and size read from one element at once: the live chart is swapped every second,
    # and an element read after a swap has no box (CI failed on it once).
    title, width, height = rect.evaluate("""r => [r.querySelector("title").textContent,
        r.getBoundingClientRect().width, r.getBoundingClientRect().height]""")
    # A bucket that crosses midnight names the end's day too ("23:00–Thu 03 Dec 01:00").
    assert re.search(r"\d\d:\d\d–((\w{3} \d\d \w{3} )?\d\d:\d\d|now): \d+\.\d %", title), title
    assert width > 0 and height > 50  # the CSS gave it its height
    # The network chart has two series and a legend.
    network = page.locator("#charts figure", has_text="Network")
    expect(network.locator("svg.frame text.k")).to_have_text(["received", "sent"])
    # The figures still change every second on every range.
    changes(page, "#cpu .number", timeout_ms=5000)
    assert page.problems == []


def test_the_live_plots_are_swapped_in_and_render_as_svg(filled, watched: Page):
    """The stream's plots region replaces each plot's div; its <svg> must come out an SVG
    element (an SVG child swapped alone would land in the HTML namespace and draw nothing)."""
    page = watched
    page.goto(filled.url + "/")
    expect(page.locator("#badge")).to_have_text("LIVE")
    plot = page.locator("#plot-cpu svg")
    page.evaluate("document.querySelector('#plot-cpu').dataset.old = '1'")
    expect(page.locator("#plot-cpu:not([data-old])")).to_have_count(1)
    assert plot.evaluate("e => e.namespaceURI") == "http://www.w3.org/2000/svg"
    path = page.locator("#plot-cpu path.line")
    box = path.bounding_box()
    assert box and box["width"] > 5 and box["height"] > 0  # drawn as SVG, with a size
    assert page.problems == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_desktop_and_phone(filled, browser, scheme):
    for label, _width, page in screens(browser, scheme):
        for name in ("live", "24h"):
            page.goto(filled.url + ("/" if name == "live" else f"/?range={name}"))
            expect(page.locator("#badge")).to_have_text("LIVE")
            expect(page.locator("#plot-cpu path.line")).to_have_count(1)
            page.screenshot(path=ARTIFACTS / f"charts-{name}-{label}-{scheme}.png", full_page=True)
