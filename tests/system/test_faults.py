"""Faults against real gunicorn (gevent workers) on 127.0.0.1: kill -9, SIGHUP, a client that
stops reading, Redis going away. Every event accepted with a 2xx reaches every stream exactly
once, in log order, across reconnects with ``Last-Event-ID``. Each runs on SQLite or a plain
Redis URL and again on Redis Sentinel (``redis+sentinel://``; the failover itself is
``test_failover.py``'s).

Events are posted with a sequence number in their message (``seq-<n>``). A POST whose answer
was lost (its worker was killed mid-request) is "unsure": it may or may not be stored, so a
stream may show it or not, but never twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from dataclasses import dataclass, field

import httpx
import psutil
import pytest

from bench import loadgen
from tests.redis_sentinel import Sentinels
from tests.redis_server import RedisServer
from tests.servers import Server, free_port
from tests.sse_async import ResumingStream, run, wait_until

pytestmark = pytest.mark.server

EVENTS = "/api/v1/stream?channels=events"


def store_url(request, tmp_path, backend: str) -> str:
    """The store of a test run on ``backend``: a fresh SQLite file, or the session's Sentinel
    set, emptied."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 's.sqlite3'}"
    return request.getfixturevalue("sentinel_url")


def alive(pid: int) -> bool:
    """Whether ``pid`` runs and is not a zombie; a process may exit between any two psutil calls."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@dataclass
class Posted:
    """What a poster sent: seq -> (status, log id) for answered POSTs; seqs whose answer was lost."""

    answered: dict[int, tuple[int, int | None]] = field(default_factory=dict)
    unsure: set[int] = field(default_factory=set)
    sent_at: dict[int, float] = field(default_factory=dict)

    @property
    def accepted(self) -> set[int]:
        return {seq for seq, (status, _) in self.answered.items() if status == 201}


async def post_events(url: str, posted: Posted, *, count: int | None, rate: float,
                      stop: asyncio.Event | None = None) -> None:
    """POST events ``seq-0``, ``seq-1``, ... at ``rate`` per second, ``count`` of them or until
    ``stop`` is set; record every answer in ``posted``."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as api:
        seq = 0
        started = time.monotonic()
        while (count is None or seq < count) and not (stop and stop.is_set()):
            await asyncio.sleep(max(started + seq / rate - time.monotonic(), 0))
            posted.sent_at[seq] = time.monotonic()
            try:
                response = await api.post("/api/v1/events", json={"message": f"seq-{seq}"})
            except httpx.TransportError:
                posted.unsure.add(seq)
            else:
                body = response.json()
                posted.answered[seq] = (response.status_code, body.get("id"))
            seq += 1


def seqs(stream: ResumingStream) -> list[int]:
    """The sequence numbers of the events a stream received, in arrival order."""
    return [int(m.data["message"].removeprefix("seq-")) for m in stream.events("event")]


def assert_exactly_once(stream: ResumingStream, posted: Posted) -> None:
    """Every accepted event once, in increasing log id order; nothing that was not sent."""
    got = seqs(stream)
    ids = [int(m.id) for m in stream.events("event")]
    assert ids == sorted(set(ids)), "log ids out of order or repeated"
    assert len(got) == len(set(got)), "an event arrived twice"
    assert posted.accepted <= set(got), f"lost: {sorted(posted.accepted - set(got))[:10]}"
    assert set(got) <= posted.accepted | posted.unsure


def worker_pids(srv: Server) -> set[int]:
    """The PIDs of the arbiter's worker processes."""
    return {child.pid for child in psutil.Process(srv.proc.pid).children()}


def worker_holding(srv: Server, client_port: int) -> int:
    """The PID of the worker whose socket is connected to 127.0.0.1:``client_port``."""
    for pid in worker_pids(srv):
        for conn in psutil.Process(pid).net_connections("tcp"):
            if conn.raddr and conn.raddr.port == client_port:
                return pid
    raise AssertionError(f"no worker holds the connection from port {client_port}")


@pytest.mark.parametrize("backend", ["sqlite", "sentinel"])
def test_kill_9_of_the_stream_holder_loses_no_event_and_sampling_goes_on(request, tmp_path,
                                                                          backend):
    env = {"DASHBOARD_STORE_URL": store_url(request, tmp_path, backend)}
    with Server(free_port(), env, workers=2) as srv:
        run(_kill_9(srv))


async def _kill_9(srv: Server) -> None:
    stream = ResumingStream(srv.port, "/api/v1/stream?channels=events,metrics").start()
    try:
        await asyncio.wait_for(stream.connected.wait(), 5)
        holder = worker_holding(srv, stream.local_port)
        posted = Posted()
        poster = asyncio.create_task(post_events(srv.url, posted, count=300, rate=100))
        await wait_until(lambda: len(posted.answered) >= 100, 10, "100 events posted")
        os.kill(holder, signal.SIGKILL)
        killed_at = time.time()
        await poster
        # Every POST answered got 201; only one in flight on the killed worker's connection
        # may have lost its answer (sequential posts: at most one).
        assert {status for status, _ in posted.answered.values()} == {201}
        assert len(posted.unsure) <= 1 and len(posted.answered) + len(posted.unsure) == 300
        await wait_until(lambda: posted.accepted <= set(seqs(stream)), 15,
                         "every accepted event on the resumed stream")
        assert stream.connects >= 2  # it did lose its worker and resume elsewhere
        assert_exactly_once(stream, posted)
        # Whichever worker held the sampler lease, samples go on within 5 s of the kill.
        def after_kill() -> list[float]:
            return [m.data["ts"] - killed_at for m in stream.events("metric")
                    if m.data["ts"] > killed_at]

        await wait_until(after_kill, 6, "a host sample after the kill")
        assert min(after_kill()) < 5
    finally:
        await stream.stop()


@pytest.mark.parametrize("backend", ["sqlite", "sentinel"])
def test_sighup_with_200_streams_resumes_every_one_and_old_workers_exit(request, tmp_path,
                                                                        backend):
    env = {"DASHBOARD_STORE_URL": store_url(request, tmp_path, backend),
           "DASHBOARD_SAMPLER": "0"}
    with Server(free_port(), env, workers=2) as srv:
        run(_sighup(srv))


async def _sighup(srv: Server) -> None:
    graceful_timeout = 10  # gunicorn.conf.py
    streams = [ResumingStream(srv.port, EVENTS).start() for _ in range(200)]
    try:
        await wait_until(lambda: all(s.connected.is_set() for s in streams), 20,
                         "200 streams open")
        old = worker_pids(srv)
        posted = Posted()
        poster = asyncio.create_task(post_events(srv.url, posted, count=150, rate=30))
        await wait_until(lambda: len(posted.answered) >= 30, 10, "30 events posted")
        os.kill(srv.proc.pid, signal.SIGHUP)
        hup_at = time.monotonic()
        await wait_until(lambda: not any(alive(pid) for pid in old),
                         graceful_timeout, "the old workers gone within graceful_timeout")
        gone_after = time.monotonic() - hup_at
        await poster
        assert {status for status, _ in posted.answered.values()} == {201}
        assert len(posted.unsure) <= 1 and len(posted.answered) + len(posted.unsure) == 150
        assert worker_pids(srv).isdisjoint(old) and len(worker_pids(srv)) == 2
        await wait_until(lambda: all(posted.accepted <= set(seqs(s)) for s in streams), 30,
                         "every accepted event on all 200 streams")
        for stream in streams:
            assert stream.connects >= 2
            # The reload ended it with id: and retry: (docs/deploying.md), not a reset.
            assert stream.endings[0] == "farewell", stream.endings
            assert_exactly_once(stream, posted)
        print(f"old workers gone {gone_after:.2f} s after SIGHUP; "
              f"{len(posted.accepted)} events on each of 200 streams")
    finally:
        await asyncio.gather(*(s.stop() for s in streams))


@pytest.mark.parametrize("backend", ["sqlite", "sentinel"])
def test_sigterm_ends_every_stream_with_a_farewell_and_the_next_server_resumes_them(
        request, tmp_path, backend):
    env = {"DASHBOARD_STORE_URL": store_url(request, tmp_path, backend),
           "DASHBOARD_SAMPLER": "0"}
    run(_sigterm(free_port(), env))


async def _sigterm(port: int, env: dict[str, str]) -> None:
    first = await asyncio.to_thread(Server(port, env, workers=2).start)
    second = None
    streams = [ResumingStream(port, EVENTS).start() for _ in range(20)]
    try:
        await wait_until(lambda: all(s.connected.is_set() for s in streams), 20,
                         "20 streams open")
        posted, stop = Posted(), asyncio.Event()
        poster = asyncio.create_task(post_events(first.url, posted, count=None, rate=20,
                                                 stop=stop))
        await wait_until(lambda: len(posted.answered) >= 30, 10, "30 events posted")
        await asyncio.to_thread(first.stop)  # SIGTERM by PID; it waits for the exit
        second = await asyncio.to_thread(Server(port, env, workers=2).start)
        await wait_until(lambda: len(posted.accepted) >= 60, 20, "30 more events posted")
        stop.set()
        await poster
        assert {status for status, _ in posted.answered.values()} <= {201}
        await wait_until(lambda: all(posted.accepted <= set(seqs(s)) for s in streams), 20,
                         "every accepted event on all 20 streams")
        for stream in streams:
            assert stream.endings[0] == "farewell", stream.endings
            assert_exactly_once(stream, posted)
    finally:
        await asyncio.gather(*(s.stop() for s in streams))
        if second is not None:
            await asyncio.to_thread(second.stop)


@pytest.mark.serial  # its p99 bound needs the CPUs to itself, not shared with other tests
@pytest.mark.parametrize("backend", ["sqlite", "sentinel"])
def test_a_stalled_client_is_dropped_while_100_others_keep_a_low_p99(request, tmp_path,
                                                                    backend):
    # Events of 1,900 ampersands make each message (the new event alone) about 10 KB once
    # escaped, so the stalled client's socket buffers (at most 4 MB here) and then its queue
    # of 8 messages fill within the run.
    env = {"DASHBOARD_STORE_URL": store_url(request, tmp_path, backend),
           "DASHBOARD_SAMPLER": "0", "DASHBOARD_QUEUE_SIZE": "8"}
    with Server(free_port(), env) as srv:
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", srv.port))
        stalled.sendall(b"GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")  # then never reads
        try:
            measured, drops = run(_others_while_one_stalls(srv))
        finally:
            stalled.close()
    latencies = sorted(measured.latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(f"100 clients, {len(latencies)} deliveries: p50 {latencies[len(latencies) // 2] * 1000:.1f}"
          f" ms, p99 {p99:.1f} ms; slow consumers dropped: {drops}")
    assert measured.post_errors == 0
    assert len(latencies) == 100 * measured.posted  # every message reached every other client
    assert drops >= 1
    # A wide bound: a shared VM once gave 112 ms to this test running alone (p99 is usually
    # well under 100 ms); one client blocking the others would hold them for seconds.
    assert p99 < 250


async def _others_while_one_stalls(srv: Server) -> tuple[loadgen.Run, float]:
    run = loadgen.Run()
    clients = await loadgen.open_clients(srv.port, "/stream", 100, run)
    try:
        await loadgen.post_events(srv.port, run, rate=30, count=300, pad=1900, pad_char="&")
        deadline = time.monotonic() + 30  # a condition, not a pause: slow machines take longer
        while (sum(c.delivered for c in clients) < 100 * run.posted
               and time.monotonic() < deadline):
            await asyncio.sleep(0.05)
    finally:
        for client in clients:
            client.close()
    async with httpx.AsyncClient() as api:
        text = (await api.get(srv.url + "/metrics")).text
    drops = sum(float(line.split()[-1]) for line in text.splitlines()
                if line.startswith("dashboard_slow_consumer_drops_total"))
    return run, drops


@pytest.mark.parametrize("backend", ["redis", "sentinel"])
def test_redis_stopped_and_restarted_during_ingest(backend):
    # On Sentinel the primary comes back before the sentinels would give up on it (their
    # down-after-milliseconds is 30 s here): a restart, not a failover.
    if backend == "redis":
        cluster, redis_server = None, RedisServer(free_port(), durable=True).start()
        url = redis_server.url + "/0"
    else:
        cluster = Sentinels(down_after=30_000, durable=True).start()
        redis_server, url = cluster.primary(), cluster.url
    try:
        env = {"DASHBOARD_STORE_URL": url, "DASHBOARD_SAMPLER": "0",
               "DASHBOARD_HEARTBEAT": "0.5"}
        with Server(free_port(), env) as srv:
            run(_redis_outage(srv, redis_server))
    finally:
        (cluster or redis_server).stop()


async def _redis_outage(srv: Server, redis_server: RedisServer) -> None:
    stream = ResumingStream(srv.port, EVENTS).start()
    try:
        await asyncio.wait_for(stream.connected.wait(), 5)
        posted, stop = Posted(), asyncio.Event()
        poster = asyncio.create_task(post_events(srv.url, posted, count=None, rate=20, stop=stop))
        await asyncio.sleep(1)
        redis_server.halt()
        halted = time.monotonic()
        pings_before = stream.pings
        await asyncio.sleep(3)
        pings_during = stream.pings - pings_before
        restarting = time.monotonic()
        redis_server.start()
        restarted = time.monotonic()
        await asyncio.sleep(3)
        stop.set()
        await poster
        statuses = {status for status, _ in posted.answered.values()}
        assert statuses <= {201, 503} and not posted.unsure  # answered, never a 5xx of another kind
        # Sent while Redis was surely down (this loop blocks in halt() and start()).
        during = [s for s, t in posted.sent_at.items() if halted + 0.5 < t < restarting - 0.5]
        after = [s for s, t in posted.sent_at.items() if t > restarted + 1]
        assert during and all(posted.answered[s][0] == 503 for s in during)
        assert after and all(posted.answered[s][0] == 201 for s in after)
        print(f"heartbeats while Redis was away for 3 s: {pings_during}")
        assert pings_during >= 2  # the stream kept heartbeating while Redis was away
        # Everything acknowledged is in the log and on the stream, which never restarted.
        await wait_until(lambda: posted.accepted <= set(seqs(stream)), 10,
                         "every accepted event on the stream after the restart")
        assert_exactly_once(stream, posted)
        assert stream.connects == 1
        async with httpx.AsyncClient() as api:
            logged = (await api.get(srv.url + "/api/v1/events?limit=500")).json()
        assert {int(e["message"].removeprefix("seq-")) for e in logged} >= posted.accepted
    finally:
        await stream.stop()


@pytest.mark.parametrize("backend", ["redis", "sentinel"])
def test_a_redis_that_comes_back_empty_restarts_every_stream(request, backend):
    # A Redis restarted without persistence (or FLUSHDB) numbers the log from 1 again: the
    # dashboard notices within a sweep, reloads, and its streams start over.
    url = request.getfixturevalue(f"{backend}_url")
    primary = (f"redis://127.0.0.1:{request.getfixturevalue('sentinels').primary().port}/0"
               if backend == "sentinel" else url)
    env = {"DASHBOARD_STORE_URL": url, "DASHBOARD_SAMPLER": "0"}
    with Server(free_port(), env) as srv:
        run(_emptied(srv, primary))


async def _emptied(srv: Server, redis_url: str) -> None:
    import redis

    json_stream = ResumingStream(srv.port, EVENTS).start()
    page = ResumingStream(srv.port, "/stream").start()
    try:
        await asyncio.wait_for(json_stream.connected.wait(), 5)
        await asyncio.wait_for(page.connected.wait(), 5)
        posted = Posted()
        await post_events(srv.url, posted, count=30, rate=100)
        await wait_until(lambda: len(seqs(json_stream)) == 30, 5, "30 events before the reset")
        with redis.Redis.from_url(redis_url) as client:
            client.flushdb()
        async with httpx.AsyncClient(base_url=srv.url) as api:
            first = (await api.post("/api/v1/events", json={"message": "after-reset"})).json()
            assert first["id"] == 1
            await wait_until(lambda: json_stream.events("resync"), 5, "a resync on the JSON stream")
            resync = json_stream.events("resync")[-1].data
            assert resync["reason"] == "unknown" and resync["latest_id"] >= 1
            await wait_until(lambda: page.connects >= 2 and any(
                "after-reset" in m.data for m in page.messages[-3:]), 5,
                "a fresh snapshot with the new event on the page stream")
            later = (await api.post("/api/v1/events", json={"message": "live-again"})).json()
        await wait_until(lambda: any(m.data.get("message") == "live-again"
                                     for m in json_stream.events("event")), 5,
                         "live events on the JSON stream after the resync")
        assert int(json_stream.events("event")[-1].id) == later["id"]
    finally:
        await json_stream.stop()
        await page.stop()
