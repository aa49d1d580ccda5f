"""The SSE demo's page, unchanged, against a real gunicorn: ``new EventSource('/api/events/all')``
whose ``onmessage`` dispatches on ``data.type`` (``metric`` per figure, ``alert`` per event),
and its two narrower streams; checked field by field. ``/api/v1/stream`` keeps its own shapes."""

from __future__ import annotations

import json
import time
from datetime import datetime

import httpx
import pytest

from tests.conftest import simulate_host
from tests.servers import Server, free_port
from tests.sse_client import SSEClient

pytestmark = pytest.mark.server

NAMES = {"cpu_usage", "memory_usage", "network_rx", "network_tx", "temperature", "load"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = tmp_path_factory.mktemp("demo") / "store.sqlite3"
    # Heartbeats every second: a quiet stream's client closes at its next read.
    with Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{store}",
                              "DASHBOARD_SIMULATOR": "1", "DASHBOARD_HEARTBEAT": "1"}) as srv:
        simulate_host(srv.url)  # five sensors: every figure, temperature included
        yield srv


class DemoPage:
    """What the demo's script does with each message: ``switch (data.type)``."""

    def __init__(self) -> None:
        self.metrics: dict[str, list[dict]] = {}
        self.alerts: list[dict] = []

    def on_message(self, message) -> None:
        assert message.event is None and message.id is not None
        data = json.loads(message.data)
        stamp = datetime.fromisoformat(data["timestamp"]).timestamp()
        assert abs(stamp - time.time()) < 30
        if data["type"] == "metric":
            assert set(data) == {"type", "name", "value", "timestamp"}
            assert data["name"] in NAMES and isinstance(data["value"], (int, float))
            self.metrics.setdefault(data["name"], []).append(data)
        elif data["type"] == "alert":
            assert set(data) == {"type", "level", "message", "timestamp", "source"}
            self.alerts.append(data)
        else:
            pytest.fail(f"the demo knows no message type {data['type']!r}")


def follow(es: SSEClient, page: DemoPage, until, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        message = es.next(timeout=max(deadline - time.monotonic(), 0.01))
        if message.data:  # the first message is id: and retry: only
            page.on_message(message)


def test_all_sends_every_figure_of_each_sample_and_each_event_as_an_alert(server):
    page = DemoPage()
    with SSEClient(server.url + "/api/events/all") as es:
        first = es.next(timeout=3)
        assert first.data == "" and first.retry
        follow(es, page, lambda: set(page.metrics) == NAMES and
               len(page.metrics["cpu_usage"]) >= 2)
        assert 0 <= page.metrics["cpu_usage"][-1]["value"] <= 100
        assert 0 <= page.metrics["memory_usage"][-1]["value"] <= 100
        marker = f"backup {time.time_ns()} done"
        assert httpx.post(server.url + "/api/v1/events", json={
            "level": "warning", "message": marker, "source": "cron"}).status_code == 201
        follow(es, page, lambda: any(a["message"] == marker for a in page.alerts))
    alert = next(a for a in page.alerts if a["message"] == marker)
    assert (alert["level"], alert["source"]) == ("warning", "cron")


@pytest.mark.parametrize("path, kind", [("/api/events/metrics", "metric"),
                                        ("/api/events/alerts", "alert")])
def test_each_narrower_stream_sends_its_own_type(server, path, kind):
    with SSEClient(server.url + path) as es:
        es.next(timeout=3)
        marker = f"only {time.time_ns()}"
        httpx.post(server.url + "/api/v1/events", json={"message": marker})
        seen = []
        deadline = time.monotonic() + 2.5  # two samples at least
        while time.monotonic() < deadline:
            try:
                message = es.next(timeout=deadline - time.monotonic())
            except TimeoutError:
                break
            if message.data:  # not a heartbeat
                seen.append(json.loads(message.data))
    assert seen and {m["type"] for m in seen} == {kind}
    if kind == "alert":
        assert [m["message"] for m in seen] == [marker]


def test_a_resuming_page_gets_what_it_missed_and_the_json_stream_keeps_its_shapes(server):
    with SSEClient(server.url + "/api/events/alerts") as es:
        es.next(timeout=3)
        httpx.post(server.url + "/api/v1/events", json={"message": "seen"})
        seen = es.wait_for(lambda m: m.data, timeout=3)
    missed = [f"missed {n}" for n in range(3)]
    for text in missed:
        httpx.post(server.url + "/api/v1/events", json={"message": text})
    with SSEClient(server.url + "/api/events/alerts", {"Last-Event-ID": seen.id}) as es:
        es.next(timeout=3)  # retry: only
        assert [json.loads(es.wait_for(lambda m: m.data, timeout=3).data)["message"]
                for _ in missed] == missed
    with SSEClient(server.url + "/api/v1/stream?channels=events&last_event_id=" + seen.id) as es:
        es.next(timeout=3)
        message = es.wait_for(lambda m: m.data, timeout=3)
        assert message.event == "event" and json.loads(message.data)["message"] == missed[0]
