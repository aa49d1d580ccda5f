"""The live slice against real gunicorn with a gevent worker on 127.0.0.1."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from app.view.regions import REGIONS
from tests.conftest import simulate_host
from tests.servers import Server, free_port
from tests.sse_client import SSEClient, card, number, region

pytestmark = pytest.mark.server


def test_stream_sends_snapshot_then_cpu_changes(server):
    simulate_host(server.url)  # a busy machine's own CPU may read 100.0 % sample after sample
    started = time.monotonic()
    with SSEClient(server.url + "/stream") as client:
        assert client.response.headers["content-type"].startswith("text/event-stream")
        assert client.response.headers["cache-control"] == "no-cache, no-transform"
        assert client.response.headers["x-accel-buffering"] == "no"
        snapshot = client.next(timeout=2)
        assert snapshot.at - started < 2
        assert snapshot.event is None and snapshot.id is not None and snapshot.retry
        for name in REGIONS + ("badge",):
            assert region(snapshot.data, name), name
        assert "LIVE" in region(snapshot.data, "badge")

        first_cpu = number(snapshot.data, "cpu")
        changed = client.wait_for(lambda m: card(m.data, "cpu") is not None, timeout=3)
        assert int(changed.id) > int(snapshot.id)
        assert number(changed.data, "cpu") is not None
        # A change message carries only what changed, never the whole page again.
        assert region(changed.data, "events") is None
        assert changed.at - snapshot.at < 3, (first_cpu, number(changed.data, "cpu"))


def test_event_reaches_two_clients_within_a_second(server):
    marker = f"deploy {time.time_ns()} <b>done</b>"
    with SSEClient(server.url + "/stream") as a, SSEClient(server.url + "/stream") as b:
        a.next(timeout=2), b.next(timeout=2)
        posted = time.monotonic()
        response = httpx.post(server.url + "/api/v1/events",
                              json={"level": "error", "message": marker, "source": "ci"})
        assert response.status_code == 201
        escaped = marker.replace("<", "&lt;").replace(">", "&gt;")
        for client in (a, b):
            got = client.wait_for(lambda m: escaped in m.data, timeout=1)
            assert got.at - posted < 1
            assert "level-error" in region(got.data, "events")
            assert int(got.id) >= response.json()["id"]


def test_closing_a_client_drops_the_viewer_count(tmp_path):
    # A server of its own, so no client of another test is still being counted. The server
    # notices a closed connection at its next write (a sample every second), then updates the
    # count within a second.
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"}
    with Server(free_port(), env) as srv, SSEClient(srv.url + "/stream") as watcher:
        watcher.next(timeout=2)
        watcher.wait_for(lambda m: number(m.data, "viewers") == "1", timeout=3)
        extra = SSEClient(srv.url + "/stream")
        extra.next(timeout=2)
        watcher.wait_for(lambda m: number(m.data, "viewers") == "2", timeout=3)
        extra.close()
        watcher.wait_for(lambda m: number(m.data, "viewers") == "1", timeout=4)


def test_poll_honours_etag_304_while_unchanged_then_200_with_the_change(tmp_path):
    # No sampler: nothing but this test writes, so the tag moves only when it says so.
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}", "DASHBOARD_SAMPLER": "0"}
    with Server(free_port(), env) as srv:
        first = httpx.get(srv.url + "/poll")
        assert first.status_code == 200 and "POLLING" in first.text
        etag = first.headers["etag"]
        for path in ("/poll", "/fragments/events"):
            unchanged = httpx.get(srv.url + path, headers={"If-None-Match": etag})
            assert unchanged.status_code == 304 and unchanged.content == b""
            assert unchanged.headers["etag"] == etag
        event_id = httpx.post(srv.url + "/api/v1/events",
                              json={"message": "etag moved"}).json()["id"]
        deadline = time.monotonic() + 10
        while (changed := httpx.get(srv.url + "/poll", headers={"If-None-Match": etag})
               ).status_code == 304 and time.monotonic() < deadline:
            time.sleep(0.05)  # the tailer folds the event within its interval
        assert changed.status_code == 200 and changed.headers["etag"] == f'"{event_id}"'
        assert "etag moved" in changed.text
        fragment = httpx.get(srv.url + "/fragments/events", headers={"If-None-Match": etag})
        assert fragment.status_code == 200 and "etag moved" in fragment.text


def test_stream_ends_cleanly_after_its_lifetime(tmp_path):
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}",
           "DASHBOARD_STREAM_LIFETIME": "1", "DASHBOARD_HEARTBEAT": "0.3",
           "DASHBOARD_SAMPLE_INTERVAL": "60"}
    with Server(free_port(), env) as srv, SSEClient(srv.url + "/stream") as client:
        client.next(timeout=2)
        heartbeat = client.wait_for(lambda m: "ping" in m.comments, timeout=2)
        assert heartbeat.data == ""
        farewell = client.wait_for(lambda m: m.retry is not None, timeout=3)
        assert farewell.id is not None
        with pytest.raises(EOFError):
            client.next(timeout=2)


def test_streams_leave_gunicorns_pool_once_the_hub_owns_them(tmp_path):
    """gunicorn's pool has room for 2 connections; 3 viewers stream and a fourth connection
    posts an event: the Hub owns 2 streams (their requests' greenlets ended, StreamWorker in
    gunicorn.conf.py), the third stays in the pool (past the Hub's limit of
    worker_connections), and every stream ends as a complete chunked response."""
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}",
           "DASHBOARD_SAMPLER": "0", "DASHBOARD_HEARTBEAT": "0.5",
           "GUNICORN_WORKER_CONNECTIONS": "2"}
    with Server(free_port(), env) as srv:
        viewers = [SSEClient(srv.url + "/stream") for _ in range(3)]
        try:
            for viewer in viewers:
                viewer.next(timeout=5)
            with httpx.Client(base_url=srv.url, headers={"Connection": "close"}) as api:
                assert api.post("/api/v1/events", json={"message": "through"}).status_code == 201
            for viewer in viewers:
                viewer.wait_for(lambda m: "through" in m.data, timeout=5)
        finally:
            for viewer in viewers:
                viewer.close()
        with SSEClient(srv.url + "/stream") as last:  # the others were noticed gone
            last.wait_for(lambda m: number(m.data, "viewers") == "1", timeout=10)
    assert "Traceback" not in srv.log, srv.log


def test_bad_configuration_stops_start_up_naming_the_variable(tmp_path):
    srv = Server(free_port(), {"DASHBOARD_SAMPLE_INTERVAL": "often",
                               "DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    with pytest.raises(RuntimeError, match="DASHBOARD_SAMPLE_INTERVAL"):
        srv.start(timeout=20)
    srv.stop()


def test_a_client_that_stops_reading_is_dropped_and_others_get_everything(tmp_path):
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}",
           "DASHBOARD_SAMPLER": "0", "DASHBOARD_QUEUE_SIZE": "8"}
    with Server(free_port(), env) as srv, SSEClient(srv.url + "/stream") as reader, \
            socket.socket() as stalled:
        reader.next(timeout=2)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", srv.port))
        stalled.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # then never reads
        reader.wait_for(lambda m: number(m.data, "viewers") == "2", timeout=3)
        # Each event goes alone (the feed sends its new items): 2,000 ampersands make one
        # about 10 KB once escaped, so that 300 of them overflow what the kernel buffers
        # for the stalled client (at most 4 MB here) and then its queue of 8.
        big = "&" * 1990
        viewers = []  # every viewer count the reader was sent

        def sent(marker):
            def seen(message):
                viewers.append(number(message.data, "viewers"))
                return marker in message.data
            return seen

        with httpx.Client(base_url=srv.url) as api:
            for n in range(300):
                assert api.post("/api/v1/events", json={"message": f"m{n} {big}"}).status_code == 201
                if n % 4 == 3:
                    # The reader keeps up (4 behind at most, its queue holds 8), however busy
                    # the machine: only the stalled client may fall behind.
                    reader.wait_for(sent(f"m{n} "), timeout=10)  # m299 included
        if "1" not in viewers:
            reader.wait_for(lambda m: number(m.data, "viewers") == "1", timeout=5)


def test_task_stream_sends_progress_then_complete_and_ends(server):
    import json

    url = server.url + "/api/v1/tasks/build-7"
    assert httpx.put(url, json={"state": "pending", "progress": 0}).status_code == 200
    with SSEClient(url + "/stream") as client:
        assert client.response.headers["content-type"].startswith("text/event-stream")
        first = client.next(5)
        assert first.event == "progress" and json.loads(first.data)["state"] == "pending"
        for progress in (30, 70):
            httpx.put(url, json={"state": "running", "progress": progress, "estimated_seconds": 3})
            message = client.next(5)
            data = json.loads(message.data)
            assert message.event == "progress" and data["progress"] == progress
            assert int(message.id) > int(first.id)
            assert set(data) == {"task_id", "state", "progress", "estimated_seconds", "updated_at"}
        httpx.put(url, json={"state": "succeeded", "progress": 100})
        last = client.next(5)
        assert last.event == "complete" and json.loads(last.data)["state"] == "succeeded"
        with pytest.raises(EOFError):
            client.next(5)
    assert httpx.get(url + "/stream").status_code == 200  # a finished task: one message, ends
    assert httpx.get(server.url + "/api/v1/tasks/none/stream").status_code == 404


def test_two_hosts_on_one_redis_see_each_others_writes(redis_url):
    # Two gunicorns stand for two hosts behind a balancer; each samples "its" host.
    env = {"DASHBOARD_STORE_URL": redis_url}
    with Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-a"}) as a, \
            Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-b"}) as b:
        marker = f"written through a {time.time_ns()}"
        with SSEClient(b.url + "/stream") as client:
            client.next(timeout=2)
            response = httpx.post(a.url + "/api/v1/events",
                                  json={"level": "info", "message": marker, "source": "ci"})
            assert response.status_code == 201
            stored = time.monotonic()  # a's first request also loads its payload schemas
            got = client.wait_for(lambda m: marker in m.data, timeout=2)
            assert got.at - stored < 1  # XREAD BLOCK wakes b's tailer, no polling
            assert int(got.id) >= response.json()["id"]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            hosts = httpx.get(b.url + "/api/v1/metrics").json()["hosts"]
            if {"host-a", "host-b"} <= set(hosts):
                break
            time.sleep(0.2)
        assert {"host-a", "host-b"} <= set(hosts)


def test_one_sampler_per_host_and_another_worker_takes_over_when_it_dies(tmp_path):
    import os
    import signal

    from app.store import open_store

    url = f"sqlite:///{tmp_path / 's.sqlite3'}"
    with Server(free_port(), {"DASHBOARD_STORE_URL": url}, workers=2) as srv:
        store = open_store(url, log_size=10_000, poll_interval=0.1)
        try:
            time.sleep(4.5)
            now = time.time()
            recent = [i for i in store.since(0) if i.kind == "metrics" and i.ts > now - 4]
            assert 2 <= len(recent) <= 5  # 1 Hz from one worker, not 2 Hz from two
            lease = f"sampler:{socket.gethostname()}"  # not the janitor's, also in the table
            holder = store.holder(lease)
            pid = int(holder.split(":")[-2])
            assert pid != srv.proc.pid  # a worker, not the arbiter
            os.kill(pid, signal.SIGKILL)
            killed_at = time.time()
            deadline = killed_at + 5
            while time.time() < deadline:
                if any(i.kind == "metrics" and i.ts > killed_at + 0.5 for i in store.since(0)):
                    break
                time.sleep(0.2)
            else:
                raise AssertionError("no sample within 5 s of the sampler's death")
            new_holder = store.holder(lease)
            assert new_holder != holder
        finally:
            store.close()


def test_the_viewer_count_adds_up_every_worker(tmp_path):
    from app.store import open_store

    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"}
    with Server(free_port(), env, workers=2) as srv:
        store = open_store(env["DASHBOARD_STORE_URL"], log_size=100, poll_interval=1)
        clients = []
        try:
            # Both workers count themselves in the store once they run (gunicorn answers as soon
            # as the first one does).
            deadline = time.monotonic() + 10
            while len(store.states("viewers:")) < 2:
                assert time.monotonic() < deadline, store.states("viewers:")
                time.sleep(0.1)
            clients = [SSEClient(srv.url + "/stream") for _ in range(6)]
            for client in clients:
                client.next(timeout=2)
            for client in clients:
                client.wait_for(lambda m: number(m.data, "viewers") == "6", timeout=5)
            counts = [c["count"] for c in store.states("viewers:").values()]
            assert sum(counts) == 6 and len(counts) == 2, counts  # one entry per worker
            # The kernel decides which worker accepts a connection, so the test cannot make
            # both hold streams; another process (a worker of another host) that counts 4
            # viewers shows the sum across processes whatever the spread.
            store.set_state("viewers:elsewhere:1:x", {"count": 4, "ts": time.time()})
            for client in clients:
                client.wait_for(lambda m: number(m.data, "viewers") == "10", timeout=5)
            for client in clients[3:]:
                client.close()
            for client in clients[:3]:
                client.wait_for(lambda m: number(m.data, "viewers") == "7", timeout=6)
        finally:
            for client in clients:
                client.close()
            store.close()
