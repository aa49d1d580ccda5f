"""Write endpoints: a bearer token when one is set, loopback clients only when none is."""

import logging

import pytest

EVENT = {"level": "info", "message": "deploy finished"}
REMOTE = {"REMOTE_ADDR": "10.1.2.3"}
TOKEN = "s3cret-s3cret-s3cret"


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


# -- the loopback fallback: Host and forwarding headers ------------------------------------------

@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example",
                                  "localhost.evil.example:80", "10.0.0.8:8000"])
def test_without_a_token_a_foreign_host_header_is_refused(client, live, host):
    """DNS rebinding: a page of evil.example re-resolved to 127.0.0.1 posts from a local browser."""
    response = client.post("/api/v1/events", json=EVENT, headers={"Host": host})
    assert response.status_code == 403 and response.is_json
    error = response.get_json()["error"]
    assert "Host" in error and "DASHBOARD_ALLOWED_HOSTS" in error
    assert live.store.latest_id() == 0


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "127.3.2.1",
                                  "[::1]:8000", "[::1]", "dash.localhost:8000", "DASH.LAN:8000"])
def test_without_a_token_loopback_names_and_allowed_hosts_may_write(make_app, host):
    app = make_app(ALLOWED_HOSTS="dash.lan, other.lan")
    response = app.test_client().post("/api/v1/events", json=EVENT, headers={"Host": host})
    assert response.status_code == 201


@pytest.mark.parametrize("header", [{"X-Forwarded-For": "203.0.113.9"}, {"X-Real-IP": "127.0.0.1"},
                                    {"Forwarded": "for=127.0.0.1"}])
def test_without_a_token_a_relayed_request_is_refused(client, live, header):
    """Behind nginx on the same host every request comes from 127.0.0.1."""
    response = client.post("/api/v1/events", json=EVENT, headers=header)
    assert response.status_code == 403 and "proxy" in response.get_json()["error"]
    assert live.store.latest_id() == 0


def test_a_foreign_host_gets_no_page_action_either(client, live):
    headers = {"Host": "evil.example", "Origin": "http://evil.example"}
    response = client.post("/ui/simulator/scenarios/alert-storm", headers=headers)
    assert response.status_code == 403 and "Host" in response.get_json()["error"]
    assert live.store.latest_id() == 0


@pytest.mark.parametrize("path", ["/", "/poll", "/api/v1/events", "/api/v1/approvals",
                                  "/api/v1/processes", "/fleet"])
def test_without_credentials_a_rebinding_host_reads_nothing(client, path):
    """DNS rebinding, reading: a page of evil.example re-resolved to 127.0.0.1 reads through a
    local browser; before, every read answered."""
    response = client.get(path, headers={"Host": "evil.example:8000"})
    assert response.status_code == 403 and "DASHBOARD_ALLOWED_HOSTS" in response.get_json()["error"]


@pytest.mark.parametrize("host", ["localhost:8000", "10.0.0.8:8000", "[2001:db8::1]:8000",
                                  "dash.lan"])
def test_without_credentials_addresses_and_allowed_names_still_read(make_app, host):
    client = make_app(ALLOWED_HOSTS="dash.lan").test_client()
    assert client.get("/api/v1/events", headers={"Host": host},
                      environ_base=REMOTE).status_code == 200


def test_with_an_ingest_token_reads_without_one_are_guarded_too(token_app):
    client = token_app.test_client()
    assert client.get("/api/v1/events", headers={"Host": "evil.example"}).status_code == 403
    # A program with a key is no rebinding page: its Host is its business.
    assert client.post("/api/v1/events", json=EVENT, headers={
        "Host": "evil.example", "Authorization": f"Bearer {TOKEN}"}).status_code == 201


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "https://localhost"},     # another scheme is another origin
])
@pytest.mark.parametrize("path", ["/api/v1/alerts/{id}/resolve", "/simulator/scenarios/alert-storm",
                                  "/ui/alerts/{id}/ack"])
def test_cross_site_form_posts_are_refused(client, live, headers, path):
    alert_id = client.post("/api/v1/alerts", json={"name": "x", "level": "error", "message": "m",
                                                   "source": "t"}).get_json()["id"]
    before = live.store.latest_id()
    response = client.post(path.format(id=alert_id), data={"a": "1"}, headers=headers)
    assert response.status_code == 403, response.get_data(as_text=True)
    assert live.store.latest_id() == before


def test_same_site_posts_and_programs_still_write(client, live):
    alert_id = client.post("/api/v1/alerts", json={"name": "x", "level": "error", "message": "m",
                                                   "source": "t"}).get_json()["id"]
    assert client.post(f"/ui/alerts/{alert_id}/ack", headers={
        "Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}).status_code == 204
    assert client.post(f"/api/v1/alerts/{alert_id}/resolve").status_code == 200  # curl: no Origin


# -- throttling failed token checks --------------------------------------------------------------

def test_ten_wrong_tokens_in_a_minute_then_429_even_with_the_right_one(token_app, caplog):
    client = token_app.test_client()
    wrong = {"Authorization": "Bearer wrong-guess-number"}
    with caplog.at_level(logging.WARNING, logger="app.web.auth"):
        statuses = [client.post("/api/v1/events", json=EVENT, headers=wrong).status_code
                    for _ in range(10)]
    assert statuses == [401] * 10
    assert len(caplog.records) == 10 and "wrong-guess" not in caplog.text
    right = client.post("/api/v1/events", json=EVENT, headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 429 and right.is_json
    assert 0 < int(right.headers["Retry-After"]) <= 60
    assert stored(token_app) == 0
    # Counted per client address: another one still writes.
    other = client.post("/api/v1/events", json=EVENT, environ_base=REMOTE,
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert other.status_code == 201


def test_a_right_issued_key_is_served_while_its_address_is_throttled(token_app):
    """An API key's 256 random bits need no throttle; an agent behind the guesser's address
    (a NAT) keeps posting, while a right password or token still gets 429."""
    from app.domain import apikeys

    live = token_app.extensions["dashboard"]
    _, key = apikeys.add_key(live.store, "agent", ["ingest"], by="test")
    client = token_app.test_client()
    wrong = [{"Authorization": "Bearer wrong-guess-number"},
             {"Authorization": f"Bearer {key[:-4]}abcd"}]  # a wrong secret of a real key
    assert [client.post("/api/v1/events", json=EVENT, headers=wrong[n % 2]).status_code
            for n in range(10)] == [401] * 10
    right = client.post("/api/v1/events", json=EVENT, headers={"Authorization": f"Bearer {key}"})
    assert right.status_code == 201
    token = client.post("/api/v1/events", json=EVENT,
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert token.status_code == 429
    assert client.post("/api/v1/events", json=EVENT, headers=wrong[1]).status_code == 429
    assert [item.kind for item in live.store.since(0)] == ["apikey", "event"]


def test_on_sentinel_the_throttle_counts_in_the_primary_the_sentinels_name(make_app,
                                                                           sentinel_url):
    # Two apps stand for two dashboards: the counts are shared through the primary.
    first, second = (make_app(INGEST_TOKEN=TOKEN, STORE_URL=sentinel_url) for _ in range(2))
    wrong = {"Authorization": "Bearer wrong-guess-number"}
    statuses = [app.test_client().post("/api/v1/events", json=EVENT, headers=wrong).status_code
                for app in (first, second) * 5]
    assert statuses == [401] * 10
    right = second.test_client().post("/api/v1/events", json=EVENT,
                                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 429


def test_right_tokens_and_reads_are_never_throttled(token_app):
    client = token_app.test_client()
    good = {"Authorization": f"Bearer {TOKEN}"}
    assert {client.post("/api/v1/events", json=EVENT, headers=good).status_code
            for _ in range(15)} == {201}
    assert {client.get("/api/v1/events").status_code for _ in range(15)} == {200}


def test_behind_trusted_proxies_the_forwarded_client_is_counted(make_app, caplog):
    app = make_app(INGEST_TOKEN=TOKEN, TRUSTED_PROXIES=1)
    client = app.test_client()
    wrong = {"Authorization": "Bearer wrong-guess-number"}
    with caplog.at_level(logging.WARNING, logger="app.web.auth"):
        for _ in range(10):
            client.post("/api/v1/events", json=EVENT,
                        headers={**wrong, "X-Forwarded-For": "203.0.113.9"})
    assert "203.0.113.9" in caplog.text
    good = {"Authorization": f"Bearer {TOKEN}"}
    blocked = client.post("/api/v1/events", json=EVENT,
                          headers={**good, "X-Forwarded-For": "203.0.113.9"})
    assert blocked.status_code == 429
    # The proxy's other clients are not blocked by one client's guesses.
    assert client.post("/api/v1/events", json=EVENT,
                       headers={**good, "X-Forwarded-For": "198.51.100.7"}).status_code == 201


# -- /metrics ----------------------------------------------------------------------------------

def test_metrics_is_a_read_once_people_sign_in(make_app):
    # Before: readable by anyone even with a view token.
    client = make_app(VIEW_TOKEN="look-view-token-0").test_client()
    scrape = {"Accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"}
    assert client.get("/metrics", headers=scrape, environ_base=REMOTE).status_code == 401


def test_metrics_token_makes_a_bearer_protected_scrape(make_app, caplog):
    client = make_app(METRICS_TOKEN="scrape-token-scrape-token").test_client()
    assert client.get("/metrics").status_code == 401  # loopback included: the token says so
    wrong = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-wrong"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-scrape-token"})
    assert right.status_code == 200 and b"dashboard_" in right.data
    assert "scrape-token" not in caplog.text
