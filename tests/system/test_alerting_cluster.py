"""Alerting across a deployment: two gunicorn instances of two gevent workers each on one real
Redis, a real webhook receiver, and samples pushed as an agent does.

Exactly one process sends (the ``notifier`` lease) and exactly one evaluates the rules (the
``evaluator`` lease); a ``kill -9`` of the sender loses nothing.
"""

from __future__ import annotations

import os
import re
import signal
import time

import httpx
import pytest

from app.store import open_store
from tests.receiver import Receiver
from tests.servers import Server, free_port

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def cluster(redis_server, tmp_path_factory):
    url = f"{redis_server}/3"  # a database of its own, emptied first
    store = open_store(url, log_size=10_000, poll_interval=0.1)
    for key in ("state", "log", "seq"):
        store._redis.delete(f"dashboard:{key}")  # noqa: SLF001 - a clean slate for this module
    tmp = tmp_path_factory.mktemp("cluster")
    with Receiver(free_port(), tmp / "posts.jsonl") as receiver:
        env = {"DASHBOARD_STORE_URL": url, "DASHBOARD_ALERT_RULES": "[]",
               "DASHBOARD_WEBHOOK_URLS": f"{receiver.url}/slow"}
        with Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-a"}, workers=2) as a, \
                Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-b"}, workers=2) as b:
            yield a, b, receiver, store
    store.close()


def raise_alert(server, name: str, http=httpx) -> str:
    """Raise alert ``name`` on ``server``; ``http``: httpx, or an httpx.Client to reuse."""
    response = http.post(server.url + "/api/v1/alerts",
                         json={"name": name, "level": "error", "message": "down"})
    assert response.status_code == 201
    return response.json()["id"]


def resolve(server, alert_id: str, http=httpx) -> None:
    assert http.post(f"{server.url}/api/v1/alerts/{alert_id}/resolve").status_code == 200


def about(posts, ids) -> list[dict]:
    return [p for p in posts if p["key"] and p["key"].split("-", 1)[0] in ids]


def expected_keys(ids) -> set[str]:
    return {f"{i}-{tag}-webhook-0" for i in ids for tag in ("firing-1", "resolved")}


def test_each_transition_reaches_the_receiver_exactly_once(cluster):
    a, b, receiver, _ = cluster
    ids = [raise_alert(a if n % 2 else b, f"svc-{n}") for n in range(10)]
    for n, alert_id in enumerate(ids):
        resolve(b if n % 2 else a, alert_id)
    got = receiver.wait_for(lambda got: {p["key"] for p in about(got, ids)} == expected_keys(ids),
                            timeout=60)
    # Then one more transition: once it arrived, nothing about the others is on its way.
    later = raise_alert(a, "sentinel")
    got = receiver.wait_for(lambda got: about(got, {later}), timeout=30)
    posts = about(got, ids)
    assert len(posts) == 20, [p["key"] for p in posts]  # each key once
    assert {p["body"]["status"] for p in posts} == {"firing", "resolved"}
    resolve(a, later)


def test_kill_9_of_the_sender_mid_way_through_50_transitions_loses_none(cluster):
    a, b, receiver, store = cluster
    ids = []
    # One client for the 50 requests: a new one costs ~30 ms of CPU each (its TLS context), and
    # on a busy machine the sender then kept up with the requests and was done before the kill.
    with httpx.Client() as http:
        for n in range(25):
            ids.append(raise_alert(a, f"batch-{n}", http))
            resolve(b, ids[-1], http)
    # The receiver answers each post after 0.2 s: 50 posts take 10 s and more.
    receiver.wait_for(lambda got: len(about(got, ids)) >= 8, timeout=60)
    owner = store.holder("notifier")
    pid = int(owner.split(":")[1])
    assert pid in _worker_pids(a) + _worker_pids(b)
    os.kill(pid, signal.SIGKILL)
    sent_before = len(about(receiver.posts(), ids))
    assert sent_before < 50, "every post arrived before the kill: the test shows nothing"

    # The lease (30 s) runs out, another worker of either instance takes it and sends the rest.
    got = receiver.wait_for(lambda got: {p["key"] for p in about(got, ids)} == expected_keys(ids),
                            timeout=120)
    assert store.holder("notifier") != owner
    bodies: dict[str, dict] = {}
    for post in about(got, ids):  # a duplicate only with the same key (and the same body)
        assert bodies.setdefault(post["key"], post["body"]) == post["body"]
    assert len(about(got, ids)) - 50 <= 1  # at most the one post under way when it died


def _sample(host: str, cpu: float) -> dict:
    return {"host": host, "ts": time.time(), "cpu_percent": cpu, "cpu_count": 2,
            "mem_percent": 30.0, "mem_used": 1e9, "mem_total": 4e9, "disk_percent": 40.0,
            "disk_used": 1e10, "disk_total": 5e10, "net_rx_bps": 0.0, "net_tx_bps": 0.0,
            "load1": 0.1, "load5": 0.1, "load15": 0.1, "uptime": 100.0, "temperature": None}


def _push(server, *samples) -> None:
    response = httpx.post(server.url + "/api/v1/samples", json={"samples": list(samples)})
    assert response.status_code == 202, response.text


def _rule_alerts(server, host: str) -> list[dict]:
    return [x for x in httpx.get(server.url + "/api/v1/alerts").json()
            if x["host"] == host and x["name"] == "agent-cpu"]


def test_a_rule_changed_through_the_api_applies_everywhere_and_on_agent_hosts(cluster):
    a, b, receiver, _ = cluster
    rule = {"metric": "cpu_percent", "op": ">", "value": 50, "for": 0, "level": "error",
            "name": "agent-cpu", "hosts": "agent-*"}
    put = httpx.put(a.url + "/api/v1/rules", json={"rules": [rule]})
    assert put.status_code == 200
    changed = time.monotonic()
    # Every instance's page lists it within 2 s (each request reaches either worker).
    for server in (a, b):
        while True:
            shown = ["agent-cpu" in httpx.get(server.url + "/fragments/rules").text
                     for _ in range(4)]
            if all(shown):
                break
            assert time.monotonic() - changed < 2.0, f"{server.url} still shows the old rules"
            time.sleep(0.05)
    assert httpx.get(b.url + "/api/v1/rules").json()["rules"][0]["hosts"] == "agent-*"

    # A sample stored after the change is evaluated with it, by exactly one process.
    _push(b, _sample("agent-7", 99.0), _sample("db-1", 99.0))
    deadline = time.monotonic() + 20
    while not _rule_alerts(a, "agent-7"):
        assert time.monotonic() < deadline, "the rule did not fire for the agent's host"
        time.sleep(0.1)
    _push(a, _sample("agent-7", 98.0))
    [firing] = _rule_alerts(b, "agent-7")
    assert firing["state"] == "firing" and firing["source"] == "rule"
    assert _rule_alerts(a, "db-1") == []  # its name is outside the rule's hosts pattern
    receiver.wait_for(lambda got: about(got, {firing["id"]}), timeout=30)

    _push(a, _sample("agent-7", 10.0))
    deadline = time.monotonic() + 20
    while _rule_alerts(b, "agent-7")[0]["state"] != "resolved":
        assert time.monotonic() < deadline, "the rule did not resolve"
        time.sleep(0.1)
    assert len(_rule_alerts(a, "agent-7")) == 1  # one evaluation per sample: one alert
    receiver.wait_for(lambda got: f"{firing['id']}-resolved-webhook-0"
                      in {p["key"] for p in got}, timeout=30)


def _worker_pids(server) -> list[int]:
    """The gunicorn workers of ``server`` (children of its arbiter)."""
    with open(f"/proc/{server.proc.pid}/task/{server.proc.pid}/children") as f:
        return [int(pid) for pid in f.read().split() if re.fullmatch(r"\d+", pid)]
