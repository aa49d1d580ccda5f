"""Single sign-on in a real browser (Debian's Chromium), with the provider on another site
than the dashboard (``localhost`` against ``127.0.0.1``), as a real provider is: the
provider's redirect back is a cross-site navigation, which carries the Lax state cookie but
not the Strict session cookie (why ``app.web.oidc`` keeps its state apart and moves on with a
meta refresh)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.oidc_provider import Provider
from tests.servers import Server, free_port

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def signed_on(tmp_path_factory):
    """gunicorn at 127.0.0.1 with single sign-on at a provider at ``localhost``."""
    port = free_port()
    dashboard = f"http://127.0.0.1:{port}"
    with Provider(free_port(), "dashboard", "browser-secret",
                  [dashboard + "/login/oidc/callback"], host="localhost") as provider:
        store = tmp_path_factory.mktemp("sso") / "store.sqlite3"
        env = {"DASHBOARD_STORE_URL": f"sqlite:///{store}", "DASHBOARD_OIDC_ISSUER": provider.url,
               "DASHBOARD_OIDC_CLIENT_ID": "dashboard",
               "DASHBOARD_OIDC_CLIENT_SECRET": "browser-secret",
               "DASHBOARD_OIDC_ROLES": '{"ops": "operator"}', "DASHBOARD_SECRET_KEY": "b" * 32}
        with Server(port, env) as server:
            yield server


def test_single_sign_on_from_another_site_lands_signed_in(signed_on, watched: Page):
    page = watched
    page.goto(signed_on.url + "/login?next=/%3Ftransport%3Dpoll")
    page.get_by_role("button", name="Sign in with single sign-on").click()
    page.wait_for_url(signed_on.url + "/?transport=poll")
    expect(page.locator("#badge")).to_have_text("POLLING")  # the page itself, not /login
    page.reload()  # the session cookie works on its own
    expect(page.locator("#badge")).to_have_text("POLLING")
    assert page.problems == []
