"""The write API and the simulator: accepted input is stored, bad input is a 4xx that stores nothing."""

import json

import pytest


def post(client, path, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type)


def test_event_is_stored_and_returns_its_id(client, live):
    response = post(client, "/api/v1/events",
                     {"level": "warning", "message": "disk filling up", "source": "cron"})
    assert response.status_code == 201
    event_id = response.get_json()["id"]
    [item] = live.store.since(0)
    assert item.id == event_id and item.kind == "event"
    assert item.data["level"] == "warning"
    assert item.data["message"] == "disk filling up"
    assert item.data["source"] == "cron"
    assert item.data["ts"] > 0


def test_level_defaults_to_info(client, live):
    assert post(client, "/api/v1/events", {"message": "hello"}).status_code == 201
    assert live.store.since(0)[0].data["level"] == "info"


BAD_EVENTS = [
    # (body, content type, status, what the error mentions)
    ({"level": "fatal", "message": "x"}, "application/json", 422, "level"),
    ({"level": "info"}, "application/json", 422, "message"),
    ({"level": "info", "message": "   "}, "application/json", 422, "message"),
    ({"message": "x", "colour": "red"}, "application/json", 422, "colour"),
    ({"message": 5}, "application/json", 422, "message"),
    ({"message": "x" * 2001}, "application/json", 422, "message"),
    ("{not json", "application/json", 400, "JSON"),
    ("[1, 2]", "application/json", 400, "object"),
    ('"just a string"', "application/json", 400, "object"),
    ("level=info&message=x", "application/x-www-form-urlencoded", 415, "JSON"),
    ('{"message": "x"}', "text/plain", 415, "JSON"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "mentions"), BAD_EVENTS)
def test_bad_event_is_rejected_and_stores_nothing(client, live, body, content_type, status, mentions):
    response = post(client, "/api/v1/events", body, content_type)
    assert response.status_code == status
    assert response.is_json
    error = response.get_json()
    assert mentions in json.dumps(error)
    assert live.store.latest_id() == 0


def test_body_over_the_limit_is_413_and_stores_nothing(client, live):
    limit = live.settings.max_body
    body = json.dumps({"message": "x" * limit})
    response = post(client, "/api/v1/events", body)
    assert response.status_code == 413
    assert response.get_json()["error"]
    assert live.store.latest_id() == 0


def test_unsupported_method_on_the_ingest_path_is_405_json(client):
    response = client.patch("/api/v1/events", json={})
    assert response.status_code == 405 and response.is_json


# -- simulator -------------------------------------------------------------------------------

def test_simulator_stores_given_events(client, live):
    response = post(client, "/simulator/events",
                     {"count": 3, "level": "error", "message": "boom"})
    assert response.status_code == 201
    ids = response.get_json()["ids"]
    items = live.store.since(0)
    assert [i.id for i in items] == ids
    assert {(i.data["level"], i.data["message"], i.data["source"]) for i in items} == {
        ("error", "boom", "simulator")}


def test_simulator_makes_up_random_events(client, live):
    assert post(client, "/simulator/events", {"count": 20}).status_code == 201
    items = live.store.since(0)
    assert len(items) == 20
    assert all(i.data["level"] in ("info", "warning", "error", "critical") for i in items)
    assert all(i.data["message"] for i in items)


@pytest.mark.parametrize("body", [{"count": 0}, {"count": 1001}, {"level": "loud"}, {"x": 1}])
def test_simulator_rejects_bad_requests(client, live, body):
    response = post(client, "/simulator/events", body)
    assert response.status_code == 422 and response.is_json
    assert live.store.latest_id() == 0


def test_metric_override_replaces_sampled_values(client, live):
    from app.live import apply_override, override_key

    response = post(client, "/simulator/metrics", {"values": {"cpu_percent": 97}, "seconds": 5})
    assert response.status_code == 200
    override = live.store.get_state(override_key(live.settings.host_name))
    sample = apply_override({"cpu_percent": 3.0, "mem_percent": 40.0}, override)
    assert sample == {"cpu_percent": 97, "mem_percent": 40.0}
    expired = {**override, "until": 0}
    assert apply_override({"cpu_percent": 3.0}, expired) == {"cpu_percent": 3.0}


@pytest.mark.parametrize("body", [
    {"values": {"bogus": 1}},
    {"values": {}},
    {"values": {"cpu_percent": 50}, "seconds": 0},
    {"values": {"cpu_percent": "high"}},
])
def test_metric_override_rejects_bad_requests(client, live, body):
    response = post(client, "/simulator/metrics", body)
    assert response.status_code == 422 and response.is_json
    assert live.store.get_state("override:" + live.settings.host_name) is None


def test_simulator_is_off_unless_enabled(tmp_path):
    from app import create_app

    app = create_app({"TESTING": True, "SAMPLER": False,
                      "STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    try:
        response = app.test_client().post("/simulator/events", json={})
        assert response.status_code == 404
    finally:
        app.extensions["dashboard"].store.close()
