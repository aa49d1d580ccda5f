"""/admin and /audit in a real headless Chromium: the local admin makes the first admin, who signs
in, adds a person and a key (each shown once), sees a refusal in place, and watches a new audit
entry arrive live at the top of /audit. Screenshots go to test-artifacts/."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ARTIFACTS
from tests.servers import Server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    store = tmp_path_factory.mktemp("admin") / "store.sqlite3"
    with Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{store}",
                              "DASHBOARD_SAMPLER": "0"}) as srv:
        yield srv


def test_an_admin_manages_people_and_keys_and_watches_the_audit_log(admin_server,
                                                                   watched: Page):
    url, page = admin_server.url, watched
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url + "/admin")
    expect(page.locator("#accounts .empty")).to_be_visible()

    # The local admin (no account yet) makes the first admin; the password shows once.
    accounts = page.locator("#accounts")
    accounts.locator("form.add input[name=name]").fill("ann")
    accounts.locator("form.add select[name=role]").select_option("admin")
    accounts.get_by_role("button", name="Add, with a generated password").click()
    expect(page.locator("#accounts .admin-notice")).to_contain_text("Account ann (admin) added")
    password = page.locator("#accounts .secret").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", password)

    # From now on the loopback rule is over: ann signs in.
    page.goto(url + "/login?next=/admin")
    page.get_by_label("Name").fill("ann")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(url + "/admin")
    expect(page.locator("header .whoami")).to_have_text("ann (admin)")
    expect(page.locator("body")).to_have_class("can-operate can-admin")

    accounts.locator("form.add input[name=name]").fill("bob")
    accounts.locator("form.add select[name=role]").select_option("operator")
    accounts.get_by_role("button", name="Add, with a generated password").click()
    expect(page.locator("#accounts .admin-notice")).to_contain_text("Account bob (operator)")
    expect(page.locator("#accounts tbody tr")).to_have_count(2)

    # A refusal lands in the region's error slot; the table stays.
    accounts.locator("form.add input[name=name]").fill("bob")
    accounts.get_by_role("button", name="Add, with a generated password").click()
    expect(page.locator("#accounts-error .error")).to_contain_text("exists already")
    expect(page.locator("#accounts tbody tr")).to_have_count(2)
    page.locator("#accounts tbody tr", has_text="ann").get_by_role("button",
                                                                  name="Disable").click()
    expect(page.locator("#accounts-error .error")).to_contain_text("last enabled admin")

    keys = page.locator("#keys")
    keys.locator("form.add input[name=name]").fill("deploy-bot")
    keys.get_by_label("ingest").check()
    keys.get_by_role("button", name="Add, and show the key once").click()
    expect(page.locator("#keys .admin-notice")).to_contain_text("Key deploy-bot (ingest, read)")
    key = page.locator("#keys .secret").inner_text()
    assert key.startswith("dk_")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "admin-1280x900.png", full_page=True)

    # The key works; once revoked it does not.
    bearer = {"Authorization": f"Bearer {key}"}
    assert httpx.post(url + "/api/v1/events", json={"message": "hi"}, headers=bearer,
                      timeout=5).status_code == 201
    page.locator("#keys tbody tr", has_text="deploy-bot").get_by_role("button",
                                                                     name="Revoke").click()
    expect(page.locator("#keys .state-revoked")).to_have_text("revoked")
    page.reload()
    expect(page.locator(".secret")).to_have_count(0)  # shown once, never again

    # The audit log, live: a failed sign-in elsewhere appears at the top.
    page.goto(url + "/audit")
    rows = page.locator("#audit-rows tbody tr")
    expect(rows.first).to_contain_text("key-revoke")
    page.wait_for_timeout(500)  # the stream is open
    assert httpx.post(url + "/login", data={"name": "mallory", "password": "guess-guess"},
                      timeout=5).status_code == 401
    expect(rows.first).to_contain_text("sign-in-failed")
    expect(rows.first).to_contain_text("mallory")
    page.screenshot(path=ARTIFACTS / "audit-1280x900.png", full_page=False)
    page.get_by_label("Action").select_option("account-add")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    # The two refusals above are the only errors the browser saw (it logs each 409 it got).
    assert [p for p in page.problems if "status of 409" not in p] == []
    assert len(page.problems) == 2
