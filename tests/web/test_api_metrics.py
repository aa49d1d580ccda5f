"""Custom metrics: ``POST /api/v1/metrics`` stores one item and the latest state, ``GET`` reads it."""

import json
import time

import pytest

from app.domain import custom


def post(client, body, content_type="application/json"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/v1/metrics", data=data, content_type=content_type)


QUEUE = {"name": "queue_depth", "value": 12, "type": "gauge", "unit": "jobs",
         "labels": {"queue": "mail"}}


def test_metrics_are_stored_as_one_item_and_the_latest_state(client, live):
    response = post(client, {"metrics": [QUEUE, {"name": "jobs_done_total", "value": 3,
                                                 "type": "counter"}]})
    assert response.status_code == 202
    assert response.get_json()["count"] == 2
    [item] = live.store.since(0)
    assert item.kind == "custom" and item.id == response.get_json()["id"]
    assert [m["key"] for m in item.data["metrics"]] == ['queue_depth{queue="mail"}', "jobs_done_total"]
    latest = custom.latest(live.store)
    assert latest['queue_depth{queue="mail"}']["value"] == 12.0
    assert latest["jobs_done_total"]["type"] == "counter" and latest["jobs_done_total"]["unit"] == ""


def test_get_returns_the_latest_of_each_series_and_host_samples(client, live):
    post(client, {"metrics": [QUEUE]})
    post(client, {"metrics": [{**QUEUE, "value": 7}, {**QUEUE, "labels": {"queue": "sms"}}]})
    live.store.append("metrics", {"host": "h1", "cpu_percent": 5.0}, state_key="sample:h1")
    body = client.get("/api/v1/metrics").get_json()
    assert body["hosts"] == {"h1": {"host": "h1", "cpu_percent": 5.0}}
    assert [(r["key"], r["value"]) for r in body["custom"]] == [
        ('queue_depth{queue="mail"}', 7.0), ('queue_depth{queue="sms"}', 12.0)]


BAD = [
    ({"metrics": []}, 422, "metrics"),
    ({"metrics": [{"value": 1}]}, 422, "name"),
    ({"metrics": [{"name": "9lives", "value": 1}]}, 422, "name"),
    ({"metrics": [{"name": "a-b", "value": 1}]}, 422, "name"),
    ({"metrics": [{"name": "ok", "value": "many"}]}, 422, "value"),
    ({"metrics": [{"name": "ok", "value": 1, "type": "histogram"}]}, 422, "type"),
    ({"metrics": [{"name": "ok", "value": 1, "labels": {"q": 5}}]}, 422, "labels"),
    ({"metrics": [{"name": "ok", "value": 1, "labels": {"bad-name": "x"}}]}, 422, "labels"),
    ({"metrics": [{"name": "ok", "value": 1, "labels": ["x"]}]}, 422, "labels"),
    ({"metrics": [{"name": "ok", "value": 1, "colour": "red"}]}, 422, "colour"),
    ({"metrics": [{"name": "ok", "value": 1}] * 1001}, 422, "metrics"),
    ({"metrics": {"name": "ok", "value": 1}}, 422, "metrics"),
    ('{"metrics": [{"name": "ok", "value": NaN}]}', 422, "value"),
    ('{"metrics": [{"name": "ok", "value": Infinity}]}', 422, "value"),
    ('{"metrics": [{"name": "ok", "value": 1e999}]}', 422, "value"),
    ("{", 400, "JSON"),
    ("3", 400, "object"),
]


@pytest.mark.parametrize(("body", "status", "mentions"), BAD)
def test_bad_metrics_are_rejected_and_store_nothing(client, live, body, status, mentions):
    response = post(client, body)
    assert response.status_code == status and response.is_json
    assert mentions in json.dumps(response.get_json())
    assert live.store.latest_id() == 0
    assert custom.latest(live.store) == {}


def test_not_json_is_415(client, live):
    assert post(client, "name=x", "application/x-www-form-urlencoded").status_code == 415
    assert live.store.latest_id() == 0


def test_too_many_series_is_409_and_stores_nothing(client, live):
    many = [{"name": "m", "value": 1, "labels": {"n": str(n)}} for n in range(custom.MAX_SERIES)]
    assert post(client, {"metrics": many}).status_code == 202
    latest = live.store.latest_id()
    response = post(client, {"metrics": [{"name": "one_more", "value": 1}]})
    assert response.status_code == 409 and "series" in response.get_json()["error"]
    assert live.store.latest_id() == latest
    assert "one_more" not in custom.latest(live.store)
    assert post(client, {"metrics": [{"name": "m", "value": 2, "labels": {"n": "0"}}]}).status_code == 202


def test_custom_region_appears_with_the_first_metric(client, live):
    live.view.load(live.store)
    assert 'id="custom"' in live.view.html["custom"] and "hidden" in live.view.html["custom"]
    post(client, {"metrics": [QUEUE, {**QUEUE, "name": "evil", "unit": "<b>",
                                      "labels": {"q": "<script>"}}]})
    post(client, {"metrics": [{**QUEUE, "value": 14}]})
    live.view.unwatched = False  # as while someone streams it: apply renders what changed
    assert "custom" in live.view.apply(live.store.since(0))
    html = live.view.html["custom"]
    assert "hidden" not in html and 'hx-swap-oob="true"' in html
    assert html.count('class="card custom-metric"') == 2
    assert '<span class="number">14</span> <span class="unit">jobs</span>' in html
    assert "queue=mail" in html
    assert "<script>" not in html and "<b>" not in html
    # Each series has its chart in the panel, with its readings of the last 5 minutes.
    live.view.panel._slot = None
    live.view.tick(live.store, time.time())
    charts = live.view.html["charts"]
    assert "last 5 minutes: latest 14 jobs; min 12 jobs, max 14 jobs" in charts
    assert "<script>" not in charts and "<b>" not in charts
    # Another process loads the same view from the store.
    live.view.load(live.store)
    assert live.view.html["custom"] == html


def test_label_sets_that_read_alike_stay_two_series(client, live):
    tricky = {**QUEUE, "labels": {"a": 'x",b="y'}, "value": 1}
    plain = {**QUEUE, "labels": {"a": "x", "b": "y"}, "value": 2}
    assert post(client, {"metrics": [tricky, plain]}).status_code == 202
    latest = custom.latest(live.store)
    assert len(latest) == 2 and {r["value"] for r in latest.values()} == {1.0, 2.0}
    assert 'queue_depth{a="x\\",b=\\"y"}' in latest
