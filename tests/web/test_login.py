"""Viewer login (DASHBOARD_VIEW_TOKEN) and the guard of page actions under /ui/."""

from urllib.parse import urlencode

import pytest

VIEW = "v1ew-token-v1ew-token"
ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def viewer_app(make_app):
    return make_app(VIEW_TOKEN=VIEW, SECRET_KEY="k" * 32)


def login(client, token=VIEW):
    return client.post("/login", data={"token": token})


@pytest.mark.parametrize("path", ["/", "/poll", "/fragments/cpu", "/?transport=poll"])
def test_browsers_without_a_session_are_sent_to_the_login_form(viewer_app, path):
    response = viewer_app.test_client().get(path, headers={"Accept": "text/html"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?" + urlencode({"next": path})


@pytest.mark.parametrize(("path", "accept"), [
    ("/stream", "text/html, text/event-stream"), ("/api/v1/events", "*/*"),
    ("/api/v1/tasks", "text/html"), ("/api/v1/openapi.json", "*/*"),
    ("/poll", "application/json"),
])
def test_json_and_sse_clients_without_a_session_get_401_json(viewer_app, path, accept):
    response = viewer_app.test_client().get(path, headers={"Accept": accept})
    assert response.status_code == 401 and response.is_json
    assert "/login" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/login",
                                  "/vendor/htmx.min.js", "/static/dashboard.css"])
def test_probes_assets_and_the_form_stay_open(viewer_app, path):
    response = viewer_app.test_client().get(path)
    response.close()  # file responses hold the file open
    assert response.status_code == 200


def test_bearer_writes_need_no_session(make_app):
    app = make_app(VIEW_TOKEN=VIEW, INGEST_TOKEN="ingest-token-ingest")
    response = app.test_client().post("/api/v1/events", json={"message": "m"},
                                      headers={"Authorization": "Bearer ingest-token-ingest"})
    assert response.status_code == 201


def test_wrong_token_shows_the_form_again_with_401(viewer_app):
    client = viewer_app.test_client()
    response = login(client, "wrong")
    assert response.status_code == 401
    assert b"not valid" in response.data and b'name="token"' in response.data
    assert "Set-Cookie" not in response.headers
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 303


def test_right_token_sets_a_strict_httponly_cookie_and_opens_everything(viewer_app):
    client = viewer_app.test_client()
    response = login(client)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    assert VIEW not in cookie
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/tasks").status_code == 200
    assert client.get("/fragments/cpu").status_code == 200


def test_cookie_is_secure_over_https(viewer_app):
    response = viewer_app.test_client().post("/login", data={"token": VIEW},
                                             base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_no_token_in_any_url_or_location(viewer_app):
    client = viewer_app.test_client()
    form = client.get("/login").data.decode()
    assert 'method="post"' in form and 'type="password"' in form
    redirects = [client.get("/", headers={"Accept": "text/html"}), login(client, "wrong"),
                 login(client), client.post("/logout")]
    for response in redirects:
        assert VIEW not in response.headers.get("Location", "")
        assert "token" not in response.headers.get("Location", "")
    assert VIEW not in client.get("/login").data.decode()


def test_a_token_in_the_query_string_signs_nobody_in(viewer_app):
    client = viewer_app.test_client()
    assert client.post(f"/login?token={VIEW}").status_code == 401


def test_logout_ends_the_session(viewer_app):
    client = viewer_app.test_client()
    login(client)
    response = client.post("/logout", headers=ORIGIN)
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 303


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://evil.example"},
                                     {"Referer": "http://evil.example/page"}])
def test_logout_from_another_site_is_refused_and_keeps_the_session(viewer_app, headers):
    client = viewer_app.test_client()
    login(client)
    response = client.post("/logout", headers=headers)
    assert response.status_code == 403 and "Origin" in response.get_json()["error"]
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 200


def test_changing_the_token_ends_old_sessions(make_app, tmp_path):
    first = make_app(VIEW_TOKEN=VIEW, SECRET_KEY="k" * 32)
    client = first.test_client()
    login(client)
    cookie = client.get_cookie("dashboard_session").value
    second = make_app(VIEW_TOKEN="new-token-new-token", SECRET_KEY="k" * 32)
    other = second.test_client()
    other.set_cookie("dashboard_session", cookie)
    assert other.get("/", headers={"Accept": "text/html"}).status_code == 303


def test_without_a_view_token_login_is_not_needed(client):
    assert client.get("/").status_code == 200
    assert client.get("/login").status_code == 303


# -- /ui/ page actions ---------------------------------------------------------------------------

def ui(client, headers=None, address="127.0.0.1"):
    return client.post("/ui/simulator/scenarios/alert-storm", headers=headers or {},
                       environ_base={"REMOTE_ADDR": address})


@pytest.mark.parametrize("headers", [
    {}, {"Origin": "http://evil.example"}, {"Origin": "null"},
    {"Referer": "http://evil.example/"}, {"Origin": "http://localhost.evil.example"},
])
def test_ui_actions_need_this_origin(client, live, headers):
    response = ui(client, headers)
    assert response.status_code == 403 and response.is_json
    assert "Origin" in response.get_json()["error"]
    assert live.store.latest_id() == 0


@pytest.mark.parametrize("headers", [ORIGIN, {"Referer": "http://localhost/"}])
def test_ui_actions_from_this_origin_on_loopback_act(client, live, headers):
    assert ui(client, headers).status_code == 204
    assert live.store.latest_id() == 20


def test_ui_actions_from_other_hosts_without_a_view_token_are_refused(client, live):
    response = ui(client, ORIGIN, address="10.0.0.5")
    assert response.status_code == 403 and "users add" in response.get_json()["error"]


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.5"])
def test_with_an_ingest_token_page_actions_need_a_person(make_app, address):
    # The token is a program's key: a browser cannot send it, and it no longer makes a local
    # client an admin. A person signs in.
    app = make_app(INGEST_TOKEN="ingest-token-ingest")
    response = ui(app.test_client(), ORIGIN, address=address)
    assert response.status_code == 401 and "/login" in response.get_json()["error"]
    assert app.extensions["dashboard"].store.latest_id() == 0


def test_the_view_token_never_acts(viewer_app):
    client = viewer_app.test_client()
    response = ui(client, ORIGIN, address="10.0.0.5")
    assert response.status_code == 401 and response.is_json
    login(client)
    response = ui(client, ORIGIN, address="10.0.0.5")
    assert response.status_code == 403 and "operator" in response.get_json()["error"]


def test_ui_host_form_toggles_the_simulated_host(client, live):
    from app.live.sampling import SIMULATED_HOST_KEY

    response = client.post("/ui/simulator/host", data={"enabled": "true"}, headers=ORIGIN)
    assert response.status_code == 204
    assert live.store.get_state(SIMULATED_HOST_KEY) == {"enabled": True}
    response = client.post("/ui/simulator/host", data={"enabled": "yes"}, headers=ORIGIN)
    assert response.status_code == 400


def test_panel_is_on_the_page_only_with_the_simulator(client, make_app):
    page = client.get("/").data.decode()
    assert 'id="simulator"' in page and 'hx-post="/ui/simulator/scenarios/task-run"' in page
    off = make_app(SIMULATOR=False).test_client()
    assert 'id="simulator"' not in off.get("/").data.decode()
    assert off.get("/fragments/simulator").status_code == 404


def test_ten_wrong_logins_in_a_minute_then_429(viewer_app):
    client = viewer_app.test_client()
    assert [client.post("/login", data={"token": f"guess-{n}"}).status_code
            for n in range(10)] == [401] * 10
    response = client.post("/login", data={"token": VIEW})
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 303  # not signed in
