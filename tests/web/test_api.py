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


@pytest.mark.parametrize("body", [
    "[" * 100_000 + "]" * 100_000,                            # past the json module's own limit
    '{"message": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",    # parses, but deeper than allowed
    '{"message": ' + "[" * 40 + "]" * 40 + "}",
])
def test_deeply_nested_json_is_400_and_stores_nothing(client, live, body):
    response = client.post("/api/v1/events", data=body, content_type="application/json")
    assert response.status_code == 400 and "nested" in response.get_json()["error"]
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
    from app.live.sampling import apply_override, override_key

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


# -- GET /api/v1/events ---------------------------------------------------------------------------

def test_events_snapshot_newest_first_with_filters(client, live):
    ids = [post(client, "/api/v1/events", {"level": level, "message": f"m{n}"}).get_json()["id"]
           for n, level in enumerate(["info", "error", "info", "error", "warning"])]
    live.store.append("metrics", {"host": "h"})  # other kinds never show up
    events = client.get("/api/v1/events").get_json()
    assert [e["id"] for e in events] == ids[::-1]
    assert set(events[0]) == {"id", "level", "message", "source", "ts"}
    assert [e["message"] for e in client.get("/api/v1/events?level=error").get_json()] == ["m3", "m1"]
    assert [e["id"] for e in client.get(f"/api/v1/events?since={ids[2]}").get_json()] == ids[:2:-1]
    assert len(client.get("/api/v1/events?limit=2").get_json()) == 2


@pytest.mark.parametrize(("query", "parameter"), [
    ("level=fatal", "level"), ("since=abc", "since"), ("since=-1", "since"),
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"), ("colour=red", "colour"),
])
def test_events_snapshot_rejects_bad_parameters_naming_them(client, query, parameter):
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 400 and response.is_json
    body = response.get_json()
    assert parameter in body["error"]
    assert [d["field"] for d in body["details"]] == [parameter]


def test_tasks_list_rejects_a_bad_limit(client):
    response = client.get("/api/v1/tasks?limit=0")
    assert response.status_code == 400 and "limit" in response.get_json()["error"]


# -- scenarios and the simulated host -----------------------------------------------------------

def test_cpu_spike_overrides_cpu_for_40_seconds(client, live):
    import time

    from app.live.sampling import override_key

    response = client.post("/simulator/scenarios/cpu-spike")
    assert response.status_code == 202
    override = live.store.get_state(override_key(live.settings.host_name))
    assert 97 <= override["values"]["cpu_percent"] <= 99
    assert 38 < override["until"] - time.time() <= 40


def test_network_burst_overrides_network_for_20_seconds(client, live):
    from app.live.sampling import override_key

    assert client.post("/simulator/scenarios/network-burst").status_code == 202
    values = live.store.get_state(override_key(live.settings.host_name))["values"]
    assert values["net_rx_bps"] > 50 * (1 << 20) and values["net_tx_bps"] > 10 * (1 << 20)


def test_alert_storm_appends_about_twenty_serious_events(client, live):
    assert client.post("/simulator/scenarios/alert-storm").status_code == 202
    items = live.store.since(0)
    assert len(items) == 20 and {i.kind for i in items} == {"event"}
    assert {i.data["level"] for i in items} == {"warning", "error", "critical"}


def test_task_run_drives_a_task_to_success_through_the_task_path(app, client, live):
    import time

    import gevent

    app.config["TASK_RUN_SECONDS"] = 0.3
    response = client.post("/simulator/scenarios/task-run")
    assert response.status_code == 202
    task_id = response.get_json()["task_id"]
    assert task_id == "sim-task-1"
    assert client.post("/simulator/scenarios/task-run").get_json()["task_id"] == "sim-task-2"

    def of_task():
        return [(i.data["state"], i.data["progress"]) for i in live.store.since(0)
                if i.kind == "task" and i.data["task_id"] == task_id]

    deadline = time.monotonic() + 10  # the run takes 0.3 s; a busy machine may be slower
    while not (states := of_task()) or states[-1][0] in ("pending", "running"):
        assert time.monotonic() < deadline, states
        gevent.sleep(0.05)
    assert states[0] == ("pending", 0) and states[-1] == ("succeeded", 100)
    running = [p for s, p in states if s == "running"]
    assert running == sorted(running) and running[0] == 0 and running[-1] == 100


def test_scenario_duration_can_be_given(client, live):
    import time

    from app.live.sampling import override_key

    assert post(client, "/simulator/scenarios/cpu-spike", {"seconds": 5}).status_code == 202
    until = live.store.get_state(override_key(live.settings.host_name))["until"]
    assert 4 < until - time.time() <= 5


@pytest.mark.parametrize("body", [{"seconds": 0}, {"seconds": 3601}, {"seconds": "long"}, {"x": 1}])
def test_bad_scenario_duration_is_422_and_starts_nothing(client, live, body):
    from app.live.sampling import override_key

    response = post(client, "/simulator/scenarios/cpu-spike", body)
    assert response.status_code == 422 and response.is_json
    assert live.store.get_state(override_key(live.settings.host_name)) is None


def test_unknown_scenario_is_404_listing_the_names(client, live):
    response = client.post("/simulator/scenarios/meteor")
    assert response.status_code == 404 and response.is_json
    body = response.get_json()
    assert body["scenarios"] == ["cpu-spike", "network-burst", "task-run", "alert-storm",
                                 "history"]
    assert "cpu-spike" in body["error"]
    assert live.store.latest_id() == 0


def test_simulated_host_flag_is_stored_for_every_worker(client, live):
    from app.live.sampling import SIMULATED_HOST_KEY

    assert post(client, "/simulator/host", {"enabled": True}).get_json() == {"enabled": True}
    assert live.store.get_state(SIMULATED_HOST_KEY) == {"enabled": True}
    assert post(client, "/simulator/host", {"enabled": False}).status_code == 200
    assert live.store.get_state(SIMULATED_HOST_KEY) == {"enabled": False}


@pytest.mark.parametrize("body", [{}, {"enabled": "maybe"}, {"enabled": True, "x": 1}])
def test_simulated_host_rejects_bad_bodies(client, live, body):
    from app.live.sampling import SIMULATED_HOST_KEY

    response = post(client, "/simulator/host", body)
    assert response.status_code == 422
    assert live.store.get_state(SIMULATED_HOST_KEY) is None and live.store.latest_id() == 0


def test_sampler_uses_the_simulated_host_while_enabled(make_app):
    import time

    import gevent

    app = make_app(SAMPLER=True, SAMPLE_INTERVAL=0.05)
    client = app.test_client()
    post(client, "/simulator/host", {"enabled": True})
    live = app.extensions["dashboard"]
    deadline = time.monotonic() + 10  # a few samples; a busy machine may take longer
    while not ((sample := live.store.get_state(f"sample:{live.settings.host_name}"))
               and sample.get("simulated") and "simulated" in live.view.html["simulator"]):
        assert time.monotonic() < deadline, sample
        gevent.sleep(0.05)
    assert sample["simulated"] is True and sample["mem_total"] == 16 << 30
    assert "simulated" in live.view.html["simulator"]
