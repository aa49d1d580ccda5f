"""Write endpoints: a bearer token when one is set, loopback clients only when none is."""

import logging

import pytest

EVENT = {"level": "info", "message": "deploy finished"}
REMOTE = {"REMOTE_ADDR": "10.1.2.3"}
TOKEN = "s3cret"


@pytest.fixture
def token_app(make_app):
    return make_app(INGEST_TOKEN=TOKEN)


def stored(app):
    return app.extensions["dashboard"].store.latest_id()


@pytest.mark.parametrize("address", ["10.1.2.3", "::ffff:10.1.2.3", "2001:db8::1", "", "unix"])
def test_without_a_token_other_hosts_get_403_with_the_fix(client, live, address):
    response = client.post("/api/v1/events", json=EVENT, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 403 and response.is_json
    error = response.get_json()["error"]
    assert "DASHBOARD_INGEST_TOKEN" in error and "Bearer" in error
    assert live.store.latest_id() == 0


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_every_write_method_is_checked(client, method):
    # Refused before routing, so the answer does not reveal which paths exist.
    response = client.open("/api/v1/events", method=method, json=EVENT, environ_base=REMOTE)
    assert response.status_code == 403


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_without_a_token_loopback_may_write(client, live, address):
    response = client.post("/api/v1/events", json=EVENT, environ_base={"REMOTE_ADDR": address})
    assert response.status_code == 201
    assert live.store.latest_id() == 1


@pytest.mark.parametrize("path", ["/simulator/events", "/simulator/metrics"])
def test_the_simulator_is_a_write_endpoint_too(client, live, path):
    response = client.post(path, json={}, environ_base=REMOTE)
    assert response.status_code == 403
    assert live.store.latest_id() == 0


def test_reads_stay_open_to_other_hosts(client):
    for path in ("/", "/poll", "/fragments/cpu", "/healthz", "/readyz", "/metrics"):
        assert client.get(path, environ_base=REMOTE).status_code == 200, path


@pytest.mark.parametrize(("headers", "challenge"), [
    ({}, True),
    ({"Authorization": "Basic czNjcmV0"}, True),
    ({"Authorization": "Bearer "}, True),
    ({"Authorization": "Bearer wrong"}, False),
    ({"Authorization": f"Bearer {TOKEN}x"}, False),
    ({"Authorization": "Bearer s3crét"}, False),
])
def test_with_a_token_a_missing_or_wrong_one_is_401(token_app, headers, challenge):
    # From loopback too: a configured token is required from everyone.
    response = token_app.test_client().post("/api/v1/events", json=EVENT, headers=headers)
    assert response.status_code == 401 and response.is_json
    assert response.get_json()["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if challenge:
        assert "invalid_token" not in response.headers["WWW-Authenticate"]
    assert stored(token_app) == 0


def test_with_the_right_token_any_host_may_write(token_app):
    response = token_app.test_client().post(
        "/api/v1/events", json=EVENT, environ_base=REMOTE,
        headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 201
    assert stored(token_app) == 1


def test_the_token_never_reaches_the_log(token_app, caplog):
    caplog.set_level(logging.DEBUG)
    client = token_app.test_client()
    for sent in (f"Bearer {TOKEN}-guess", "Bearer nope", None):
        headers = {"Authorization": sent} if sent else {}
        response = client.post("/api/v1/events", json=EVENT, headers=headers, environ_base=REMOTE)
        assert response.status_code == 401
        assert TOKEN not in response.get_data(as_text=True)
    assert TOKEN not in caplog.text and "nope" not in caplog.text
    assert TOKEN not in repr(token_app.config["SETTINGS"])
