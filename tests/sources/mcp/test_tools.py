"""The MCP server's tools and resources, through the SDK's own client over stdio, against a real
gunicorn: what each gives, the schemas of the tool list, and the errors an agent can act on
(dashboard unreachable, key refused, scope missing, unknown host, bad range), each one line."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time

import jsonschema
import pytest
from mcp.shared.exceptions import MCPError

from app.domain.history import HISTORY_KEYS, RANGES
from app.sources.mcp import reading
from tests.sources.mcp.client import AGENT, Dashboard, connect, error, mcp_server, ok, run
from tests.servers import ROOT, Server, free_port

pytestmark = pytest.mark.server

NOW = time.time()
#: web-1's samples: one a second over the last 5 minutes, CPU 10-50 %.
CPUS = [10.0 + i % 41 for i in range(300)]
DISKS = [{"mount": "/", "device": "/dev/sda1", "fstype": "ext4", "percent": 61.0,
          "used": 61 << 30, "total": 100 << 30}]
PROCESSES = [{"pid": 10 + n, "name": f"worker-{n}", "user": "www", "cpu_percent": 5.0 * n,
              "mem_percent": 10.0 - n, "rss": (10 - n) << 20, "state": "running",
              "runtime": 60.0 * n} for n in range(1, 6)]
#: The units each tool's description must name (besides any others).
UNITS = {"list_hosts": ("percent", "Unix seconds", "seconds"),
         "host_status": ("percent", "bytes", "bytes per second", "°C", "seconds"),
         "top_processes": ("percent", "bytes", "seconds"),
         "containers": ("percent", "bytes", "bytes per second", "seconds"),
         "history": ("percent", "bytes", "Unix seconds"),
         "list_alerts": ("percent", "Unix seconds"),
         "post_event": ("characters", "Unix seconds"),
         "report_task": ("percent", "seconds", "Unix seconds"),
         "request_approval": ("seconds", "Unix seconds")}


def sample(host: str, ts: float, cpu: float, **extra) -> dict:
    return {"host": host, "ts": ts, "cpu_percent": cpu, "cpu_count": 4, "mem_percent": 40.0,
            "mem_used": 4 << 30, "mem_total": 8 << 30, "disk_percent": 50.0,
            "disk_used": 50 << 30, "disk_total": 100 << 30, "net_rx_bps": 1536.0,
            "net_tx_bps": 0.0, "load1": 0.5, "load5": 0.4, "load15": 0.3, "uptime": 93784,
            "temperature": 48.5, **extra}


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    """A dashboard that knows web-1 (calm, 300 samples, disks and processes) and web-2 (hot,
    its cpu-hot alert firing), and an alert a program raised."""
    store = tmp_path_factory.mktemp("mcp") / "store.sqlite3"
    with Dashboard(f"sqlite:///{store}") as srv:
        samples = [sample("web-1", NOW - 299 + i, cpu) for i, cpu in enumerate(CPUS)]
        samples[-1].update(disks=DISKS, processes=PROCESSES)
        posted = srv.api("POST", "/api/v1/samples", "agent", json={"samples": samples})
        assert posted.status_code == 202, posted.text
        deadline = time.monotonic() + 30  # the rule runner takes its lease at start
        while not srv.api("GET", "/api/v1/alerts?state=firing").json():
            assert time.monotonic() < deadline, "cpu-hot did not fire"
            srv.api("POST", "/api/v1/samples", "agent",
                    json={"samples": [sample("web-2", time.time(), 97.0)]})
            time.sleep(0.2)
        raised = srv.api("POST", "/api/v1/alerts", "agent", json={
            "name": "backup-late", "level": "warning", "message": "no backup since Monday"})
        assert raised.status_code == 201
        while {"web-1", "web-2"} - {h["name"] for h in srv.api("GET", "/api/v1/hosts").json()}:
            time.sleep(0.05)
        yield srv


def call(params, *calls):
    """Run ``calls`` ((tool, arguments), ...) in one session; their results, in order."""
    async def go():
        async with connect(params) as session:
            return [await session.call_tool(name, arguments) for name, arguments in calls]

    return run(go)


def agent(dashboard, key="agent"):
    return mcp_server(dashboard.url, dashboard.keys[key])


def test_the_tool_list_validates_and_every_description_names_its_units(dashboard):
    async def go():
        async with connect(agent(dashboard)) as session:
            return (await session.list_tools()).tools, (await session.list_resources()).resources

    listed, resources = run(go)
    assert {tool.name for tool in listed} == set(UNITS)
    for tool in listed:
        jsonschema.validators.validator_for(tool.input_schema).check_schema(tool.input_schema)
        if tool.output_schema is not None:
            jsonschema.Draft202012Validator.check_schema(tool.output_schema)
        assert tool.input_schema["type"] == "object"
        for unit in UNITS[tool.name]:
            assert unit in tool.description, (tool.name, unit)
        for name, spec in tool.input_schema["properties"].items():
            assert spec.get("description"), (tool.name, name)  # an agent knows what to send
        assert tool.annotations.read_only_hint == (tool.name not in (
            "post_event", "report_task", "request_approval"))
    schemas = {tool.name: tool.input_schema for tool in listed}
    # What the tests below send passes; what the dashboard would refuse mostly does not.
    jsonschema.validate({"metric": "mem_percent", "range": "24h"}, schemas["history"])
    for bad in ({"range": "2y"}, {"start": -1}, {"host": "no spaces"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schemas["history"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"title": "x", "timeout_seconds": 5}, schemas["request_approval"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"task_id": "a b", "state": "running", "progress": 1},
                            schemas["report_task"])
    assert {(r.uri, r.mime_type) for r in resources} == {
        ("dashboard://hosts", "application/json"),
        ("dashboard://alerts/firing", "application/json")}


def test_the_tools_keep_to_the_dashboards_ranges_and_metrics():
    assert reading.RANGES == tuple(RANGES) and reading.HISTORY_METRICS == HISTORY_KEYS


def test_list_hosts_and_host_status(dashboard):
    listed, status, one = call(agent(dashboard), ("list_hosts", {}), ("host_status", {
        "host": "web-1"}), ("list_hosts", {"limit": 1}))
    listed = ok(listed)
    names = [host["name"] for host in listed["hosts"]]
    assert names[0] == "web-2" and "web-1" in names  # the one that needs attention first
    assert listed["count"] == len(names) == 3  # and the dashboard's own, never seen
    web2 = listed["hosts"][0]
    assert web2["level"] == "critical" and web2["alerts"] == ["cpu-hot"]
    assert web2["cpu_percent"] == 97.0 and 0 <= web2["seen_seconds_ago"] < 60
    assert ok(one)["count"] == 3 and [h["name"] for h in ok(one)["hosts"]] == ["web-2"]

    status = ok(status)
    assert status["name"] == "web-1" and status["level"] == "ok" and not status["stale"]
    assert status["figures"]["cpu_percent"] == CPUS[-1]
    assert status["figures"]["mem_used"] == 4 << 30 and status["units"]["mem_used"] == "bytes"
    assert status["units"]["cpu_percent"] == "percent"
    assert status["units"]["temperature"] == "°C"
    assert status["disks"] == DISKS and status["firing"] == []
    assert "processes" not in status and "logical_cpus_busy_percent" not in status


def test_host_status_has_the_firing_alerts(dashboard):
    [status] = call(agent(dashboard), ("host_status", {"host": "web-2"}))
    [alert] = ok(status)["firing"]
    assert (alert["name"], alert["level"], alert["host"], alert["metric"]) == (
        "cpu-hot", "critical", "web-2", "cpu_percent")
    assert alert["value"] == 97.0 and alert["started_at"] > NOW - 60


def test_top_processes(dashboard):
    by_cpu, by_mem = call(agent(dashboard), ("top_processes", {"host": "web-1", "limit": 2}),
                          ("top_processes", {"host": "web-1", "sort": "mem"}))
    by_cpu, by_mem = ok(by_cpu), ok(by_mem)
    assert [p["name"] for p in by_cpu["processes"]] == ["worker-5", "worker-4"]
    assert by_cpu["count"] == 5 and by_cpu["taken_at"] == pytest.approx(NOW, abs=1)
    first = by_cpu["processes"][0]
    assert {key: first[key] for key in PROCESSES[4]} == PROCESSES[4]
    assert [p["name"] for p in by_mem["processes"]] == [f"worker-{n}" for n in range(1, 6)]


def test_history_is_a_summary_and_at_most_100_points(dashboard):
    last5, empty = call(agent(dashboard),
                        ("history", {"host": "web-1", "metric": "cpu_percent", "range": "1h"}),
                        ("history", {"host": "web-1", "start": NOW - 86400 * 3,
                                     "end": NOW - 86400 * 2}))
    last5 = ok(last5)
    assert (last5["host"], last5["metric"], last5["unit"]) == ("web-1", "cpu_percent", "percent")
    assert last5["samples"] == len(CPUS)
    assert (last5["min"], last5["max"]) == (min(CPUS), max(CPUS))
    assert last5["avg"] == pytest.approx(sum(CPUS) / len(CPUS), abs=0.01)
    assert 50 <= len(last5["points"]) <= reading.MAX_POINTS  # 300 raw samples, merged
    points = last5["points"]
    assert [p["t"] for p in points] == sorted(p["t"] for p in points)
    assert points[0]["t"] == math.floor(NOW - 299)  # the raw tier keeps whole seconds
    assert all(p["min"] <= p["avg"] <= p["max"] for p in points)
    empty = ok(empty)
    assert empty["points"] == [] and empty["samples"] == 0 and empty["avg"] is None


def test_list_alerts_and_the_resources(dashboard):
    async def go():
        async with connect(agent(dashboard)) as session:
            firing = await session.call_tool("list_alerts", {})
            mine = await session.call_tool("list_alerts", {"state": "all", "host": "web-2"})
            one = await session.call_tool("list_alerts", {"limit": 1})
            hosts = await session.read_resource("dashboard://hosts")
            alerts = await session.read_resource("dashboard://alerts/firing")
            return firing, mine, one, hosts, alerts

    firing, mine, one, hosts, alerts = run(go)
    firing = ok(firing)
    assert firing["count"] == 2
    assert {a["name"] for a in firing["alerts"]} == {"cpu-hot", "backup-late"}
    assert [a["name"] for a in ok(mine)["alerts"]] == ["cpu-hot"]
    assert ok(one)["count"] == 2 and len(ok(one)["alerts"]) == 1
    assert ok(one)["alerts"][0]["name"] == "backup-late"  # newest first
    [content] = hosts.contents
    assert content.mime_type == "application/json"
    assert [h["name"] for h in json.loads(content.text)["hosts"]][0] == "web-2"
    [content] = alerts.contents
    assert json.loads(content.text) == firing


def test_post_event_and_report_task(dashboard):
    event, running, done, again = call(
        agent(dashboard),
        ("post_event", {"message": "restarted nginx on web-1", "level": "warning"}),
        ("report_task", {"task_id": "mcp-restart", "state": "running", "progress": 40,
                         "message": "draining", "estimated_seconds": 30}),
        ("report_task", {"task_id": "mcp-restart", "state": "succeeded", "progress": 100}),
        ("report_task", {"task_id": "mcp-restart", "state": "running", "progress": 10}))
    event_id = ok(event)["id"]
    [stored] = [e for e in dashboard.api("GET", "/api/v1/events").json() if e["id"] == event_id]
    assert (stored["message"], stored["level"]) == ("restarted nginx on web-1", "warning")
    assert stored["source"] == f"mcp:{AGENT}@{socket.gethostname()}"
    running = ok(running)
    assert (running["state"], running["progress"], running["message"],
            running["estimated_seconds"]) == ("running", 40.0, "draining", 30.0)
    assert ok(done)["state"] == "succeeded"
    assert dashboard.api("GET", "/api/v1/tasks/mcp-restart").json()["state"] == "succeeded"
    assert "already finished" in error(again)


def test_containers_of_a_host_whose_engine_never_answered(dashboard):
    [answer] = call(agent(dashboard), ("containers", {"host": "web-1"}))
    assert error(answer).startswith("no container list of 'web-1' is known")


def test_a_source_given_to_the_server_is_what_the_page_shows(dashboard):
    params = mcp_server(dashboard.url, dashboard.keys["agent"], "--source", "deploy-agent")
    [event] = call(params, ("post_event", {"message": "from a named agent"}))
    [stored] = [e for e in dashboard.api("GET", "/api/v1/events").json()
                if e["id"] == ok(event)["id"]]
    assert stored["source"] == "deploy-agent"


# -- errors an agent can act on -------------------------------------------------------------

def test_an_unreachable_dashboard(dashboard):
    nowhere = f"http://127.0.0.1:{free_port()}"

    async def go():
        async with connect(mcp_server(nowhere, dashboard.keys["agent"])) as session:
            answers = [await session.call_tool(name, arguments) for name, arguments in (
                ("list_hosts", {}), ("post_event", {"message": "x"}),
                ("request_approval", {"title": "Restart?", "timeout_seconds": 10}))]
            with pytest.raises(MCPError) as failed:
                await session.read_resource("dashboard://hosts")
            return answers, failed.value

    answers, failed = run(go)
    for answer in answers:
        message = error(answer)
        assert message.startswith(f"the dashboard at {nowhere} cannot be reached"), message
        assert "is it running" in message
    assert str(failed).startswith(f"the dashboard at {nowhere} cannot be reached")
    assert "\n" not in str(failed)


def test_a_refused_key_and_no_key(dashboard):
    [wrong] = call(mcp_server(dashboard.url, "not-a-key-of-this-dashboard"), ("list_hosts", {}))
    assert error(wrong).startswith("the dashboard refused the key (HTTP 401")
    assert "DASHBOARD_API_KEY" in error(wrong)
    # Keys exist, so a local client is not trusted without one.
    [none] = call(mcp_server(dashboard.url, None), ("list_hosts", {}))
    assert error(none).startswith("the dashboard wants a key (HTTP 401")


def test_no_key_where_the_dashboard_trusts_local_clients(tmp_path):
    """Nothing configured (no account, key or token): a local client needs no key."""
    with Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path}/s.sqlite3",
                              "DASHBOARD_SAMPLER": "0"}) as srv:
        listed, event = call(mcp_server(srv.url, None), ("list_hosts", {}),
                             ("post_event", {"message": "no key needed here"}))
    assert ok(listed)["count"] == 1 and ok(event)["id"] > 0


def test_a_missing_scope(dashboard):
    event, ask, read = call(agent(dashboard, "reader"), ("post_event", {"message": "x"}),
                            ("request_approval", {"title": "Restart?"}), ("list_hosts", {}))
    assert error(event).startswith("the key lacks the scope this needs (HTTP 403: this needs "
                                   "a key with the ingest scope")
    assert "read, ingest and ask" in error(event)
    assert "ask scope" in error(ask)
    assert ok(read)["count"] == 3
    [hosts] = call(agent(dashboard, "asker"), ("list_hosts", {}))
    assert "read scope" in error(hosts)


def test_an_unknown_host(dashboard):
    answers = call(agent(dashboard), ("host_status", {"host": "web-9"}),
                   ("history", {"host": "web-9"}), ("top_processes", {"host": "web-9"}),
                   ("containers", {"host": "web-9"}))
    for answer in answers:
        assert error(answer).startswith("unknown host 'web-9': list_hosts gives the hosts")
    # No process list of a known host is another matter.
    [none] = call(agent(dashboard), ("top_processes", {"host": "web-2"}))
    assert error(none).startswith("no process list of 'web-2' is known")


def test_a_bad_range(dashboard):
    answers = call(agent(dashboard), ("history", {"range": "2y"}),
                   ("history", {"start": NOW, "end": NOW - 60}),
                   ("history", {"range": "1h", "start": NOW - 60}),
                   ("history", {"end": NOW}),
                   ("history", {"start": 1e12}),
                   ("history", {"metric": "cpu_percnt"}))
    messages = [error(answer) for answer in answers]
    assert messages[0].startswith("bad argument range: Input should be '5m', '1h'")
    assert messages[1].startswith(f"bad range: start ({NOW:g}) is after end")
    assert messages[2] == "bad range: give range, or start (and end), not both"
    assert messages[3] == "bad range: end needs start"
    assert messages[4].startswith("bad range: start (1e+12) is after end (now)")
    assert messages[5].startswith("unknown metric 'cpu_percnt': one of cpu_percent")


# -- how it runs --------------------------------------------------------------------------

def test_flask_mcp_execs_a_clean_interpreter(dashboard, tmp_path):
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    params = mcp_server(dashboard.url, dashboard.keys["agent"],
                        command=[flask, "--app", "wsgi", "mcp"],
                        env={"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path}/cli.sqlite3",
                             "DASHBOARD_SAMPLER": "0"})
    [listed] = call(params, ("list_hosts", {}))
    assert ok(listed)["hosts"][0]["name"] == "web-2"


def test_the_mcp_process_imports_neither_gevent_nor_flask():
    code = ("import sys, app.sources.mcp.cli, app.sources.mcp.server; print(sorted("
            "{m.split('.')[0] for m in sys.modules} & {'gevent', 'flask', 'werkzeug', 'greenlet'}"
            " | {m for m in sys.modules if m.startswith('app.store')}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "[]"
    # And it will not serve beside gevent.
    code = ("import gevent; from app.sources.mcp.cli import main; "
            "main(['--to', 'http://127.0.0.1:1'])")
    refused = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                             text=True, stdin=subprocess.DEVNULL)
    assert refused.returncode == 1 and "gevent is imported in this process" in refused.stderr
