"""The fleet row in a real headless Chromium: it appears by itself, and its links switch host."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web.test_api_samples import agent_sample

pytestmark = pytest.mark.browser


def test_the_fleet_row_appears_with_a_second_host_and_its_link_switches_host(server,
                                                                             watched: Page):
    page = watched
    page.goto(server.url + "/")
    expect(page.locator("#badge")).to_have_text("LIVE")
    expect(page.locator("#fleet")).to_be_hidden()  # one host: nothing to switch to

    response = httpx.post(server.url + "/api/v1/samples",
                          json={"samples": [agent_sample("box-7", cpu_percent=42.0)]})
    assert response.status_code == 202
    link = page.locator("#fleet a", has_text="box-7")
    expect(link).to_be_visible()  # swapped in over the stream, no reload
    expect(page.locator('#fleet a[aria-current="page"]')).not_to_have_text(re.compile("box-7"))

    link.click()
    expect(page).to_have_url(server.url + "/?host=box-7")
    expect(page.locator("h1")).to_have_text("box-7")
    expect(page.locator("#cpu .number")).to_have_text("42.0")
    expect(page.locator("#badge")).to_have_text("LIVE")  # /stream?host=box-7
    expect(page.locator('#fleet a[aria-current="page"]')).to_contain_text("box-7")
    assert page.problems == []
