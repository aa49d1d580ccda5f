"""The agent OS dashboard's page, unchanged, against a real gunicorn: its stream
(``new EventSource('/api/metrics/stream')``, an unnamed message once a second), its snapshot
(``fetch('/api/metrics')``) and its event list (``fetch('/api/events')``), checked field by field.
That page had no sign-in: with nothing configured, the dashboard lets anyone view, as it does."""

from __future__ import annotations

import json
import time
from datetime import datetime

import httpx
import pytest

from tests.servers import Server, free_port
from tests.sse_client import SSEClient

pytestmark = pytest.mark.server

COUNTERS = {"tasks_total", "tasks_succeeded", "tasks_failed"}
GAUGES = {"cpu_percent", "memory_percent", "success_rate"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("agentos") / "store.sqlite3"
    with Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{store}"}) as srv:
        yield srv


def figures(message) -> dict:
    assert message.event is None and message.id is None  # unnamed: onmessage reads it
    data = json.loads(message.data)
    assert set(data) == {"counters", "gauges"}
    assert set(data["counters"]) == COUNTERS and set(data["gauges"]) == GAUGES
    assert all(isinstance(v, int) and v >= 0 for v in data["counters"].values())
    return data


def test_the_page_stream_sends_the_figures_once_a_second(server):
    for name, state in (("a", "succeeded"), ("b", "succeeded"), ("c", "failed"), ("d", "running")):
        assert httpx.put(f"{server.url}/api/v1/tasks/agentos-{name}",
                         json={"state": state, "progress": 50}).status_code == 200
    with SSEClient(server.url + "/api/metrics/stream") as page:
        assert page.response.headers["content-type"].startswith("text/event-stream")
        first = page.next(timeout=3)
        got = [first] + [page.wait_for(lambda m: m.data, timeout=3) for _ in range(4)]
    data = [figures(message) for message in got]
    assert data[-1]["counters"] == {"tasks_total": 4, "tasks_succeeded": 2, "tasks_failed": 1}
    gauges = data[-1]["gauges"]
    assert gauges["success_rate"] == pytest.approx(66.7)
    assert 0 <= gauges["cpu_percent"] <= 100 and 0 < gauges["memory_percent"] <= 100
    gaps = [b.at - a.at for a, b in zip(got[1:], got[2:])]
    assert all(0.5 < gap < 1.5 for gap in gaps), gaps


def test_the_snapshot_and_the_event_list(server):
    snapshot = httpx.get(server.url + "/api/metrics")
    assert snapshot.status_code == 200 and snapshot.headers["content-type"] == "application/json"
    data = snapshot.json()
    assert set(data) == {"counters", "gauges"} and set(data["gauges"]) == GAUGES
    sent = [("info", f"step {n}") for n in range(9)]
    sent += [("info", "deploy started"), ("critical", "db down"), ("warning", "disk 85 %")]
    for level, message in sent:
        assert httpx.post(server.url + "/api/v1/events",
                          json={"level": level, "message": message, "source": "ci"}
                          ).status_code == 201
    events = httpx.get(server.url + "/api/events").json()
    assert len(events) == 10  # the latest ten, newest first
    assert [e["message"] for e in events] == [m for _, m in reversed(sent)][:10]
    by_message = {e["message"]: e for e in events}
    assert by_message["disk 85 %"]["level"] == "warning"
    assert by_message["db down"]["level"] == "error"  # its levels are info, warning, error
    for event in events:
        assert set(event) == {"id", "level", "message", "source", "timestamp"}
        assert event["source"] == "ci" and isinstance(event["id"], int)
        assert abs(datetime.fromisoformat(event["timestamp"]).timestamp() - time.time()) < 30
    assert [e["id"] for e in events] == sorted((e["id"] for e in events), reverse=True)
