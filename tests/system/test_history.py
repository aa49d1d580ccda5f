"""History under real gunicorn: several workers (SQLite) or several instances (Redis) record
each sample of a host exactly once."""

from __future__ import annotations

import math
import time

import httpx
import pytest

from app.domain.history import HISTORY_KEYS
from app.store import open_store
from tests.servers import Server, free_port

pytestmark = pytest.mark.server

HOST = "hist-host"


def _samples_of(store, host: str) -> list[float]:
    return sorted(round(i.data["ts"], 3) for i in store.find("metrics", limit=10_000,
                                                              where={"host": host}))


def _wait_for_samples(store, host: str, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(_samples_of(store, host)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} samples of {host}"
        time.sleep(0.2)


def _assert_recorded_once(store, host: str) -> int:
    """Every second with a logged sample of ``host`` is one raw point (the raw tier keeps one
    sample a second) and counts once in each rollup."""
    seconds = sorted({math.floor(ts) for ts in _samples_of(store, host)})
    end = time.time() + 60
    raw = store.history(host, "cpu_percent", "raw", 0, end)
    assert [p[0] for p in raw] == seconds
    for tier in ("1m", "1h"):
        for key in ("cpu_percent", "load1"):
            assert sum(p[4] for p in store.history(host, key, tier, 0, end)) == len(seconds)
    return len(seconds)


def test_two_workers_on_one_sqlite_file_record_each_sample_once(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    env = {"DASHBOARD_STORE_URL": url, "DASHBOARD_HOST_NAME": HOST,
           "DASHBOARD_SAMPLE_INTERVAL": "0.2"}
    store = open_store(url, log_size=10_000, poll_interval=0.1)
    try:
        with Server(free_port(), env, workers=2) as srv:
            _wait_for_samples(store, HOST, 10)
            # Agents' samples, spread over both workers by the kernel, each a request.
            now = time.time()
            with httpx.Client(base_url=srv.url) as client:
                for n in range(20):
                    sample = {"host": "agent-9", "ts": now - 20 + n, "cpu_percent": float(n),
                              "cpu_count": 2, "mem_percent": 1.0, "mem_used": 1.0,
                              "mem_total": 2.0, "disk_percent": 1.0, "disk_used": 1.0,
                              "disk_total": 2.0, "net_rx_bps": 0.0, "net_tx_bps": 0.0,
                              "load1": 0.1, "load5": 0.1, "load15": 0.1, "uptime": 1.0,
                              "temperature": None}
                    response = client.post("/api/v1/samples", json={"samples": [sample]},
                                           headers={"Connection": "close"})
                    assert response.status_code == 202
                answer = client.get("/api/v1/history",
                                    params={"metric": "cpu_percent", "range": "5m"})
                assert answer.status_code == 200 and answer.json()["points"]
        # The server is stopped: nothing is being written while we compare.
        assert _assert_recorded_once(store, HOST) >= 2  # 10 samples at 5 a second
        assert _assert_recorded_once(store, "agent-9") == 20
        assert store.history_many("agent-9", HISTORY_KEYS, "1m", 0, time.time())["temperature"] == []
    finally:
        store.close()


def test_two_instances_on_one_redis_record_each_sample_once(redis_url):
    env = {"DASHBOARD_STORE_URL": redis_url, "DASHBOARD_HOST_NAME": HOST,
           "DASHBOARD_SAMPLE_INTERVAL": "0.2"}
    store = open_store(redis_url, log_size=10_000, poll_interval=0.1)
    try:
        # Two instances (as on two machines) both sample HOST, so they compete for its lease.
        with Server(free_port(), env) as a, Server(free_port(), env) as b:
            _wait_for_samples(store, HOST, 15)
            for srv in (a, b):
                answer = httpx.get(srv.url + "/api/v1/history",
                                   params={"metric": "mem_percent", "range": "1h"})
                assert answer.status_code == 200 and answer.json()["points"]
        assert _assert_recorded_once(store, HOST) >= 3  # 15 samples at 5 a second
    finally:
        store.close()
