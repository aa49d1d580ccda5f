"""``/api/v1/alerts`` and the page's ``/ui/alerts/<id>/ack``: stored when valid, 4xx and nothing stored when not."""

import json

import pytest

from app.domain import alerts


def post(client, path, body=None, content_type="application/json"):
    if body is None:
        return client.post(path)
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type)


def raise_one(client, **fields):
    body = {"name": "backup", "level": "error", "message": "backup failed", **fields}
    response = post(client, "/api/v1/alerts", body)
    assert response.status_code == 201
    return response.get_json()["id"]


def test_raise_stores_a_firing_alert_and_an_event(client, live):
    alert_id = raise_one(client, source="cron")
    stored = alerts.get(live.store, alert_id)
    assert stored["state"] == "firing" and stored["level"] == "error"
    assert stored["name"] == "backup" and stored["message"] == "backup failed"
    assert stored["source"] == "cron" and stored["started_at"] > 0 and stored["ended_at"] is None
    [alert_item, event_item] = live.store.since(0)
    assert alert_item.kind == "alert" and alert_item.data == stored
    assert event_item.kind == "event" and event_item.data["level"] == "error"
    assert event_item.data["message"] == "backup: backup failed"


def test_level_defaults_to_warning_and_source_to_api(client, live):
    response = post(client, "/api/v1/alerts", {"name": "n", "message": "m"})
    stored = alerts.get(live.store, response.get_json()["id"])
    assert stored["level"] == "warning" and stored["source"] == "api"


BAD_ALERTS = [
    ({"message": "m"}, "application/json", 422, "name"),
    ({"name": "n"}, "application/json", 422, "message"),
    ({"name": " ", "message": "m"}, "application/json", 422, "name"),
    ({"name": "n", "message": "m", "level": "info"}, "application/json", 422, "level"),
    ({"name": "n", "message": "m", "extra": 1}, "application/json", 422, "extra"),
    ({"name": "n" * 201, "message": "m"}, "application/json", 422, "name"),
    ({"name": "n", "message": "m", "source": 5}, "application/json", 422, "source"),
    ("{nope", "application/json", 400, "JSON"),
    ("[]", "application/json", 400, "object"),
    ('{"name": "n", "message": "m"}', "text/plain", 415, "JSON"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "mentions"), BAD_ALERTS)
def test_bad_alert_is_rejected_and_stores_nothing(client, live, body, content_type, status, mentions):
    response = post(client, "/api/v1/alerts", body, content_type)
    assert response.status_code == status and response.is_json
    assert mentions in json.dumps(response.get_json())
    assert live.store.latest_id() == 0


def test_resolve_sets_ended_at_logs_an_event_and_is_idempotent(client, live):
    alert_id = raise_one(client)
    response = post(client, f"/api/v1/alerts/{alert_id}/resolve")
    assert response.status_code == 200
    alert = response.get_json()
    assert alert["state"] == "resolved" and alert["ended_at"] >= alert["started_at"]
    assert alerts.get(live.store, alert_id) == alert
    assert live.store.since(0)[-1].data["message"] == "Resolved: backup"
    latest = live.store.latest_id()
    again = post(client, f"/api/v1/alerts/{alert_id}/resolve")
    assert again.status_code == 200 and again.get_json() == alert
    assert live.store.latest_id() == latest


@pytest.mark.parametrize("action", ["resolve", "ack"])
def test_unknown_id_is_404_json_and_stores_nothing(client, live, action):
    response = post(client, f"/api/v1/alerts/nosuch/{action}")
    assert response.status_code == 404 and response.is_json
    assert "nosuch" in response.get_json()["error"]
    assert live.store.latest_id() == 0


def test_ack_records_who_and_when(client, live):
    alert_id = raise_one(client)
    response = post(client, f"/api/v1/alerts/{alert_id}/ack")
    assert response.status_code == 200
    alert = response.get_json()
    # Who: the credential's holder, here the loopback rule's local admin.
    assert alert["acked_by"] == "local" and alert["acked_at"] > 0 and alert["state"] == "firing"
    assert alerts.get(live.store, alert_id)["acked_by"] == "local"


def test_ack_takes_no_body_or_an_empty_one(client, live):
    alert_id = raise_one(client)
    assert post(client, f"/api/v1/alerts/{alert_id}/ack", {}).get_json()["acked_by"] == "local"


@pytest.mark.parametrize(("body", "content_type", "status"), [
    ({"by": "alice"}, "application/json", 422),
    ({"by": 3}, "application/json", 422),
    ({"who": "x"}, "application/json", 422),
    ("by=x", "application/x-www-form-urlencoded", 415),
    ("[1]", "application/json", 400),
])
def test_bad_ack_is_rejected_and_stores_nothing(client, live, body, content_type, status):
    alert_id = raise_one(client)
    latest = live.store.latest_id()
    response = post(client, f"/api/v1/alerts/{alert_id}/ack", body, content_type)
    assert response.status_code == status and response.is_json
    assert live.store.latest_id() == latest
    assert "acked_by" not in alerts.get(live.store, alert_id)


def test_list_filters_by_state(client):
    first = raise_one(client, name="first")
    second = raise_one(client, name="second")
    post(client, f"/api/v1/alerts/{first}/resolve")
    everything = client.get("/api/v1/alerts").get_json()
    assert [a["id"] for a in everything] == [second, first]
    assert [a["id"] for a in client.get("/api/v1/alerts?state=firing").get_json()] == [second]
    assert [a["id"] for a in client.get("/api/v1/alerts?state=resolved").get_json()] == [first]
    bad = client.get("/api/v1/alerts?state=open")
    assert bad.status_code == 400 and bad.is_json


def test_list_is_empty_without_alerts(client):
    response = client.get("/api/v1/alerts")
    assert response.status_code == 200 and response.get_json() == []


def test_writes_need_the_token_when_one_is_set(make_app):
    app = make_app(INGEST_TOKEN="s3cret-s3cret-s3cret")
    client = app.test_client()
    body = {"name": "n", "message": "m"}
    assert client.post("/api/v1/alerts", json=body).status_code == 401
    assert client.post("/api/v1/alerts/x/ack").status_code == 401
    assert client.post("/api/v1/alerts/x/resolve").status_code == 401
    ok = client.post("/api/v1/alerts", json=body, headers={"Authorization": "Bearer s3cret-s3cret-s3cret"})
    assert ok.status_code == 201


# -- the page's button -----------------------------------------------------------------------

def test_page_ack_records_who_and_answers_204(client, live):
    alert_id = raise_one(client)
    response = client.post(f"/ui/alerts/{alert_id}/ack",
                           headers={"HX-Request": "true", "Origin": "http://localhost"})
    assert response.status_code == 204 and response.data == b""
    stored = alerts.get(live.store, alert_id)
    assert stored["acked_by"] == "local" and stored["acked_at"] > 0


def test_page_ack_of_an_unknown_alert_is_404_text_for_htmx(client, live):
    response = client.post("/ui/alerts/nosuch/ack",
                           headers={"HX-Request": "true", "Origin": "http://localhost"})
    assert response.status_code == 404
    assert b'class="error"' in response.data
    assert live.store.latest_id() == 0
