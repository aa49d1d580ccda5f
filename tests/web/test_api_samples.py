"""``POST /api/v1/samples``: agents' host samples become ``metrics`` items and ``sample:<host>``."""

import json

import pytest

from app.sources.sample import METRICS
from app.sources.sampler import HostSampler
from app.domain.schemas import SampleIn
from app.sources.sample import MAX_SAMPLES


def agent_sample(host="agent-1", **values):
    return {"host": host, "ts": 1_700_000_000.5, "cpu_percent": 12.5, "cpu_count": 4,
            "mem_percent": 40.0, "mem_used": 4 << 30, "mem_total": 8 << 30, "disk_percent": 50.0,
            "disk_used": 50 << 30, "disk_total": 100 << 30, "net_rx_bps": 1536.0,
            "net_tx_bps": 0.0, "load1": 0.5, "load5": 0.4, "load15": 0.3, "uptime": 93784,
            "temperature": None, **values}


def post(client, body, content_type="application/json", **headers):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post("/api/v1/samples", data=data, content_type=content_type, headers=headers)


def test_the_schema_has_exactly_the_samplers_keys():
    assert set(SampleIn.model_fields) == {"host", "ts", *METRICS}
    # What the agent sends, from the same sampler code, passes as it is.
    SampleIn.model_validate(HostSampler("agent-1").sample())


def test_samples_become_metrics_items_and_the_latest_state(client, live):
    body = {"samples": [agent_sample(cpu_percent=10.0), agent_sample(cpu_percent=20.0),
                        agent_sample("agent-2", temperature=41.5)]}
    response = post(client, body)
    assert response.status_code == 202
    ids = response.get_json()["ids"]
    assert response.get_json()["count"] == 3 and ids == sorted(ids)
    items = live.store.since(0)
    assert [i.id for i in items] == ids and {i.kind for i in items} == {"metrics"}
    assert items[0].data == {**agent_sample(cpu_percent=10.0), "mem_used": float(4 << 30),
                             "mem_total": float(8 << 30), "disk_used": float(50 << 30),
                             "disk_total": float(100 << 30), "uptime": 93784.0}
    assert live.store.get_state("sample:agent-1")["cpu_percent"] == 20.0  # the newest
    assert live.store.get_state("sample:agent-2")["temperature"] == 41.5
    hosts = client.get("/api/v1/metrics").get_json()["hosts"]
    assert {"agent-1", "agent-2"} <= set(hosts)


def test_a_pushed_host_gets_a_page(client, live):
    from tests.web.test_poll import settle

    settle(live, post(client, {"samples": [agent_sample()]}).get_json()["ids"][-1])
    response = client.get("/fragments/cpu?host=agent-1")
    assert response.status_code == 200 and '<span class="number">12.5</span>' in response.text


BAD = [
    ({"samples": []}, "samples"),
    ({"samples": [agent_sample()] * (MAX_SAMPLES + 1)}, "samples"),
    ({"samples": agent_sample()}, "samples"),
    ({}, "samples"),
    ({"samples": [agent_sample()], "extra": 1}, "extra"),
    ({"samples": [agent_sample(colour="red")]}, "samples.0.colour"),
    ({"samples": [agent_sample(), {k: v for k, v in agent_sample().items() if k != "load5"}]},
     "samples.1.load5"),
    ({"samples": [{k: v for k, v in agent_sample().items() if k != "temperature"}]},
     "samples.0.temperature"),
    ({"samples": [{k: v for k, v in agent_sample().items() if k != "ts"}]}, "samples.0.ts"),
    ({"samples": [agent_sample(host="")]}, "samples.0.host"),
    ({"samples": [agent_sample(host="a" * 254)]}, "samples.0.host"),
    ({"samples": [agent_sample(host="web 1")]}, "samples.0.host"),
    ({"samples": [agent_sample(host="<b>")]}, "samples.0.host"),
    ({"samples": [agent_sample(host=".hidden")]}, "samples.0.host"),
    ({"samples": [agent_sample(host="web/1")]}, "samples.0.host"),
    ({"samples": [agent_sample(host=5)]}, "samples.0.host"),
    ({"samples": [agent_sample(cpu_percent="12")]}, "samples.0.cpu_percent"),
    ({"samples": [agent_sample(cpu_percent=True)]}, "samples.0.cpu_percent"),
    ({"samples": [agent_sample(cpu_percent=None)]}, "samples.0.cpu_percent"),
    ({"samples": [agent_sample(cpu_percent=100.5)]}, "samples.0.cpu_percent"),
    ({"samples": [agent_sample(mem_percent=-1)]}, "samples.0.mem_percent"),
    ({"samples": [agent_sample(net_rx_bps=-5)]}, "samples.0.net_rx_bps"),
    ({"samples": [agent_sample(cpu_count=0)]}, "samples.0.cpu_count"),
    ({"samples": [agent_sample(cpu_count=2.5)]}, "samples.0.cpu_count"),
    ({"samples": [agent_sample(ts=0)]}, "samples.0.ts"),
    ({"samples": [agent_sample(temperature=-300)]}, "samples.0.temperature"),
    ('{"samples": [%s]}' % json.dumps(agent_sample()).replace('"load1": 0.5', '"load1": NaN'),
     "samples.0.load1"),
    ('{"samples": [%s]}' % json.dumps(agent_sample()).replace('"load1": 0.5', '"load1": Infinity'),
     "samples.0.load1"),
    ('{"samples": [%s]}' % json.dumps(agent_sample()).replace('"load1": 0.5', '"load1": 1e999'),
     "samples.0.load1"),
]


@pytest.mark.parametrize(("body", "field"), BAD)
def test_a_bad_sample_is_422_with_its_field_path_and_stores_nothing(client, live, body, field):
    response = post(client, body)
    assert response.status_code == 422, response.get_json()
    fields = [d["field"] for d in response.get_json()["details"]]
    assert any(f == field or f.startswith(field + ".") for f in fields), fields
    assert live.store.latest_id() == 0


@pytest.mark.parametrize(("body", "content_type", "status"), [
    ("host=x", "application/x-www-form-urlencoded", 415),
    ("{", "application/json", 400),
    ("[1]", "application/json", 400),
])
def test_a_body_that_is_not_a_json_object_is_refused(client, live, body, content_type, status):
    assert post(client, body, content_type).status_code == status
    assert live.store.latest_id() == 0


def test_a_body_over_the_size_limit_is_413(make_app):
    app = make_app(MAX_BODY=1000)
    response = post(app.test_client(), {"samples": [agent_sample()] * 5})
    assert response.status_code == 413 and response.is_json


def test_a_host_that_a_dashboard_samples_is_409_and_nothing_is_stored(client, live):
    live.store.lease("sampler:web-1", "web-1:123:abc", ttl=30)  # web-1's dashboard samples it
    response = post(client, {"samples": [agent_sample("ok-1"), agent_sample("web-1")]})
    assert response.status_code == 409
    body = response.get_json()
    assert "web-1" in body["error"] and "--host" in body["error"]
    assert body["details"] == [{"field": "samples.1.host", "message": "sampled by a dashboard"}]
    assert live.store.latest_id() == 0
    assert post(client, {"samples": [agent_sample("ok-1")]}).status_code == 202


def test_the_receiving_dashboards_own_host_is_409_while_it_samples(make_app):
    app = make_app(SAMPLER=True, HOST_NAME="self-1")
    response = post(app.test_client(), {"samples": [agent_sample("self-1")]})
    assert response.status_code == 409
    # With its sampler off (a dashboard that only shows agents) the name is free.
    other = make_app(SAMPLER=False, HOST_NAME="self-1")
    assert post(other.test_client(), {"samples": [agent_sample("self-1")]}).status_code == 202


def test_a_token_guards_the_endpoint(make_app):
    client = make_app(INGEST_TOKEN="s3cret-s3cret-s3cret").test_client()
    assert post(client, {"samples": [agent_sample()]}).status_code == 401
    assert post(client, {"samples": [agent_sample()]},
                Authorization="Bearer wrong").status_code == 401
    assert post(client, {"samples": [agent_sample()]},
                Authorization="Bearer s3cret-s3cret-s3cret").status_code == 202
