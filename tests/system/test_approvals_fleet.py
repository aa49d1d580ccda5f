"""Approvals across a fleet: two gunicorns (two gevent workers each) on one real Redis.

Twenty answers to one approval posted at once, split across both instances, make exactly one
200 and nineteen 409s; a stream waiting on each instance gets exactly that one decision. An
approval whose deadline passed is expired by exactly one of the four processes' sweeps.
"""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from app.store import open_store
from tests.servers import Server, free_port
from tests.sse_client import SSEClient

pytestmark = pytest.mark.server

ANSWERS = 20


@pytest.fixture
def fleet(redis_url):
    env = {"DASHBOARD_STORE_URL": redis_url, "DASHBOARD_HEARTBEAT": "1"}
    with Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-a"}, workers=2) as a, \
            Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-b"}, workers=2) as b:
        store = open_store(redis_url, log_size=10_000, poll_interval=0.1)
        try:
            yield a, b, store
        finally:
            store.close()


def test_twenty_answers_at_once_make_one_decision_everywhere(fleet):
    a, b, store = fleet
    response = httpx.post(a.url + "/api/v1/approvals", json={"title": "Deploy v2?"}, timeout=10)
    assert response.status_code == 201
    approval_id = response.json()["id"]
    path = f"/api/v1/approvals/{approval_id}"
    with SSEClient(a.url + path + "/stream") as on_a, SSEClient(b.url + path + "/stream") as on_b:
        for client in (on_a, on_b):
            assert client.wait_for(lambda m: m.event is not None, timeout=10).event == \
                "permission_request"

        start = threading.Barrier(ANSWERS)
        results: dict[int, httpx.Response] = {}

        def answer(n: int) -> None:
            base = (a, b)[n % 2].url
            with httpx.Client(timeout=20) as client:
                start.wait(20)
                results[n] = client.post(base + path + "/response", json={
                    "approved": n % 3 == 0, "reason": f"answer {n}"})

        threads = [threading.Thread(target=answer, args=(n,)) for n in range(ANSWERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [200] + [409] * (ANSWERS - 1), statuses
        [winner] = [r.json() for r in results.values() if r.status_code == 200]
        for r in results.values():
            if r.status_code == 409:
                assert r.json()["approval"] == winner  # the decision that stands

        for client in (on_a, on_b):
            final = client.wait_for(lambda m: m.event is not None, timeout=10)
            assert final.event == "permission_response"
            data = json.loads(final.data)
            assert (data["approved"], data["by"], data["reason"]) == (
                winner["approved"], winner["by"], winner["reason"])
            with pytest.raises(EOFError):  # exactly one: the stream ends after it
                client.wait_for(lambda m: m.event is not None, timeout=10)

    logged = store.find("approval", where={"id": approval_id})
    assert [i.data["state"] for i in logged] == [winner["state"], "pending"]
    assert httpx.get(b.url + path, timeout=10).json() == winner


def test_an_overdue_approval_is_expired_by_exactly_one_process(fleet):
    a, b, store = fleet
    approval_id = httpx.post(b.url + "/api/v1/approvals", json={"title": "Late?"},
                             timeout=10).json()["id"]
    with SSEClient(f"{a.url}/api/v1/approvals/{approval_id}/stream") as on_a:
        assert on_a.wait_for(lambda m: m.event is not None, timeout=10).event == \
            "permission_request"
        # Logged again with a deadline in the past (instead of waiting 10 s): every process's
        # view folds it and its sweep, within about a second, tries to expire it.
        stored = store.get_state(f"approval:{approval_id}")
        store.append("approval", {**stored, "expires_at": time.time() - 1},
                     state_key=f"approval:{approval_id}")
        cleared = on_a.wait_for(lambda m: m.event is not None, timeout=10)
        assert cleared.event == "permission_cleared"
        assert json.loads(cleared.data)["state"] == "expired"
    # Watch for 3 s, two or three sweeps of every process: the log must keep one expiry.
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        states = [i.data["state"] for i in store.find("approval", where={"id": approval_id})]
        assert states == ["expired", "pending", "pending"], states
        time.sleep(0.2)
    expired_events = [i for i in store.find("event", limit=50)
                      if i.data["message"] == "Expired: Late?"]
    assert len(expired_events) == 1
