"""Hardening fixes that must hold across processes: two gevent workers of one gunicorn on a real
Redis, so that a limit counted in one worker's memory alone would show (issue: "Hardening,
round two"). Failed credentials are counted for everyone, silences are shared out by creator,
and streams of many filtered fleet pages leave every sorted view of the whole fleet open."""

from __future__ import annotations

import httpx
import pytest
import redis

from app.domain import apikeys, silences
from app.live.pages import MAX_PAGES
from app.store import open_store
from tests.servers import Server, free_port

pytestmark = pytest.mark.server

INGEST = "ingest-token-ingest-token"


@pytest.fixture(scope="module")
def two_workers(redis_server):
    url = f"{redis_server}/3"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    store = open_store(url, log_size=10_000, poll_interval=0.1)
    _, key = apikeys.add_key(store, "ops", ["operate"], by="test")
    store.close()
    with Server(free_port(), {"DASHBOARD_STORE_URL": url, "DASHBOARD_SAMPLER": "0",
                              "DASHBOARD_INGEST_TOKEN": INGEST}, workers=2) as srv:
        yield srv, {"Authorization": f"Bearer {key}"}


def test_one_creator_cannot_use_up_the_silences_across_workers(two_workers):
    srv, key = two_workers
    statuses = [httpx.post(srv.url + "/api/v1/silences", headers=key, timeout=10, json={
        "matchers": {"name": f"n{n}"}, "duration": 600}).status_code
        for n in range(silences.MAX_PER_CREATOR + 2)]
    assert statuses == [201] * silences.MAX_PER_CREATOR + [422, 422]


def test_filtered_fleet_streams_lock_no_sorted_view_out(two_workers):
    srv, key = two_workers
    opened, statuses = [], []
    try:
        # Before: 16 streams with different filters made every other fleet view a 503.
        for n in range(2 * MAX_PAGES + 2):
            client = httpx.Client(base_url=srv.url, timeout=httpx.Timeout(10, read=60))
            opened.append(client)
            response = client.send(client.build_request("GET", f"/fleet/stream?q=h{n}",
                                                        headers=key), stream=True)
            opened.append(response)
            statuses.append(response.status_code)
        assert 503 in statuses  # the filtered slots of both workers are all watched
        # Every sort of the whole fleet still answers, whichever worker takes it.
        for _ in range(3):
            for sort in ("level", "name", "cpu", "memory", "disk", "load", "alerts", "seen"):
                assert httpx.get(f"{srv.url}/fleet?sort={sort}", headers=key,
                                 timeout=10).status_code == 200
    finally:
        for thing in reversed(opened):
            thing.close()


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
