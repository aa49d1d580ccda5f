"""Single sign-on against a real OpenID Connect provider (``tests/oidc_provider.py``, pyop in
its own process): the dashboard runs in this process, reached through httpx's WSGI transport,
so one httpx client follows the redirects between the two as a browser would."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from app.domain import accounts
from tests.oidc_provider import ALICE, Provider
from tests.servers import ROOT, free_port

DASHBOARD = "http://dashboard.localhost"
CALLBACK = DASHBOARD + "/login/oidc/callback"
CLIENT_ID, SECRET = "dashboard", "client-secret-for-tests"


@pytest.fixture(scope="module")
def provider():
    with Provider(free_port(), CLIENT_ID, SECRET, [CALLBACK]) as running:
        yield running


@pytest.fixture
def oidc_app(make_app, provider):
    provider.setup(mode="ok", user=ALICE)
    return make_app(OIDC_ISSUER=provider.url, OIDC_CLIENT_ID=CLIENT_ID, OIDC_CLIENT_SECRET=SECRET,
                    OIDC_ROLES={"ops": "operator", "sre": "admin"}, SECRET_KEY="k" * 32)


@pytest.fixture
def browser(oidc_app):
    """An httpx client that reaches the dashboard in-process and the provider over TCP."""
    with httpx.Client(mounts={DASHBOARD: httpx.WSGITransport(app=oidc_app)},
                      headers={"Accept": "text/html"}, timeout=10) as client:
        yield client


def store(app):
    return app.extensions["dashboard"].store


def audit(app, action):
    return store(app).audit_query(action=action)


def to_callback(browser, next_path="/"):
    """Start a sign-in and follow it to the provider's redirect back: the callback's URL."""
    started = browser.get(DASHBOARD + "/login/oidc", params={"next": next_path})
    assert started.status_code == 303
    back = browser.get(started.headers["Location"])
    assert back.status_code == 303 and back.headers["Location"].startswith(CALLBACK)
    return back.headers["Location"]


def test_a_sign_in_creates_the_account_with_the_mapped_role_and_opens_a_session(
        oidc_app, browser, provider):
    done = browser.get(DASHBOARD + "/login/oidc", params={"next": "/?transport=poll"},
                       follow_redirects=True)
    assert done.status_code == 200 and done.url == DASHBOARD + "/?transport=poll"
    assert 'name="password"' not in done.text  # the page itself, not the sign-in form
    account = accounts.get(store(oidc_app), "alice")
    assert (account["role"], account["source"], account["disabled"]) == ("operator", "oidc", False)
    # What the dashboard asked the provider for: code flow, PKCE S256, a state and a nonce.
    asked = parse_qs(provider.last_request())
    assert asked["response_type"] == ["code"] and asked["code_challenge_method"] == ["S256"]
    assert asked["code_challenge"][0] and asked["state"][0] and asked["nonce"][0]
    assert asked["redirect_uri"] == [CALLBACK]
    # The session works on its own, and the state cookie is gone.
    assert browser.get(DASHBOARD + "/").status_code == 200
    assert "dashboard_oidc" not in browser.cookies
    signed = audit(oidc_app, "sign-in")[0]
    assert (signed["who"], signed["detail"]) == ("alice", {"with": "oidc"})
    # An operator may act from the dashboard's pages: past the access check, to the 404.
    acked = browser.post(DASHBOARD + "/ui/alerts/nothing/ack", headers={"Origin": DASHBOARD})
    assert acked.status_code == 404


def test_the_next_sign_in_follows_a_changed_group_mapping(oidc_app, browser, provider):
    browser.get(DASHBOARD + "/login/oidc", follow_redirects=True)
    provider.setup(user={**ALICE, "groups": ["sre"]})
    browser.cookies.clear()
    done = browser.get(DASHBOARD + "/login/oidc", follow_redirects=True)
    assert done.status_code == 200
    assert accounts.get(store(oidc_app), "alice")["role"] == "admin"


@pytest.mark.parametrize(("claims", "name"), [
    ({"sub": "s-1", "email": "bob@example.test", "groups": "ops"}, "bob@example.test"),
    ({"sub": "carol-7"}, "carol-7"),
])
def test_the_name_falls_back_to_email_then_sub(oidc_app, browser, provider, claims, name):
    provider.setup(user=claims)
    assert browser.get(DASHBOARD + "/login/oidc", follow_redirects=True).status_code == 200
    assert accounts.get(store(oidc_app), name)["role"] == ("operator" if "groups" in claims
                                                           else "viewer")


def refused(oidc_app, browser, response, status, why):
    assert response.status_code == status, response.text
    assert 'name="password"' in response.text  # the sign-in page again
    assert browser.get(DASHBOARD + "/", follow_redirects=False).status_code == 303
    failure = audit(oidc_app, "sign-in-failed")[0]
    assert failure["detail"]["with"] == "oidc" and why in failure["detail"]["why"]
    assert failure["who"] == "anonymous"
    return failure


def test_a_tampered_state_is_refused(oidc_app, browser):
    url = to_callback(browser)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = "forged-" + query["state"]
    response = browser.get(f"{CALLBACK}?{urlencode(query)}")
    refused(oidc_app, browser, response, 400, "state")
    assert "not started here" in response.text
    assert accounts.get(store(oidc_app), "alice") is None


def test_a_callback_this_browser_did_not_start_is_refused(oidc_app, browser):
    url = to_callback(browser)
    browser.cookies.clear()  # an attacker's code and state, sent to a victim's browser
    refused(oidc_app, browser, browser.get(url), 400, "state")


@pytest.mark.parametrize(("mode", "why"), [
    ("wrong-nonce", "nonce"), ("other-key", "bad_signature"), ("deny", "access_denied"),
])
def test_an_answer_that_fails_verification_is_refused(oidc_app, browser, provider, mode, why):
    provider.setup(mode=mode)
    response = browser.get(DASHBOARD + "/login/oidc", follow_redirects=True)
    failure = refused(oidc_app, browser, response, 401, why)
    assert failure["target"] is None
    assert accounts.get(store(oidc_app), "alice") is None
    assert "dashboard_oidc" not in browser.cookies


def test_a_disabled_account_is_refused(oidc_app, browser):
    accounts.add(store(oidc_app), "alice", "viewer", None, source="oidc")
    accounts.set_disabled(store(oidc_app), "alice", True)
    response = browser.get(DASHBOARD + "/login/oidc", follow_redirects=True)
    assert refused(oidc_app, browser, response, 403, "disabled")["target"] == "alice"
    assert "disabled" in response.text


def test_an_account_with_a_password_here_is_not_taken_over(oidc_app, browser):
    accounts.add(store(oidc_app), "alice", "admin", "a-long-password-here")
    response = browser.get(DASHBOARD + "/login/oidc", follow_redirects=True)
    refused(oidc_app, browser, response, 403, "local account")


@pytest.mark.parametrize("wanted", ["//evil.example/", "https://evil.example/", "/\\evil.example",
                                    "/\t/evil.example"])
def test_next_is_a_path_here_only(browser, wanted):
    done = browser.get(DASHBOARD + "/login/oidc", params={"next": wanted}, follow_redirects=True)
    assert done.status_code == 200 and done.url == DASHBOARD + "/"


def test_a_callback_reached_from_another_site_moves_on_by_itself(browser):
    url = to_callback(browser, "/?transport=poll")
    done = browser.get(url, headers={"Sec-Fetch-Site": "cross-site"})
    assert done.status_code == 200
    assert '<meta http-equiv="refresh" content="0; url=/?transport=poll">' in done.text
    assert browser.get(DASHBOARD + "/").status_code == 200


def test_authlib_is_imported_only_with_single_sign_on(tmp_path):
    code = ("import sys; from app import create_app; create_app({'STORE_URL': "
            f"'sqlite:///{tmp_path}/s.sqlite3', 'SAMPLER': False}}); "
            "print('authlib' in ' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "False"
