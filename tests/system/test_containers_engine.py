"""Containers against a real engine: a throw-away dockerd (``tests.docker_engine``) read by a
real gunicorn with a gevent worker. Start, stop, kill, an unhealthy health check, a restart loop
and an out-of-memory kill each reach the feed and the page within 2 s of the engine's doing,
measured on the dashboard's own timestamps (when it stored the event and the list), so that a
slow poll in the test cannot make it pass or fail; a ``container_state`` rule fires and
resolves, and a removed container resolves its alert; an agent run with ``--containers`` sends
its machine's list with figures.

Skipped with the reason where no engine can run (``docker_engine`` in ``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest

from tests.docker_engine import IMAGE
from tests.servers import ROOT, Server, free_port, terminate
from tests.sse_client import SSEClient

pytestmark = [pytest.mark.server, pytest.mark.slow]

FLASK = os.path.join(os.path.dirname(sys.executable), "flask")
#: What the dashboard must do within: the issue's bound, from the engine's doing to stored.
WITHIN = 2.0
#: How long the test waits for anything (a shared 2-core machine; the bound is checked apart).
PATIENCE = 30.0
RULES = [{"metric": "container_state:dash-*", "op": ">", "value": 0, "for": 0,
          "level": "warning", "name": "container-down"}]


def wait_for(predicate, timeout: float = PATIENCE, what: str = "the condition"):
    """Poll ``predicate`` every 0.1 s until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.1)  # a poll's pace, not a wait for something to happen


@pytest.fixture(scope="module")
def dashboard(docker_engine, tmp_path_factory):
    store = tmp_path_factory.mktemp("containers") / "store.sqlite3"
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{store}", "DOCKER_HOST": docker_engine.url,
           "DASHBOARD_HOST_NAME": "engine-host", "DASHBOARD_CONTAINER_INTERVAL": "1",
           "DASHBOARD_ALERT_RULES": json.dumps(RULES)}
    with Server(free_port(), env) as server:
        wait_for(lambda: listed(server.url) is not None, what="the first containers list")
        yield server


@pytest.fixture(scope="module")
def engine(docker_engine):
    client = docker_engine.client()
    yield client
    for container in client.containers.list(all=True):
        container.remove(force=True)
    client.close()


def listed(url: str) -> dict | None:
    answer = httpx.get(url + "/api/v1/containers", timeout=10)
    assert answer.status_code in (200, 404), answer.text
    return answer.json() if answer.status_code == 200 else None


def row(url: str, name: str) -> dict | None:
    found = listed(url)
    return next((r for r in found["containers"] if r["name"] == name), None) if found else None


def stored_when(url: str, name: str, check) -> float:
    """When the dashboard stored the first list whose row ``name`` passes ``check`` (its ``ts``)."""
    found = wait_for(lambda: (lambda f: f and any(
        r["name"] == name and check(r) for r in f["containers"]) and f)(listed(url)),
        what=f"{name} in the list")
    return found["ts"]


def fed(url: str, text: str, after: float) -> float:
    """When the dashboard stored the feed's event whose message holds ``text`` (after ``after``)."""
    def find():
        events = httpx.get(url + "/api/v1/events", params={"limit": 200}, timeout=10).json()
        return next((e["ts"] for e in events if text in e["message"] and e["ts"] >= after), None)
    return wait_for(find, what=f"the event {text!r}")


def shown(url: str, fragment: str, *texts: str) -> str:
    """``/fragments/<fragment>`` once it holds every one of ``texts``: the page follows the
    store once its tailer read the list (up to 0.1 s later under a stream of writes)."""
    def page():
        html = httpx.get(f"{url}/fragments/{fragment}", timeout=10).text
        return html if all(text in html for text in texts) else None
    return wait_for(page, what=f"{texts} on /fragments/{fragment}")


def run(engine, name: str, command: str, **options):
    return engine.containers.run(IMAGE, ["sh", "-c", command], name=name, detach=True,
                                 network_mode="none", **options)


def alert(url: str, state: str) -> dict | None:
    alerts = httpx.get(url + "/api/v1/alerts", timeout=10).json()
    return next((a for a in alerts if a["name"] == "container-down"
                 and a["metric"] == "container_state:dash-web" and a["state"] == state), None)


def test_start_and_stop_reach_the_feed_and_page_and_the_rule_fires_and_resolves(
        dashboard, engine):
    url = dashboard.url
    began = time.time()
    run(engine, "dash-web", "exec sleep 1000")
    done = time.time()
    assert fed(url, "dash-web started", began) - done < WITHIN
    assert stored_when(url, "dash-web", lambda r: r["state"] == "running") - done < WITHIN
    shown(url, "containers", 'data-container="dash-web"', "running")

    began = time.time()
    engine.containers.get("dash-web").stop(timeout=1)
    done = time.time()
    assert fed(url, "dash-web exited with code", began) - done < WITHIN
    assert stored_when(url, "dash-web", lambda r: r["state"] == "exited") - done < WITHIN
    firing = wait_for(lambda: alert(url, "firing"), what="the container-down alert")
    assert "dash-web not running" in firing["message"]
    shown(url, "container-counts", "1 stopped")

    engine.containers.get("dash-web").start()
    wait_for(lambda: alert(url, "resolved"), what="the alert resolved once it runs again")


def test_kill_and_a_removed_container_resolves_its_alert(dashboard, engine):
    url = dashboard.url
    run(engine, "dash-job", "exec sleep 1000")
    stored_when(url, "dash-job", lambda r: r["state"] == "running")
    began = time.time()
    engine.containers.get("dash-job").kill()
    done = time.time()
    assert fed(url, "dash-job was sent signal", began) - done < WITHIN
    assert stored_when(url, "dash-job", lambda r: r.get("exit_code") == 137) - done < WITHIN

    def job_alert(state):
        alerts = httpx.get(url + "/api/v1/alerts", timeout=10).json()
        return next((a for a in alerts if a["metric"] == "container_state:dash-job"
                     and a["state"] == state), None)

    wait_for(lambda: job_alert("firing"), what="dash-job's alert")
    engine.containers.get("dash-job").remove()
    wait_for(lambda: job_alert("resolved"), what="dash-job's alert resolved once removed")
    assert fed(url, "dash-job was removed", began)


def test_an_unhealthy_health_check(dashboard, engine):
    url = dashboard.url
    began = time.time()
    run(engine, "dash-sick", "exec sleep 1000",
        healthcheck={"test": ["CMD", "false"], "interval": 1_000_000_000, "retries": 1})
    unhealthy = fed(url, "dash-sick is unhealthy", began)
    assert stored_when(url, "dash-sick", lambda r: r["health"] == "unhealthy") - unhealthy < WITHIN
    shown(url, "containers", '<tr class="level-critical" data-container="dash-sick">')
    shown(url, "container-counts", "1 unhealthy")


def test_a_restart_loop_and_an_out_of_memory_kill(dashboard, engine):
    url = dashboard.url
    began = time.time()
    run(engine, "dash-loop", "exit 3", restart_policy={"Name": "always"})
    fed(url, "dash-loop exited with code 3", began)
    wait_for(lambda: (row(url, "dash-loop") or {}).get("restarts", 0) >= 2,
             what="dash-loop restarting")

    began = time.time()
    run(engine, "dash-oom", "a=xxxxxxxxxxxxxxxx; while true; do a=$a$a; done",
        mem_limit="8m", memswap_limit="8m")
    oom = fed(url, "dash-oom ran out of memory", began)
    assert stored_when(url, "dash-oom", lambda r: r["oom_killed"]) - oom < WITHIN
    shown(url, "containers", "out of memory")


def test_figures_and_history_only_while_someone_views_the_host(dashboard, engine):
    url = dashboard.url
    run(engine, "dash-busy", "yes > /dev/null", nano_cpus=200_000_000)  # a fifth of a CPU
    stored_when(url, "dash-busy", lambda r: r["state"] == "running")
    assert "cpu_percent" not in row(url, "dash-busy")  # nobody views the host, no rule needs it
    with SSEClient(url + "/stream?host=engine-host") as stream:
        stream.next(10)  # the snapshot: the host is viewed from the next viewer count on
        busy = wait_for(lambda: (lambda r: r and (r.get("cpu_percent") or 0) > 5 and r)(
            row(url, "dash-busy")), what="dash-busy's CPU figure")
        assert 0 <= busy["mem_percent"] <= 100 and busy["mem_used"] > 0
        assert busy["mem_limit"] > 0 and busy["uptime"] >= 0 and "command" not in busy
        message = stream.wait_for(lambda m: 'data-container="dash-busy"' in m.data, PATIENCE)
        assert "sort by memory" in message.data
        # Statistics readings (about a second per container) do not hold events back.
        began = time.time()
        engine.containers.get("dash-busy").kill()
        done = time.time()
        assert fed(url, "dash-busy exited with code", began) - done < WITHIN
        assert stored_when(url, "dash-busy", lambda r: r["state"] == "exited") - done < WITHIN
    history = wait_for(lambda: httpx.get(url + "/api/v1/history", timeout=10, params={
        "host": "engine-host", "metric": "container_cpu:dash-busy", "range": "5m"}).json()
        .get("points"), what="dash-busy's CPU in the history")
    assert max(point["max"] for point in history) > 5


def test_an_agent_sends_its_machines_containers(dashboard, engine, docker_engine):
    url = dashboard.url
    run(engine, "dash-agent-web", "exec sleep 1000")
    agent = subprocess.Popen(
        [FLASK, "--app", "wsgi", "agent", "--to", url, "--host", "box-9", "--interval", "1",
         "--containers", "1"], cwd=ROOT, env={**os.environ, "DOCKER_HOST": docker_engine.url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def box():
            answer = httpx.get(url + "/api/v1/containers", params={"host": "box-9"}, timeout=10)
            found = answer.json() if answer.status_code == 200 else {"containers": []}
            return next((r for r in found["containers"] if r["name"] == "dash-agent-web"
                         and r.get("cpu_percent") is not None), None)

        row_of_box = wait_for(box, what="the agent's list with figures")
        assert row_of_box["state"] == "running" and row_of_box["mem_used"] > 0
    finally:
        terminate(agent, grace=10)
