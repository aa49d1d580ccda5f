"""The loss of the Redis primary, three times over: Debian's Redis on 127.0.0.1 as a primary, a
replica and three sentinels (``down-after-milliseconds`` 2000), two dashboards of two gevent
workers each on ``redis+sentinel://``, agents posting samples and a program posting events
while the primary is killed with ``kill -9``.

Each round measures the time from the kill until writes succeed again, and shows that open
pages go on, that an approval answered just before the kill is still answered after it, and
that each lease is held by one live process. At the end every event that got a 201 is in the
log and on both JSON streams, once; an event acknowledged in the last instant before a kill may
be lost (replication is asynchronous): the test prints how many were (none, so far).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import httpx
import psutil
import pytest
import redis

from app.store import open_store
from tests.redis_sentinel import Sentinels
from tests.servers import Server, free_port
from tests.sse_async import ResumingStream, run, wait_until

pytestmark = [pytest.mark.server, pytest.mark.slow]  # about a minute

ROUNDS = 3
#: The issue's target: writes work again at most this many seconds after the kill.
RECOVERY_TARGET = 10.0
#: An event acknowledged this close before a kill may not have reached the replica yet.
IN_FLIGHT = 0.5
LEASES = ("sampler:dash-a", "sampler:dash-b", "evaluator", "notifier", "janitor")


@dataclass
class Writes:
    """Every write a poster made: seq -> (status or None when no answer, sent, answered), in
    time.monotonic() seconds."""

    answers: dict[int, tuple[int | None, float, float]] = field(default_factory=dict)

    def accepted(self, after: float = float("-inf"), before: float = float("inf")) -> set[int]:
        return {seq for seq, (status, _, at) in self.answers.items()
                if status is not None and 200 <= status < 300 and after <= at < before}

    def first_success_after(self, moment: float) -> float | None:
        """When the first write sent after ``moment`` got a 2xx (None: none did yet)."""
        return min((at for status, sent, at in self.answers.values()
                    if status is not None and 200 <= status < 300 and sent > moment),
                   default=None)

    def failures_after(self, moment: float) -> int:
        return sum(1 for status, sent, _ in self.answers.values()
                   if sent > moment and status not in range(200, 300))


async def post_events(urls: list[str], writes: Writes, stop: asyncio.Event,
                      rate: float = 20) -> None:
    """POST ``seq-<n>`` events at ``rate`` per second, alternately to each of ``urls``."""
    async with httpx.AsyncClient(timeout=10) as client:
        seq = 0
        while not stop.is_set():
            sent = time.monotonic()
            try:
                response = await client.post(urls[seq % len(urls)] + "/api/v1/events",
                                             json={"message": f"seq-{seq}"})
                status = response.status_code
            except httpx.TransportError:
                status = None
            writes.answers[seq] = (status, sent, time.monotonic())
            seq += 1
            await asyncio.sleep(max(sent + 1 / rate - time.monotonic(), 0))


async def post_samples(url: str, host: str, writes: Writes, stop: asyncio.Event) -> None:
    """An agent: one sample of ``host`` every half second."""
    async with httpx.AsyncClient(timeout=10) as client:
        seq = 0
        while not stop.is_set():
            sent = time.monotonic()
            sample = {"host": host, "ts": time.time(), "cpu_percent": 10.0 + seq % 50,
                      "cpu_count": 4, "mem_percent": 40.0, "mem_used": 4 << 30,
                      "mem_total": 8 << 30, "disk_percent": 50.0, "disk_used": 50 << 30,
                      "disk_total": 100 << 30, "net_rx_bps": 1536.0, "net_tx_bps": 0.0,
                      "load1": 0.5, "load5": 0.4, "load15": 0.3, "uptime": 1000.0 + seq,
                      "temperature": None}
            try:
                response = await client.post(url + "/api/v1/samples", json={"samples": [sample]})
                status = response.status_code
            except httpx.TransportError:
                status = None
            writes.answers[seq] = (status, sent, time.monotonic())
            seq += 1
            await asyncio.sleep(0.5)


def seqs(stream: ResumingStream) -> list[int]:
    return [int(m.data["message"].removeprefix("seq-")) for m in stream.events("event")
            if m.data.get("message", "").startswith("seq-")]


def owner_pid(owner: str | None) -> int | None:
    """The PID in a lease holder's name, ``host:pid:nonce``."""
    return int(owner.split(":")[1]) if owner else None


def workers(server: Server) -> set[int]:
    return {child.pid for child in psutil.Process(server.proc.pid).children()}


def test_three_kills_of_the_primary_each_ride_through_within_10_s(tmp_path):
    with Sentinels(down_after=2000) as cluster:
        env = {"DASHBOARD_STORE_URL": cluster.url, "DASHBOARD_HEARTBEAT": "1",
               # A receiver that is never there: the notifier runs, and holds its lease.
               "DASHBOARD_WEBHOOK_URLS": f"http://127.0.0.1:{free_port()}/hook"}
        with Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "dash-a"}, workers=2) as a, \
                Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "dash-b"}, workers=2) as b:
            recoveries, lost = run(_rounds(cluster, a, b))
    print("writes again after each kill of the primary: "
          + ", ".join(f"{r:.2f} s" for r in recoveries)
          + f"; events acknowledged just before a kill and lost: {lost}")
    assert len(recoveries) == ROUNDS and max(recoveries) <= RECOVERY_TARGET


async def _rounds(cluster: Sentinels, a: Server, b: Server) -> tuple[list[float], int]:
    pages = [ResumingStream(s.port, "/stream").start() for s in (a, b)]
    feeds = [ResumingStream(s.port, "/api/v1/stream?channels=events").start() for s in (a, b)]
    events, agents, stop = Writes(), [Writes(), Writes()], asyncio.Event()
    recoveries, kills, tasks, shown = [], [], [], []
    try:
        # The writers start once every stream is open: a fresh JSON stream starts at the
        # latest id, so an event posted before it connected is not its to deliver (the first
        # event went missing that way, one run in two).
        await wait_until(lambda: all(s.connected.is_set() for s in pages + feeds), 20,
                         "pages and JSON streams open")
        tasks = [asyncio.create_task(post_events([a.url, b.url], events, stop)),
                 asyncio.create_task(post_samples(a.url, "agent-1", agents[0], stop)),
                 asyncio.create_task(post_samples(b.url, "agent-2", agents[1], stop))]
        async with httpx.AsyncClient(timeout=10) as api:
            for round_ in range(ROUNDS):
                await wait_until(lambda: len(events.accepted(time.monotonic() - 1)) >= 10, 20,
                                 "events accepted before the kill")
                # An approval asked on one dashboard and answered on the other, then the kill.
                asked = await api.post(a.url + "/api/v1/approvals", json={"title": "Ship?"})
                assert asked.status_code == 201, asked.text
                approval_id = asked.json()["id"]
                answered = await api.post(b.url + f"/api/v1/approvals/{approval_id}/response",
                                          json={"approved": True, "reason": f"round {round_}"})
                assert answered.status_code == 200, answered.text

                killed = cluster.kill_primary()
                killed_at = time.monotonic()
                kills.append(killed_at)
                await wait_until(lambda: events.first_success_after(killed_at), 30,
                                 "an event accepted after the kill")
                recovered_at = events.first_success_after(killed_at)
                recoveries.append(recovered_at - killed_at)
                assert events.failures_after(killed_at) > 0  # the outage was real
                primary = cluster.primary()
                assert primary is not killed

                # The decision a person saw accepted stands, read through either dashboard.
                for server in (a, b):
                    got = (await api.get(server.url + f"/api/v1/approvals/{approval_id}")).json()
                    assert (got["state"], got["reason"]) == ("approved", f"round {round_}")

                # Open pages go on: each shows an event posted after the failover.
                def page_shows_new_event(page: ResumingStream) -> bool:
                    fresh = [s for s in events.accepted(recovered_at + 0.5)]
                    return any(m.at > recovered_at and any(f"seq-{s}<" in m.data for s in fresh)
                               for m in page.messages if isinstance(m.data, str))

                # A wide bound: under a loaded suite this once took over 15 s.
                await wait_until(lambda: all(page_shows_new_event(p) for p in pages), 30,
                                 lambda: "both pages show an event posted after the failover; "
                                 + "; ".join(f"page {n}: {p.connects} connects, endings "
                                             f"{p.endings}, last message "
                                             f"{time.monotonic() - p.messages[-1].at:.1f} s ago"
                                             for n, p in enumerate(pages) if p.messages))
                shown.append(time.monotonic() - recovered_at)
                # Agents' samples are taken again.
                for agent in agents:
                    await wait_until(lambda agent=agent: agent.first_success_after(killed_at),
                                     15, "an agent's sample accepted after the failover")

                # Each lease is held by one live worker (the sampler of a host by one of that
                # host's dashboard), in the new primary.
                with redis.Redis(port=primary.port, decode_responses=True) as client:
                    def holders() -> dict[str, int | None]:
                        return {name: owner_pid(client.get(f"dashboard:lease:{name}"))
                                for name in LEASES}

                    live = workers(a) | workers(b)
                    await wait_until(lambda: all(pid in live for pid in holders().values()),
                                     15, f"every lease held by a live worker: {holders()}")
                    held = holders()
                    assert held["sampler:dash-a"] in workers(a)
                    assert held["sampler:dash-b"] in workers(b)

                ready = (await api.get(a.url + "/readyz")).json()
                assert ready["store"]["primary"] == f"127.0.0.1:{primary.port}"
                assert ready["store"]["failovers"] >= 1

                cluster.rejoin(killed)  # back as a replica: ready for the next round
        await asyncio.sleep(1)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    try:
        # Every event acknowledged is in the log, but those acknowledged in the last instant
        # before a kill, which the replica may not have had yet (counted, and printed).
        store = open_store(cluster.url, log_size=10_000, poll_interval=0.1)
        try:
            logged = {int(i.data["message"].removeprefix("seq-"))
                      for i in store.find("event", limit=100_000)
                      if i.data.get("message", "").startswith("seq-")}
        finally:
            store.close()
        # While no primary was known, writes got 503 (never another error, never no answer).
        assert {status for status, _, _ in events.answers.values()} <= {201, 503}
        for agent in agents:
            assert {status for status, _, _ in agent.answers.values()} <= {202, 503}
        in_flight = set().union(*(events.accepted(k - IN_FLIGHT, k) for k in kills))
        accepted = events.accepted()
        missing = accepted - logged
        assert missing <= in_flight, f"lost: {sorted(missing - in_flight)[:10]}"
        # Both JSON streams got every logged event once, across the failovers.
        for feed in feeds:
            await wait_until(lambda feed=feed: accepted & logged <= set(seqs(feed)), 15,
                             lambda feed=feed: "every logged event on the JSON stream; missing "
                             f"{sorted(accepted & logged - set(seqs(feed)))[:20]} of "
                             f"{len(accepted & logged)}; the kills after {kills}")
            got = seqs(feed)
            assert len(got) == len(set(got)), "an event arrived twice"
        for page in pages:
            assert page.messages[-1].at > kills[-1]
        print("both pages show a new event after writes recovered: "
              + ", ".join(f"{s:.2f} s" for s in shown))
        return recoveries, len(missing)
    finally:
        for stream in pages + feeds:
            await stream.stop()
