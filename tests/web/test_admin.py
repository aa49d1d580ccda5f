"""/admin: people and API keys, for admins only; each change audited, secrets shown once; the
last enabled admin kept; the pages show each role its links and buttons."""

import logging
import re

import pytest

from app.domain import accounts
from app.domain import apikeys
from tests.web.test_poll import settle

ORIGIN = {"Origin": "http://localhost"}
HTMX = {**ORIGIN, "HX-Request": "true"}
PASSWORD = "password-123456"
SECRET = re.compile(r'<code class="secret">([^<]+)</code>')


def sign_in(app, name, role="admin"):
    """A client signed in as ``name`` (made with ``role`` if new)."""
    store = app.extensions["dashboard"].store
    if accounts.get(store, name) is None:
        accounts.add(store, name, role, PASSWORD)
    client = app.test_client()
    response = client.post("/login", data={"name": name, "password": PASSWORD})
    assert response.status_code == 303, response.data
    return client


def entries(live, action):
    return live.store.audit_query(action=action)


def secret_of(response) -> str:
    return SECRET.search(response.get_data(as_text=True)).group(1)


@pytest.fixture
def site(make_app):
    """The app. Not named ``app``: pytest-flask pushes one request context around a test that
    uses ``app``, and every request of the test would share its ``g`` (who is asking)."""
    return make_app()


@pytest.fixture
def live(site):
    return site.extensions["dashboard"]


@pytest.fixture
def ann(site):
    """A client signed in as ann, the only admin."""
    return sign_in(site, "ann")


#: Every admin route with a valid form, as (method, path, form).
ROUTES = [
    ("GET", "/admin", None),
    ("POST", "/admin/accounts", {"name": "zed", "role": "viewer"}),
    ("POST", "/admin/accounts/ann/role", {"role": "operator"}),
    ("POST", "/admin/accounts/ann/disable", {}),
    ("POST", "/admin/accounts/ann/enable", {}),
    ("POST", "/admin/accounts/ann/password", {}),
    ("POST", "/admin/keys", {"name": "bot", "scopes": "read"}),
    ("POST", "/admin/keys/0123456789ab/revoke", {}),
    ("GET", "/audit", None),
    ("GET", "/audit/stream", None),
    ("GET", "/api/v1/audit", None),
]


@pytest.mark.parametrize("role", ["viewer", "operator"])
@pytest.mark.parametrize(("method", "path", "form"), ROUTES)
def test_every_admin_route_is_403_for_operators_and_viewers(site, ann, role, method, path, form):
    client = sign_in(site, "olga", role)
    before = site.extensions["dashboard"].store.audit_query(limit=500)
    response = client.open(path, method=method, data=form, headers=ORIGIN)
    assert response.status_code == 403
    assert "the admin role" in response.get_json()["error"]
    assert accounts.get(site.extensions["dashboard"].store, "ann")["role"] == "admin"
    assert site.extensions["dashboard"].store.audit_query(limit=500) == before


def test_without_a_session_admin_pages_send_browsers_to_sign_in(site, ann):
    response = site.test_client().get("/admin", headers={"Accept": "text/html"})
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")
    assert site.test_client().post("/admin/keys", data={"name": "x", "scopes": "read"},
                                  headers=ORIGIN).status_code == 401


def test_a_form_from_another_site_is_refused(site, ann):
    response = ann.post("/admin/accounts", data={"name": "eve", "role": "admin"},
                        headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert accounts.get(site.extensions["dashboard"].store, "eve") is None


def test_the_page_lists_accounts_and_keys_with_their_forms(site, ann, live):
    apikeys.add_key(live.store, "deploy-bot", ["ingest"], by="ann")
    response = ann.get("/admin")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert '<th scope="row">ann</th>' in html and '<th scope="row">deploy-bot</th>' in html
    for action in ("/admin/accounts/ann/role", "/admin/accounts/ann/disable",
                   "/admin/accounts/ann/password", "/admin/accounts", "/admin/keys"):
        assert f'hx-post="{action}"' in html and f'action="{action}"' in html
    assert 'hx-target:inherited="#accounts"' in html and 'hx-target:inherited="#keys"' in html
    for scope in accounts.SCOPES:
        assert f'name="scopes" value="{scope}"' in html
    assert "secret" not in re.sub(r'class="[^"]*"', "", html)


def test_adding_an_account_shows_its_password_once_and_audits_it(site, ann, live, caplog):
    caplog.set_level(logging.DEBUG)
    response = ann.post("/admin/accounts", data={"name": "bob", "role": "operator"}, headers=HTMX)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert html.startswith("<section id=\"accounts\"") and "<html" not in html  # the region
    assert "Account bob (operator) added" in html
    password = secret_of(response)
    assert accounts.get(live.store, "bob")["role"] == "operator"
    assert site.test_client().post("/login", data={"name": "bob", "password": password}
                                  ).status_code == 303
    (entry,) = entries(live, "account-add")
    assert (entry["who"], entry["role"], entry["target"], entry["detail"]) == (
        "ann", "admin", "bob", {"role": "operator"})
    assert password not in ann.get("/admin").get_data(as_text=True)  # never again
    assert password not in str(live.store.audit_query(limit=500))
    assert password not in caplog.text


def test_without_javascript_a_form_gets_the_whole_page_with_the_notice(site, ann, live):
    response = ann.post("/admin/accounts", data={"name": "cy", "role": "viewer"}, headers=ORIGIN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<!doctype html>" in html
    assert 'id="accounts"' in html and 'id="keys"' in html and "Account cy (viewer) added" in html
    assert secret_of(response)


def test_changing_a_role_ends_the_sessions_and_is_audited(site, ann, live):
    bob = sign_in(site, "bob", "viewer")
    response = ann.post("/admin/accounts/bob/role", data={"role": "operator"}, headers=HTMX)
    assert response.status_code == 200 and "bob is operator now" in response.get_data(as_text=True)
    assert accounts.get(live.store, "bob")["role"] == "operator"
    assert bob.get("/", headers={"Accept": "text/html"}).status_code == 303  # signed out
    (entry,) = entries(live, "account-role")
    assert (entry["target"], entry["detail"]) == ("bob", {"role": "operator"})


def test_disabling_and_enabling_are_audited_and_end_sign_in(site, ann, live):
    bob = sign_in(site, "bob", "viewer")
    assert ann.post("/admin/accounts/bob/disable", headers=HTMX).status_code == 200
    assert accounts.get(live.store, "bob")["disabled"]
    assert bob.get("/", headers={"Accept": "text/html"}).status_code == 303
    assert site.test_client().post("/login", data={"name": "bob", "password": PASSWORD}
                                  ).status_code == 401
    html = ann.post("/admin/accounts/bob/enable", headers=HTMX).get_data(as_text=True)
    assert "bob is enabled" in html and not accounts.get(live.store, "bob")["disabled"]
    assert [e["target"] for e in entries(live, "account-disable")] == ["bob"]
    assert [e["target"] for e in entries(live, "account-enable")] == ["bob"]


def test_a_reset_password_is_shown_once_and_replaces_the_old_one(site, ann, live):
    sign_in(site, "bob", "viewer")
    response = ann.post("/admin/accounts/bob/password", headers=HTMX)
    password = secret_of(response)
    assert password != PASSWORD
    login = site.test_client().post
    assert login("/login", data={"name": "bob", "password": PASSWORD}).status_code == 401
    assert login("/login", data={"name": "bob", "password": password}).status_code == 303
    (entry,) = entries(live, "account-password")
    assert entry["target"] == "bob" and entry["detail"] is None
    assert password not in ann.get("/admin").get_data(as_text=True)


def test_a_new_key_is_shown_once_works_and_revoking_it_ends_it(site, ann, live, caplog):
    caplog.set_level(logging.DEBUG)
    response = ann.post("/admin/keys", data={"name": "bot", "scopes": ["read", "ingest"]},
                        headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith('<section id="keys"')
    key = secret_of(response)
    assert key.startswith("dk_") and "Key bot (ingest, read) added" in html
    bearer = {"Authorization": f"Bearer {key}"}
    assert site.test_client().get("/api/v1/events", headers=bearer).status_code == 200
    (added,) = entries(live, "key-add")
    key_id = added["detail"]["id"]
    assert added["target"] == "bot" and added["detail"]["scopes"] == ["ingest", "read"]
    page = ann.get("/admin").get_data(as_text=True)
    secret = key.split("_", 2)[2]  # dk_<id>_<secret>, and a secret may hold "_"
    assert key not in page and secret not in page and f"<code>{key_id}</code>" in page
    assert ann.post(f"/admin/keys/{key_id}/revoke", headers=HTMX).status_code == 200
    settle(live, live.store.latest_id())  # every process forgets the key within a tail
    assert site.test_client().get("/api/v1/events", headers=bearer).status_code == 401
    (revoked,) = entries(live, "key-revoke")
    assert (revoked["target"], revoked["detail"]) == ("bot", {"id": key_id})
    again = ann.post(f"/admin/keys/{key_id}/revoke", headers=HTMX)
    assert again.status_code == 409 and "revoked already" in again.get_data(as_text=True)
    assert key not in caplog.text and key not in str(live.store.audit_query(limit=500))


@pytest.mark.parametrize(("path", "form", "status"), [
    ("/admin/accounts", {"name": "<script>alert(1)</script>", "role": "viewer"}, 422),
    ("/admin/accounts", {"name": "dan", "role": "<b>boss</b>"}, 422),
    ("/admin/accounts", {"name": "ann", "role": "viewer"}, 409),
    ("/admin/accounts/ann/role", {"role": "<i>root</i>"}, 422),
    ("/admin/accounts/nobody/role", {"role": "viewer"}, 404),
    ("/admin/accounts/nobody/disable", {}, 404),
    ("/admin/accounts/nobody/password", {}, 404),
    ("/admin/keys", {"name": "bot"}, 422),
    ("/admin/keys", {"name": "bot", "scopes": "<root>"}, 422),
    ("/admin/keys", {"name": "", "scopes": "read"}, 422),
    ("/admin/keys/nope/revoke", {}, 404),
])
def test_bad_input_is_refused_escaped_for_htmx_and_json_for_programs(ann, live, path, form,
                                                                     status):
    before = live.store.audit_query(limit=500)
    response = ann.post(path, data=form, headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert html.startswith('<p class="error" role="alert">') and "<script>" not in html
    assert "<b>" not in html and "<i>" not in html and "<root>" not in html
    as_json = ann.post(path, data=form, headers={**ORIGIN, "Accept": "application/json"})
    assert as_json.status_code == status and as_json.get_json()["error"]
    assert live.store.audit_query(limit=500) == before


def test_the_last_enabled_admin_cannot_be_demoted_or_disabled(site, ann, live):
    for path, form in (("/admin/accounts/ann/role", {"role": "operator"}),
                       ("/admin/accounts/ann/disable", {})):
        response = ann.post(path, data=form, headers=HTMX)
        assert response.status_code == 409
        assert "last enabled admin" in response.get_data(as_text=True)
    account = accounts.get(live.store, "ann")
    assert account["role"] == "admin" and not account["disabled"]
    # A disabled admin does not count; an enabled second one does.
    accounts.add(live.store, "bea", "admin", PASSWORD)
    accounts.set_disabled(live.store, "bea", True)
    assert ann.post("/admin/accounts/ann/disable", headers=HTMX).status_code == 409
    assert ann.post("/admin/accounts/bea/enable", headers=HTMX).status_code == 200
    assert ann.post("/admin/accounts/ann/role", data={"role": "operator"},
                    headers=HTMX).status_code == 200
    assert accounts.get(live.store, "ann")["role"] == "operator"


def test_a_local_admin_must_make_an_admin_first(site, live):
    client = site.test_client()
    # No account yet: a local client is an admin; a first viewer would lock everyone out.
    refused = client.post("/admin/accounts", data={"name": "vic", "role": "viewer"},
                          headers=HTMX)
    assert refused.status_code == 409 and accounts.listed(live.store) == []
    made = client.post("/admin/accounts", data={"name": "ann", "role": "admin"}, headers=HTMX)
    assert made.status_code == 200 and accounts.get(live.store, "ann")["role"] == "admin"
    assert entries(live, "account-add")[0]["who"] == "local"


@pytest.mark.parametrize(("role", "classes", "links"), [
    ("admin", "can-operate can-admin", True),
    ("operator", "can-operate", False),
    ("viewer", None, False),
])
def test_pages_name_the_rights_and_show_admin_links_to_admins_only(site, ann, role, classes,
                                                                   links):
    client = ann if role == "admin" else sign_in(site, f"p-{role}", role)
    for path in ("/", "/fleet"):
        html = client.get(path).get_data(as_text=True)
        body = re.search(r"<body[^>]*>", html).group(0)
        assert body == (f'<body class="{classes}">' if classes else "<body>")
        assert ('href="/admin"' in html) is links and ('href="/audit"' in html) is links
        name = "ann" if role == "admin" else f"p-{role}"
        assert f'<span class="whoami">{name} <small>({role})</small></span>' in html
        assert 'action="/logout"' in html


def test_buttons_for_operators_and_admins_are_marked_for_the_page_to_hide(site):
    client = site.test_client()
    html = client.get("/").get_data(as_text=True)
    assert 'id="simulator" hx-swap-oob="true" class="needs-operate"' in html
    response = client.get("/static/dashboard.css")
    css = response.get_data(as_text=True)
    response.close()  # file responses hold the file open
    assert "body:not(.can-operate) .needs-operate" in css
    assert "body:not(.can-admin) .needs-admin" in css


def test_the_local_admin_sees_links_but_no_sign_out(site):
    client = site.test_client()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/admin"' in html and 'action="/logout"' not in html
    assert '<body class="can-operate can-admin">' in html
