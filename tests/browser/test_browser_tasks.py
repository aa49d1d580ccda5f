"""The tasks region and the simulator panel in a real headless Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect


pytestmark = pytest.mark.browser


def test_task_run_button_shows_a_bar_moving_to_success(server, watched: Page):  # noqa: F811
    page = watched
    page.goto(server.url + "/")
    expect(page.locator("#badge")).to_have_text("LIVE")
    tasks_before = page.locator("#tasks li.task").count()

    page.locator("#simulator button", has_text="Task run").click()

    task = page.locator("#tasks li.task").first
    # Expectations wait up to 15 s (tests/conftest.py): a CI run once took over 3 s, as its
    # browsers and servers started, to show the task's first step.
    expect(task).to_have_attribute("data-task", re.compile(r"^sim-task-\d+$"))
    expect(task.locator(".state-word")).to_have_text("running")
    bar = task.locator("progress")
    expect(bar).to_have_attribute("max", "100")
    expect(task.locator(".percent")).not_to_have_text("0 %")
    moving = float(bar.get_attribute("value"))
    assert 0 < moving < 100
    expect(task.locator(".state-word")).to_have_text("succeeded", timeout=30_000)
    expect(bar).to_have_attribute("value", "100.0")
    expect(task.locator(".percent")).to_have_text("100 %")
    expect(task).to_have_class(re.compile(r"\bstate-succeeded\b"))
    assert page.locator("#tasks li.task").count() == tasks_before + 1
    expect(page.locator("#tasks .succeeded")).not_to_have_text("0")
    assert page.problems == []
