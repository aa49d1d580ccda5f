"""``POST /api/v1/samples``: agents' host samples become ``metrics`` items and ``sample:<host>``."""

import json

import pytest

from app.domain.hostsample import CpuTimes, SampleIn
from app.sources.sample import (CPU_MODES, DETAIL_KEYS, MAX_CORES, MAX_DISKS, MAX_INTERFACES,
                                MAX_PROCESSES, MAX_SAMPLES, MAX_SENSORS, METRICS)
from app.sources.sampler import HostSampler
from app.sources.simhost import SimulatedHost


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
    assert set(SampleIn.model_fields) == {"host", "ts", *METRICS, *DETAIL_KEYS, "processes",
                                         "containers"}
    assert tuple(CpuTimes.model_fields) == CPU_MODES
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

DISK = {"mount": "/var", "device": "/dev/sda1", "fstype": "xfs", "percent": 70.0,
        "used": 70, "total": 100}
IO = {"device": "sda", "read_bps": 1.0, "write_bps": 2.0, "read_iops": 0.0, "write_iops": 1.0,
      "busy_percent": 3.0}
NIC = {"name": "eth0", "rx_bps": 10.0, "tx_bps": 5.0, "errors": 0, "drops": 1, "up": True}
SENSOR = {"label": "coretemp Core 0", "celsius": 50.0, "high": 80.0, "critical": 100.0}
PROC = {"pid": 1, "name": "init", "user": "root", "cpu_percent": 0.5, "mem_percent": 0.1,
        "rss": 1000, "state": "sleeping", "runtime": 60}


def nan(key, path):
    """A sample whose ``key`` holds a JSON NaN at ``path`` (a JSON fragment in place of 0.5)."""
    return ('{"samples": [%s]}' % json.dumps(agent_sample(**{key: "@"})).replace('"@"', path))


#: The new keys: too many entries, non-finite, negative or out of range, bad names.
BAD_DETAILS = [
    (agent_sample(cpu_cores=[1.0] * (MAX_CORES + 1)), "samples.0.cpu_cores"),
    (agent_sample(disks=[DISK] * (MAX_DISKS + 1)), "samples.0.disks"),
    (agent_sample(disk_io=[IO] * (MAX_DISKS + 1)), "samples.0.disk_io"),
    (agent_sample(interfaces=[NIC] * (MAX_INTERFACES + 1)), "samples.0.interfaces"),
    (agent_sample(sensors=[SENSOR] * (MAX_SENSORS + 1)), "samples.0.sensors"),
    (agent_sample(processes=[PROC] * (MAX_PROCESSES + 1)), "samples.0.processes"),
    (nan("cpu_cores", "[1.0, NaN]"), "samples.0.cpu_cores.1"),
    (nan("cpu_times", '{"user": NaN}'), "samples.0.cpu_times.user"),
    (nan("disk_io", json.dumps([IO]).replace('"read_bps": 1.0', '"read_bps": Infinity')),
     "samples.0.disk_io.0.read_bps"),
    (nan("sensors", json.dumps([SENSOR]).replace('"celsius": 50.0', '"celsius": NaN')),
     "samples.0.sensors.0.celsius"),
    (agent_sample(swap_percent=-1.0), "samples.0.swap_percent"),
    (agent_sample(swap_used=-5), "samples.0.swap_used"),
    (agent_sample(cpu_cores=[101.0]), "samples.0.cpu_cores.0"),
    (agent_sample(cpu_times={"user": 50.0, "turbo": 1.0}), "samples.0.cpu_times.turbo"),
    (agent_sample(disks=[{**DISK, "percent": -0.1}]), "samples.0.disks.0.percent"),
    (agent_sample(disk_io=[{**IO, "write_bps": -1}]), "samples.0.disk_io.0.write_bps"),
    (agent_sample(interfaces=[{**NIC, "drops": -1}]), "samples.0.interfaces.0.drops"),
    (agent_sample(interfaces=[{**NIC, "up": "yes"}]), "samples.0.interfaces.0.up"),
    (agent_sample(processes=[{**PROC, "rss": -1}]), "samples.0.processes.0.rss"),
    (agent_sample(processes=[{**PROC, "pid": -1}]), "samples.0.processes.0.pid"),
    (agent_sample(disks=[{**DISK, "mount": "var"}]), "samples.0.disks.0.mount"),
    (agent_sample(disks=[{**DISK, "device": ""}]), "samples.0.disks.0.device"),
    (agent_sample(interfaces=[{**NIC, "name": "eth0\n<b>"}]), "samples.0.interfaces.0.name"),
    (agent_sample(interfaces=[{**NIC, "name": "x" * 101}]), "samples.0.interfaces.0.name"),
    (agent_sample(sensors=[{**SENSOR, "label": "a\tb"}]), "samples.0.sensors.0.label"),
    (agent_sample(disks=[{**DISK, "colour": "red"}]), "samples.0.disks.0.colour"),
]
BAD += [({"samples": [body]} if isinstance(body, dict) else body, field)
        for body, field in BAD_DETAILS]


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


def test_new_keys_are_stored_as_sent_and_an_older_agents_sample_lacks_them(client, live):
    full = agent_sample("agent-new", swap_percent=1.5, swap_used=10, swap_total=100,
                        cpu_cores=[1.0, 2.0], cpu_times={"user": 1.0, "idle": 99.0},
                        disks=[DISK], disk_io=[IO], interfaces=[NIC], sensors=[SENSOR])
    assert post(client, {"samples": [full, agent_sample("agent-old")]}).status_code == 202
    new = live.store.get_state("sample:agent-new")
    assert new["disks"] == [{**DISK, "used": 70.0, "total": 100.0}]
    assert new["cpu_times"] == {"user": 1.0, "idle": 99.0} and new["sensors"] == [SENSOR]
    assert "processes" not in new
    old = live.store.get_state("sample:agent-old")
    assert not set(DETAIL_KEYS) & set(old) and "swap_percent" not in old


def test_the_simulated_host_and_this_host_pass_as_they_are(client):
    sim = {k: v for k, v in SimulatedHost("sim-1", seed=1).sample().items() if k != "simulated"}
    assert post(client, {"samples": [sim, HostSampler("agent-1").sample()]}).status_code == 202


def test_an_agents_process_list_is_stored_apart_without_command_lines(client, live):
    rows = [{**PROC, "cmdline": "pg_dump --password=hunter2"}, {**PROC, "pid": 2, "rss": 5000}]
    body = {"samples": [agent_sample(processes=rows[:1]), agent_sample(processes=rows)]}
    assert post(client, body).status_code == 202
    assert [i.kind for i in live.store.since(0)] == ["metrics", "metrics", "processes"]
    stored = live.store.get_state("processes:agent-1")
    assert [p["pid"] for p in stored["processes"]] == [1, 2]  # the latest list of the batch
    assert "hunter2" not in json.dumps(stored)

    listed = client.get("/api/v1/processes?host=agent-1&sort=mem").get_json()
    assert listed["host"] == "agent-1" and [p["pid"] for p in listed["processes"]] == [2, 1]
    assert client.get("/api/v1/processes?host=agent-1").get_json()["processes"][0]["pid"] == 1
    assert client.get("/api/v1/processes?host=nobody").status_code == 404
    assert client.get("/api/v1/processes?sort=name").status_code == 400
    assert client.get("/api/v1/processes?host=a%20b").status_code == 400


def test_command_lines_are_kept_with_show_cmdline(make_app):
    app = make_app(SHOW_CMDLINE=True)
    client = app.test_client()
    body = {"samples": [agent_sample(processes=[{**PROC, "cmdline": "sleep 10"}])]}
    assert post(client, body).status_code == 202
    stored = app.extensions["dashboard"].store.get_state("processes:agent-1")
    assert stored["processes"][0]["cmdline"] == "sleep 10"
