"""The containers region and card in a real headless Chromium, read from a real engine (a
throw-away dockerd: ``tests.docker_engine``): running first by CPU with their figures, state and
health by word and colour, the sort-by-memory link; screenshots on desktop and phone, light and
dark (``test-artifacts/containers-*.png``). Skipped with the reason where no engine can run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import ARTIFACTS, screens, screenshot
from tests.docker_engine import IMAGE
from tests.servers import Server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]

HOST = "browser-host"
#: name -> (command, options): two running (one busy), one unhealthy, one done, one failed.
#: The busy one gets a fifth of a CPU: a figure to show, without taking a core from the tests
#: beside it for as long as the module runs.
CONTAINERS = {
    "web": ("exec sleep 100000", {}),
    "worker": ("yes > /dev/null", {"nano_cpus": 200_000_000}),
    "sick": ("exec sleep 100000", {"healthcheck": {"test": ["CMD", "false"],
                                                   "interval": 1_000_000_000, "retries": 1}}),
    "backup-job": ("exit 0", {}),
    "crasher": ("exit 3", {}),
}


@pytest.fixture(scope="module")
def dashboard(docker_engine, tmp_path_factory):
    client = docker_engine.client()
    for name, (command, options) in CONTAINERS.items():
        client.containers.run(IMAGE, ["sh", "-c", command], name=name, detach=True,
                              network_mode="none", mem_limit="256m", **options)
    store = tmp_path_factory.mktemp("containers-browser") / "store.sqlite3"
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{store}", "DOCKER_HOST": docker_engine.url,
           "DASHBOARD_HOST_NAME": HOST, "DASHBOARD_CONTAINER_INTERVAL": "2"}
    try:
        with Server(free_port(), env) as server:
            yield server
    finally:
        for container in client.containers.list(all=True):
            container.remove(force=True)
        client.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_containers_region_on_desktop_and_phone(dashboard, browser, scheme):
    for label, width, page in screens(browser, scheme):
        problems = []
        page.on("console", lambda m: m.type == "error" and problems.append(m.text))
        page.goto(f"{dashboard.url}/?host={HOST}")
        expect(page.locator("#badge")).to_have_text("LIVE")
        rows = page.locator("#containers tbody tr")
        expect(rows).to_have_count(5, timeout=20_000)
        # Figures come with the second reading after someone views the host.
        busy = page.locator('#containers tr[data-container="worker"]')
        expect(busy.locator("td").nth(4)).to_have_text(re.compile(r"^\d+\.\d$"), timeout=20_000)
        expect(page.locator('#containers tr[data-container="sick"]')).to_have_class(
            "level-critical", timeout=20_000)
        expect(page.locator('#containers tr[data-container="sick"] td').nth(1)).to_have_text(
            "unhealthy")
        expect(page.locator('#containers tr[data-container="crasher"]')).to_contain_text("(3)")
        expect(page.locator('#containers tr[data-container="backup-job"]')).to_have_class(
            "level-stale")
        # By the rows' own names (a row's text read while a reading swaps the table in has no
        # layout, so its name and image run together).
        names = rows.evaluate_all("rows => rows.map(row => row.dataset.container)")
        assert sorted(names[3:]) == ["backup-job", "crasher"]  # the stopped ones last
        assert names[0] == "worker"  # running first, by CPU
        card = page.locator("#container-counts")
        expect(card).to_contain_text("3 running")
        expect(card).to_contain_text("2 stopped · 1 unhealthy")
        expect(card.locator(".card")).to_have_class(re.compile(r"\blevel-critical\b"))
        ARTIFACTS.mkdir(exist_ok=True)
        screenshot(page.locator("#containers"), ARTIFACTS / f"containers-{label}-{scheme}.png")
        screenshot(page.locator("section.cards"),
                   ARTIFACTS / f"containers-card-{label}-{scheme}.png")
        if label == "phone":
            assert page.evaluate("document.documentElement.scrollWidth") <= width
        else:
            # The History panel's container charts, drawn at its next step.
            charts = page.locator("#charts")
            expect(charts).to_contain_text("Containers: CPU", timeout=20_000)
            expect(charts).to_contain_text("Containers: memory")
            screenshot(charts, ARTIFACTS / f"containers-charts-{label}-{scheme}.png")
            page.locator("#containers a", has_text="sort by memory").click()
            expect(page).to_have_url(re.compile(r"containers=memory"))
            expect(page.locator("#containers-memory tbody tr")).to_have_count(5)
        assert problems == [], problems
