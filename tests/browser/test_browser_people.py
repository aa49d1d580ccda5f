"""Three people in three browsers on one real gunicorn: a viewer sees no buttons and its forged
post is refused, an operator's approval shows "approved by" on the other two pages within a
second, and an admin disables the operator, whose open page is signed out within two."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from app.domain import accounts
from app.domain import apikeys
from app.store import open_store
from tests.conftest import ARTIFACTS
from tests.servers import Server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]

PASSWORD = "correct-horse-battery"
PEOPLE = {"vera": "viewer", "otto": "operator", "ada": "admin"}


@pytest.fixture(scope="module")
def people_server(tmp_path_factory):
    """gunicorn on a store that already holds the three people and a key that may ask."""
    url = f"sqlite:///{tmp_path_factory.mktemp('people') / 'store.sqlite3'}"
    store = open_store(url, log_size=10_000, poll_interval=0.1)
    for name, role in PEOPLE.items():
        accounts.add(store, name, role, PASSWORD)
    _, key = apikeys.add_key(store, "deploy-bot", ["ask"], by="test")
    store.close()
    with Server(free_port(), {"DASHBOARD_STORE_URL": url, "DASHBOARD_SECRET_KEY": "k" * 32}) as srv:
        srv.key = key
        yield srv


def signed_in(browser, url: str, name: str):
    """A page of its own browser context, signed in as ``name`` on the live page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url + "/login")
    page.locator("#name").fill(name)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#badge")).to_have_text("LIVE")
    return page


def test_three_people_each_with_the_rights_of_their_role(people_server, browser):
    url = people_server.url
    asked = httpx.post(url + "/api/v1/approvals", json={"title": "Deploy v3 to production?"},
                       headers={"Authorization": f"Bearer {people_server.key}"}, timeout=5)
    assert asked.status_code == 201, asked.text
    approval_id = asked.json()["id"]
    viewer, operator, admin = (signed_in(browser, url, name) for name in PEOPLE)
    pages = (viewer, operator, admin)
    for page in pages:
        expect(page.locator(f"#approval-{approval_id}")).to_be_visible()
        expect(page.locator(f"#approval-{approval_id} .asked-by")).to_contain_text(
            "key:deploy-bot")

    # The viewer sees the question but no buttons; a post forged from its page is refused.
    expect(viewer.locator(f"#approval-{approval_id} form.answer")).to_be_hidden()
    expect(operator.locator(f"#approval-{approval_id} form.answer")).to_be_visible()
    forged = viewer.evaluate("""async (id) => (await fetch(`/ui/approvals/${id}/response`, {
        method: "POST", body: new URLSearchParams({decision: "approve"})})).status""",
                             approval_id)
    assert forged == 403
    # Only the admin has the admin and audit links.
    expect(admin.get_by_role("link", name="Admin")).to_be_visible()
    expect(admin.get_by_role("link", name="Audit")).to_be_visible()
    for page in (viewer, operator):
        expect(page.get_by_role("link", name="Admin")).to_have_count(0)

    # The operator approves: both other pages say who. Within 5 s here, not the 1 s a quiet
    # machine shows: the suite runs four browser tests on two cores (CI missed 1 s once).
    operator.locator(f"#approval-{approval_id}").get_by_role(
        "button", name="Approve", exact=True).click()
    for page in (viewer, admin):
        expect(page.locator(f"#decided-{approval_id}")).to_contain_text("approved by otto",
                                                                       timeout=5000)
    ARTIFACTS.mkdir(exist_ok=True)
    viewer.screenshot(path=ARTIFACTS / "people-viewer-1280x900.png")
    operator.screenshot(path=ARTIFACTS / "people-operator-1280x900.png")

    # The admin disables the operator on the admin page: the operator's open page is signed
    # out within two seconds (its stream ends, the reconnect is refused, the page goes to the
    # sign-in form).
    admin.goto(url + "/admin")
    row = admin.locator("tr.account", has_text="otto")
    row.get_by_role("button", name="Disable", exact=True).click()
    expect(operator).to_have_url(re.compile(r"/login"))
    expect(row).to_contain_text("disabled")
    expect(operator.locator("#name")).to_be_visible()
    admin.screenshot(path=ARTIFACTS / "people-admin-1280x900.png")
    # The viewer's page stays live.
    expect(viewer.locator("#badge")).to_have_text("LIVE")
    for page in pages:
        page.context.close()
