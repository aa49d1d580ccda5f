"""The task-progress service's client, unchanged, against a real gunicorn: an
``EventSourcePolyfill`` on ``/api/v1/sse/tasks/<id>/progress`` with ``Authorization: Bearer``,
listening for ``progress`` and ``complete`` (or ``error``), checked field by field; 404 for an
unknown task, 401 for a bad key."""

from __future__ import annotations

import json
import time
from datetime import datetime

import httpx
import pytest

from app.domain import apikeys
from app.store import open_store
from tests.servers import Server, free_port
from tests.sse_client import SSEClient

pytestmark = pytest.mark.server

FIELDS = {"task_id", "state", "progress", "estimated_time", "updated_at"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A gunicorn whose store has a reading key (the client's) and an ingesting one (the
    worker that runs the task): (server, client headers, worker headers)."""
    path = tmp_path_factory.mktemp("progress") / "store.sqlite3"
    store = open_store(f"sqlite:///{path}", log_size=10_000, poll_interval=0.1)
    try:
        _, reader = apikeys.add_key(store, "progress-page", ["read"], by="test")
        _, worker = apikeys.add_key(store, "transcriber", ["ingest"], by="test")
    finally:
        store.close()
    with Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{path}",
                              "DASHBOARD_SAMPLER": "0"}) as srv:
        yield (srv, {"Authorization": f"Bearer {reader}"},
               {"Authorization": f"Bearer {worker}"})


def read(message, event: str) -> dict:
    assert message.event == event and message.id is not None
    data = json.loads(message.data)
    assert abs(datetime.fromisoformat(data["updated_at"]).timestamp() - time.time()) < 30
    return data


def test_progress_then_complete_then_the_end(world):
    server, client, worker = world
    task = f"{server.url}/api/v1/tasks/task_abc123"
    started = httpx.put(task, json={"state": "pending", "progress": 0}, headers=worker)
    assert started.status_code == 200
    with SSEClient(server.url + "/api/v1/sse/tasks/task_abc123/progress", headers=client) as es:
        assert es.response.headers["content-type"].startswith("text/event-stream")
        first = read(es.next(timeout=3), "progress")
        assert set(first) == FIELDS
        assert (first["task_id"], first["state"], first["progress"], first["estimated_time"]) == (
            "task_abc123", "pending", 0, None)
        ids = []
        for progress, left in ((40.0, 71), (70.0, 35)):
            assert httpx.put(task, json={"state": "running", "progress": progress,
                                         "estimated_seconds": left},
                             headers=worker).status_code == 200
            message = es.next(timeout=3)
            data = read(message, "progress")
            assert set(data) == FIELDS
            assert (data["state"], data["progress"], data["estimated_time"]) == (
                "running", progress, left)
            ids.append(int(message.id))
        assert ids == sorted(ids)
        assert httpx.put(task, json={"state": "succeeded", "progress": 100},
                         headers=worker).status_code == 200
        done = read(es.next(timeout=3), "complete")
        assert (done["state"], done["progress"]) == ("succeeded", 100)
        with pytest.raises(EOFError):  # the stream ends: the page closes its EventSource
            es.next(timeout=3)


def test_a_failed_task_ends_with_error(world):
    server, client, worker = world
    task = f"{server.url}/api/v1/tasks/task_bad"
    httpx.put(task, json={"state": "running", "progress": 10}, headers=worker)
    with SSEClient(server.url + "/api/v1/sse/tasks/task_bad/progress", headers=client) as es:
        read(es.next(timeout=3), "progress")
        httpx.put(task, json={"state": "failed", "progress": 10, "message": "API timeout"},
                  headers=worker)
        failed = read(es.next(timeout=3), "error")
        assert (failed["state"], failed["error"]) == ("failed", "API timeout")
        with pytest.raises(EOFError):
            es.next(timeout=3)


def test_unknown_task_is_404_and_a_bad_key_401(world):
    server, client, _ = world
    url = server.url + "/api/v1/sse/tasks/{}/progress"
    response = httpx.get(url.format("nothing-here"), headers=client)
    assert response.status_code == 404 and "error" in response.json()
    for headers in ({}, {"Authorization": "Bearer dk_nothing"}):
        assert httpx.get(url.format("task_abc123"), headers=headers).status_code == 401
