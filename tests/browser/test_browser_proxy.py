"""The page behind a real nginx (Debian's): a proxy that holds the stream's bytes makes it fall
back to polling; behind the manual's block it stays LIVE."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS, simulate_host
from tests.nginx import HOLDING_BLOCK, MANUAL_BLOCK, Nginx
from tests.servers import free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]

FIGURE = re.compile(r"^\d+\.\d$")


@pytest.fixture(scope="module", autouse=True)
def moving_figures(server):
    """The tests wait for the CPU figure to change (:func:`tests.conftest.simulate_host`)."""
    simulate_host(server.url)


def test_a_proxy_that_holds_the_stream_falls_back_to_polling_within_5_s(server, watched: Page,
                                                                         tmp_path):
    page = watched
    with Nginx(free_port(), server.port, HOLDING_BLOCK, tmp_path / "nginx") as proxy:
        page.goto(proxy.url + "/")
        loaded = time.monotonic()
        first = page.locator("#cpu .number").inner_text()
        expect(page.locator("#badge")).to_have_text("POLLING")
        expect(page.locator("#cpu .number")).not_to_have_text(first)
        assert time.monotonic() - loaded < 5 + 1  # the two waits overlap; 1 s for the checks
        expect(page.locator("#cpu .number")).to_have_text(FIGURE)
        changes_again = page.locator("#cpu .number").inner_text()
        expect(page.locator("#cpu .number")).not_to_have_text(changes_again)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "behind-a-holding-proxy.png"))
    assert page.problems == []


def test_behind_the_readme_block_the_page_stays_live(server, watched: Page, tmp_path):
    page = watched
    with Nginx(free_port(), server.port, MANUAL_BLOCK, tmp_path / "nginx") as proxy:
        page.goto(proxy.url + "/")
        expect(page.locator("#badge")).to_have_text("LIVE")
        before = page.locator("#cpu .number").inner_text()
        expect(page.locator("#cpu .number")).not_to_have_text(before)
        page.wait_for_timeout(6000)  # past the CONNECTING fallback's 3 s: nothing swaps LIVE out
        assert page.locator("#badge").inner_text() == "LIVE"
    assert page.problems == []
