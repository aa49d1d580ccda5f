"""Hardening fixes that must hold across processes: two gevent workers of one gunicorn on a real
Redis, so that a limit counted in one worker's memory alone would show (issue: "Hardening,
round two"). Failed credentials are counted for everyone, silences are shared out by creator,
and one client's page streams hold a bounded share of the page slots."""

from __future__ import annotations

import time

import httpx
import pytest
import redis

from app.domain import apikeys, silences
from app.store import open_store
from tests.servers import Server, free_port

pytestmark = pytest.mark.server

INGEST = "ingest-token-ingest-token"
PER_CLIENT = 3
RANGES = ("1h", "6h", "24h", "7d", "30d")


@pytest.fixture(scope="module")
def two_workers(redis_server):
    url = f"{redis_server}/3"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    store = open_store(url, log_size=10_000, poll_interval=0.1)
    _, key = apikeys.add_key(store, "ops", ["operate"], by="test")
    store.close()
    with Server(free_port(), {"DASHBOARD_STORE_URL": url, "DASHBOARD_SAMPLER": "0",
                              "DASHBOARD_INGEST_TOKEN": INGEST,
                              "DASHBOARD_STREAMS_PER_CLIENT": str(PER_CLIENT),
                              # A closed stream's place comes back at the next heartbeat.
                              "DASHBOARD_HEARTBEAT": "2"},
                workers=2) as srv:
        yield srv, {"Authorization": f"Bearer {key}"}


def test_one_creator_cannot_use_up_the_silences_across_workers(two_workers):
    srv, key = two_workers
    statuses = [httpx.post(srv.url + "/api/v1/silences", headers=key, timeout=10, json={
        "matchers": {"name": f"n{n}"}, "duration": 600}).status_code
        for n in range(silences.MAX_PER_CREATOR + 2)]
    assert statuses == [201] * silences.MAX_PER_CREATOR + [422, 422]


def open_stream(srv, path: str, key: dict) -> tuple[httpx.Client, httpx.Response]:
    client = httpx.Client(base_url=srv.url, timeout=httpx.Timeout(10, read=60))
    return client, client.send(client.build_request("GET", path, headers=key), stream=True)


def test_one_client_cannot_hold_every_page_slot(two_workers):
    srv, key = two_workers
    opened = []
    try:
        # Many streams of one page are one page: a room of viewers behind one address.
        opened += [open_stream(srv, "/fleet/stream", key) for _ in range(3 * PER_CLIENT)]
        assert {response.status_code for _, response in opened} == {200}
        # Before: 16 streams with different filters made every other fleet view a 503.
        for n in range(2 * PER_CLIENT + 4):
            # Every stream a different page: a fleet filter, or this host over a range.
            opened.append(open_stream(srv, f"/fleet/stream?q=h{n}" if n % 2 else
                                      f"/stream?range={RANGES[n // 2]}", key))
        statuses = [response.status_code for _, response in opened[3 * PER_CLIENT:]]
        # Each worker lets this client stream PER_CLIENT different pages (the whole fleet's
        # among them), then answers 429.
        assert statuses.count(200) <= 2 * (PER_CLIENT - 1) and set(statuses) == {200, 429}
        assert 503 not in statuses
        for path in ("/fleet", "/fleet?sort=cpu", "/fleet?q=web", "/?range=1y"):
            assert httpx.get(srv.url + path, headers=key, timeout=10).status_code == 200, path
    finally:
        for client, response in opened:
            response.close()
            client.close()
    # Each worker gives the places back once it sees those streams gone (at the latest at the
    # next heartbeat, every 2 s here): then this client holds PER_CLIENT streams in each of them
    # again. A refused stream takes no place, and a held one is kept until the end.
    held, deadline = [], time.monotonic() + 60
    try:
        while len(held) < 2 * PER_CLIENT:
            assert time.monotonic() < deadline, f"only {len(held)} streams held again"
            client, response = open_stream(srv, f"/fleet/stream?q=again{len(held)}", key)
            if response.status_code == 200:
                held.append((client, response))
            else:
                assert response.status_code == 429
                response.close()
                client.close()
                time.sleep(0.2)
    finally:
        for client, response in held:
            response.close()
            client.close()


# Last: it leaves 127.0.0.1 throttled for the rest of the minute.
def test_wrong_keys_on_reads_are_counted_across_workers(two_workers):
    srv, _ = two_workers
    wrong = {"Authorization": "Bearer dk_000000000000_guess"}
    # Fresh connections, so that both workers take some of the guesses.
    statuses = [httpx.get(srv.url + "/api/v1/approvals/nosuch", headers=wrong,
                          timeout=10).status_code for _ in range(14)]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    right = httpx.get(srv.url + "/api/v1/approvals/nosuch", timeout=10,
                      headers={"Authorization": f"Bearer {INGEST}"})
    assert right.status_code == 429  # the right key too, from that address, for the minute
