"""Ops endpoints: liveness, readiness, and the Prometheus metrics of one or several workers."""

from __future__ import annotations

import contextlib

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.web.ops import HOST_GAUGES
from app.sources.sampler import HostSampler
from app.store import StoreUnavailable
from tests.servers import Server, free_port
from tests.sse_client import SSEClient

INGEST = "dashboard_ingest_requests_total"


def parse(text: str) -> dict[tuple, float]:
    """Exposition text -> {(sample name, sorted label pairs): value}."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    return parse(response.get_data(as_text=True))


def ingest(samples, endpoint, status) -> float:
    return samples.get((INGEST, (("endpoint", endpoint), ("status", str(status)))), 0.0)


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_readyz_when_the_store_answers(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "store": {"backend": "sqlite"}}


def test_readyz_is_503_when_the_store_does_not(client, live, monkeypatch):
    def down():
        raise StoreUnavailable("disk I/O error")

    monkeypatch.setattr(live.store, "ping", down)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.is_json
    assert "store" in response.get_json()["error"]
    assert client.get("/healthz").status_code == 200  # alive, just not ready


def test_readyz_is_503_on_a_closed_store(client, live):
    client.get("/healthz")  # the first request starts the live greenlets, which need the store
    live.store.close()
    assert client.get("/readyz").status_code == 503


def test_an_app_on_redis_is_ready_and_keeps_events_there(make_app, redis_url):
    client = make_app(STORE_URL=redis_url).test_client()
    assert client.get("/readyz").status_code == 200
    posted = client.post("/api/v1/events", json={"level": "error", "message": "m", "source": "s"})
    assert posted.status_code == 201
    events = client.get("/api/v1/events?level=error").get_json()
    assert [(e["id"], e["message"]) for e in events] == [(posted.get_json()["id"], "m")]


def test_readyz_is_503_when_redis_is_down(make_app):
    client = make_app(STORE_URL=f"redis://127.0.0.1:{free_port()}/0").test_client()
    response = client.get("/readyz")
    assert response.status_code == 503 and response.is_json


def test_metrics_is_prometheus_text_with_every_metric(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    names = {family.name for family in text_string_to_metric_families(response.get_data(as_text=True))}
    assert {"dashboard_viewers", "dashboard_messages_sent", "dashboard_slow_consumer_drops",
            "dashboard_ingest_requests"} <= names
    assert {name for name, _ in HOST_GAUGES.values()} <= names


def test_ingest_requests_are_counted_by_route_and_status(client):
    for body in ({"message": "ok"}, {"message": "ok"}, {"level": "loud", "message": "x"}):
        client.post("/api/v1/events", json=body)
    client.post("/api/v1/events", json={"message": "x"}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    client.post("/simulator/events", json={"count": 2})
    client.get("/api/v1/events")  # a read: not counted
    samples = scrape(client)
    assert ingest(samples, "/api/v1/events", 201) == 2
    assert ingest(samples, "/api/v1/events", 422) == 1
    assert ingest(samples, "/api/v1/events", 403) == 1
    assert ingest(samples, "/simulator/events", 201) == 1
    assert ingest(samples, "/api/v1/events", 405) == 0


def test_viewers_messages_and_drops_follow_the_hub(make_app):
    app = make_app(QUEUE_SIZE=2)
    client, hub = app.test_client(), app.extensions["dashboard"].hub
    a, _ = hub.subscribe(b"snapshot"), hub.subscribe(b"snapshot")
    samples = scrape(client)
    assert samples[("dashboard_viewers", ())] == 2
    hub.publish(b"one")  # reaches both: a and b are now full
    a.queue.get_nowait(), a.queue.get_nowait()
    hub.publish(b"two")  # reaches a; b is dropped
    hub.unsubscribe(a)
    hub.publish(b"three")  # reaches nobody
    samples = scrape(client)
    assert samples[("dashboard_messages_sent_total", ())] == 3
    assert samples[("dashboard_slow_consumer_drops_total", ())] == 1 == hub.dropped_total
    assert samples[("dashboard_viewers", ())] == 0


def test_host_gauges_show_the_latest_sample(client, live):
    assert not any(name in {n for n, _ in HOST_GAUGES.values()} for name, _ in scrape(client))
    sample = HostSampler("web-1", "/").sample()
    live.view.sample = sample
    samples = scrape(client)
    for key, (name, _) in HOST_GAUGES.items():
        assert samples[(name, (("host", "web-1"),))] == pytest.approx(sample[key]), name


@pytest.mark.server
def test_two_workers_report_the_sum_of_both(tmp_path):
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"}
    with Server(free_port(), env, workers=2) as srv, contextlib.ExitStack() as streams:
        for _ in range(12):
            # A new connection each time, so both workers take some of them.
            response = httpx.post(srv.url + "/api/v1/events", json={"message": "deploy"})
            assert response.status_code == 201
        for _ in range(3):
            streams.enter_context(SSEClient(srv.url + "/stream")).next(timeout=2)
        # Whichever worker answers a scrape, it reports every worker's counts.
        for _ in range(8):
            samples = parse(httpx.get(srv.url + "/metrics").text)
            assert ingest(samples, "/api/v1/events", 201) == 12
            assert samples[("dashboard_viewers", ())] == 3


def test_on_sentinel_readyz_and_metrics_name_the_primary_in_use(make_app, sentinel_url,
                                                                sentinels):
    client = make_app(STORE_URL=sentinel_url).test_client()
    response = client.get("/readyz")
    primary = f"127.0.0.1:{sentinels.primary().port}"
    assert response.status_code == 200
    assert response.get_json()["store"] == {"backend": "redis", "sentinel": True,
                                             "service": "mymaster", "primary": primary,
                                             "failovers": 0}
    samples = scrape(client)
    assert samples[("dashboard_store_primary", (("address", primary),))] == 1
    assert samples[("dashboard_store_failovers_total", ())] == 0
