"""The process table on a real gunicorn with two gevent workers: no viewer, no scan; a viewer
on either worker's stream starts the scans in the worker that samples; they stop when it leaves."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.servers import Server, free_port
from tests.sse_client import SSEClient

pytestmark = pytest.mark.server


def latest(url: str) -> dict | None:
    response = httpx.get(url + "/api/v1/processes", timeout=10)
    assert response.status_code in (200, 404), response.text
    return response.json() if response.status_code == 200 else None


def wait_for(predicate, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s")


def test_processes_are_scanned_only_while_someone_views_the_host(tmp_path):
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path}/store.sqlite3",
           "DASHBOARD_PROCESS_INTERVAL": "1"}
    with Server(free_port(), env, workers=2) as server:
        # Samples flow (the sampler runs), yet nobody looks: no list.
        wait_for(lambda: httpx.get(server.url + "/api/v1/metrics", timeout=10).json()["hosts"], 20)
        time.sleep(3)
        assert latest(server.url) is None

        with SSEClient(server.url + "/stream") as stream:
            stream.next(10)  # the snapshot
            first = wait_for(lambda: latest(server.url), 20)
            rows = first["processes"]
            assert 1 <= len(rows) <= 30 and all("cmdline" not in row for row in rows)
            assert all(row["rss"] >= 0 and row["cpu_percent"] >= 0 for row in rows)
            # Every scan interval (1 s here) a new list while the stream is open.
            wait_for(lambda: latest(server.url)["ts"] > first["ts"], 20)
            message = stream.wait_for(lambda m: 'id="processes"' in m.data
                                      and "<tr><td>" in m.data, 20)
            assert "sort by memory" in message.data

        # The viewer left: within a sweep or two every process knows, and scans stop.
        time.sleep(4)
        stopped = latest(server.url)["ts"]
        time.sleep(4)
        assert latest(server.url)["ts"] == stopped
