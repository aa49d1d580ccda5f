"""The soak (issue 29): one dashboard for ``--minutes`` under everything at once.

    .venv/bin/python -m bench.run --soak                          # 30 minutes, bench/SOAK.md
    .venv/bin/python -m bench.run --soak --minutes 3 --out /tmp/soak3.md   # a trial

``gunicorn -w 1`` (gevent) on a fresh SQLite store with the sampler at 1 Hz and small store
bounds (:data:`SOAK_LOG_SIZE`, :data:`SOAK_RAW_SECONDS`), and at the same time:

- 1,000 viewers of the live page (10 % reconnecting every minute) and 10 of each of
  :data:`OTHER_PAGES` (the 24-hour page, the fleet page, one agent's page), with a ``read``
  key; events posted at 2/s with an ``ingest`` key;
- :data:`FLEET_HOSTS` agents at 1 Hz (``bench.fleetagents`` in a process of its own: batches as
  ``flask agent`` sends them, processes and containers every 5 samples);
- three people signed in with a password, acting every 10 s with their session cookies and
  each keeping a stream open (``bench.soakpeople``);
- a private dockerd running three containers, one restarting every minute, which the dashboard
  reads through ``DOCKER_HOST`` (``bench.soakdocker``; skipped, and said so, without docker.io).

Each minute: the process tree's RSS and the store's bytes. At the end: the viewers still
counted once every client has gone, the store's rows against their bounds, a sample of the
agents' hosts checked for accepted samples missing from their history, and every process the
soak started (dashboard, agents, dockerd, containerd, containers) checked gone by PID.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

from app.store import open_store
from bench import loadgen, soakpeople
from bench.fleetload import start_agents
from bench.procstat import tree_rss_bytes
from bench.run import dashboard
from bench.soakdocker import Containers, alive
from bench.soakreport import report

#: The soak's store bounds, set low so that 30 minutes reach them: the log keeps this many items
#: (``DASHBOARD_LOG_SIZE``) and the raw history tier this many seconds (``DASHBOARD_HISTORY_RAW``).
SOAK_LOG_SIZE = 2000
SOAK_RAW_SECONDS = 300
#: Agents posting at 1 Hz, and how many of their hosts have their history checked at the end.
FLEET_HOSTS, CHECKED_HOSTS = 100, 10
#: Seconds of the agents' latest samples checked against the history (inside the raw tier).
CHECKED_SECONDS = 200
#: Pages watched besides the live one, by :data:`OTHER_VIEWERS` viewers each: the 24-hour
#: charts, the fleet page and one agent's host page (as ``bench.fleetload`` watches them).
OTHER_PAGES = ("/stream?range=24h", "/fleet/stream", "/stream?host=soak-agent-000")
OTHER_VIEWERS = 10


def _auth(key: str) -> str:
    return f"Authorization: Bearer {key}\r\n"


async def soak(minutes: int, clients: int) -> dict:
    """Run the soak (module docstring) for ``minutes`` with ``clients`` live viewers; return its
    figures: ``rss_mb`` and ``store_mb`` per minute, ``growth`` (a ratio) after minute
    ``settled``, ``viewers_after``, ``dropped``, ``reopened``, ``log_rows``, ``raw_points``,
    ``fleet`` (agents' counts), ``people`` (their counts), ``docker`` and ``left`` (PIDs still
    running after the end)."""
    loadgen.raise_file_limit()
    docker = Containers().start()
    extra = {"DOCKER_HOST": docker.url} if docker.url else {}
    server = dashboard(DASHBOARD_SAMPLER="1", DASHBOARD_LOG_SIZE=str(SOAK_LOG_SIZE),
                       DASHBOARD_HISTORY_RAW=str(SOAK_RAW_SECONDS), DASHBOARD_SIMULATOR="1",
                       DASHBOARD_SECRET_KEY="soak-" + "s" * 32, **extra)
    store = Path(server.tmp.name) / "store.sqlite3"
    url = f"sqlite:///{store}"
    server.env["DASHBOARD_STORE_URL"] = url
    keys = soakpeople.prepare(url)
    read, pids, agents = _auth(keys["read"]), [], None
    try:
        with server, tempfile.TemporaryDirectory(prefix="soak-agents-") as folder:
            pids += [server.pid, *server.workers_pids]
            agents, fleet_at = _agents(folder, server.port, keys["ingest"], minutes)
            pids.append(agents[0].pid)
            run = loadgen.Run()
            viewers = await loadgen.open_clients(server.port, "/stream", clients, run,
                                                 headers=read)
            await asyncio.sleep(max(fleet_at[0] + 2 - time.monotonic(), 0))  # hosts known
            others = {path: await loadgen.open_clients(server.port, path, OTHER_VIEWERS,
                                                       loadgen.Run(), headers=read)
                      for path in OTHER_PAGES}
            poster = asyncio.create_task(loadgen.post_events(
                server.port, run, rate=2, count=minutes * 120, pad=700,
                headers=_auth(keys["ingest"])))
            stop = asyncio.Event()
            people = asyncio.create_task(soakpeople.act_all(server.port, stop))
            rss, size = [], []
            opened, reopened = clients, {}
            for _minute in range(minutes):
                await asyncio.sleep(60)
                # These viewers outlive DASHBOARD_STREAM_LIFETIME (900 s): the server ends their
                # streams by design, and a browser opens a new one at once.
                for path, group in others.items():
                    ended = [c for c in group if c.lost.done()]
                    if ended:
                        others[path] = [c for c in group if not c.lost.done()] + (
                            await loadgen.open_clients(server.port, path, len(ended),
                                                       loadgen.Run(), headers=read))
                        reopened[path] = reopened.get(path, 0) + len(ended)
                rss.append(tree_rss_bytes(server.pid))
                size.append(sum(p.stat().st_size for p in store.parent.glob(store.name + "*")))
                # Each live viewer stays 10 minutes, under the stream lifetime.
                leaving, viewers = viewers[: clients // 10], viewers[clients // 10:]
                for client in leaving:
                    client.close()
                viewers += await loadgen.open_clients(server.port, "/stream", len(leaving), run,
                                                      start=opened, headers=read)
                opened += len(leaving)
            poster.cancel()
            stop.set()
            acted = await people
            restarts = docker.restarts()
            dropped = sum(c.lost.done() for c in viewers)
            for client in viewers + [c for group in others.values() for c in group]:
                client.close()
            fleet = await _agents_result(agents, fleet_at, url)
            count = await _until_zero(server.port, read)
            rows = _store_rows(store)
    finally:
        if agents is not None and agents[0].poll() is None:  # the run failed: stop them
            agents[0].terminate()
            agents[0].wait(10)
        docker_left = docker.stop()
    settled = min(5, len(rss) - 1)  # growth is measured from the end of the fifth minute
    return {"rss_mb": [round(r / 2**20, 1) for r in rss],
            "store_mb": [round(b / 2**20, 2) for b in size],
            "growth": (rss[-1] - rss[settled]) / rss[settled], "settled": settled + 1,
            "viewers_after": count, "dropped": dropped, "reopened": reopened, **rows,
            "fleet": fleet, "people": _people(acted),
            "docker": {"reason": docker.reason, "restarts": restarts, "left": docker_left},
            "left": alive(pids + docker.pids),
            "setup": {"log_size": SOAK_LOG_SIZE, "raw_seconds": SOAK_RAW_SECONDS,
                      "fleet_hosts": FLEET_HOSTS, "checked_hosts": CHECKED_HOSTS,
                      "checked_seconds": CHECKED_SECONDS, "other_pages": OTHER_PAGES}}


def _agents(folder: str, port: int, token: str, minutes: int):
    """Start :data:`FLEET_HOSTS` agents at 1 Hz posting into ``port`` until 10 s before the
    soak's end; return ``((process, result path), (start_at, t0, offsets))``."""
    hosts = [f"soak-agent-{n:03}" for n in range(FLEET_HOSTS)]
    offsets = [n / FLEET_HOSTS for n in range(FLEET_HOSTS)]
    start_at, t0 = time.monotonic() + 3.0, float(int(time.time()) + 3)
    args = SimpleNamespace(rate=1.0, seconds=max(minutes * 60 - 10, 1), send_every=0.0)
    process = start_agents(folder, list(zip(hosts, [port] * FLEET_HOSTS, offsets)), args,
                           start_at, t0, token, 0)
    return process, (start_at, t0, dict(zip(hosts, offsets)))


async def _agents_result(agents, fleet_at, url: str, timeout: float = 60.0) -> dict:
    """The agents' counts once their process ended (stopped by PID after ``timeout`` s):
    samples ``posted``, ``accepted`` (202) and ``failed``, batches by ``statuses``, and of
    :data:`CHECKED_HOSTS` hosts, the accepted samples of the last :data:`CHECKED_SECONDS`
    ``checked`` against their raw history and those ``missing`` from it."""
    proc, path = agents
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)
        return {"error": f"the agents were still posting {timeout:.0f} s after the last "
                         "sample and were stopped", "posted": 0, "accepted": 0, "failed": 0}
    with open(path) as f:
        result = json.load(f)
    _start_at, t0, offsets = fleet_at
    sent = result["sent"]
    rows = [row for host_rows in sent.values() for row in host_rows]
    accepted = sum(1 for row in rows if row[2] == 202)
    store = open_store(url, log_size=SOAK_LOG_SIZE, poll_interval=0.1)
    checked = missing = 0
    try:
        since = time.time() - CHECKED_SECONDS
        for host in sorted(sent)[:: max(len(sent) // CHECKED_HOSTS, 1)][:CHECKED_HOSTS]:
            # The raw tier keys a sample by its whole second (app.store.tiers.raw_stamp).
            times = [math.floor(t0 + k + offsets[host]) for k, _posted, status in sent[host]
                     if status == 202 and t0 + k + offsets[host] >= since]
            if not times:
                continue
            points = store.history(host, "load15", "raw", min(times), max(times) + 1)
            checked += len(times)
            missing += max(len(times) - len(points), 0)
    finally:
        store.close()
    return {"posted": len(rows), "accepted": accepted, "failed": len(rows) - accepted,
            "statuses": result["statuses"], "checked": checked, "missing": missing,
            "seconds": result["elapsed"]}


def _people(people: list) -> dict:
    """The people's counts: ``requests``, ``failures`` (non-2xx or no answer), ``reopened``
    (streams the server ended, opened again), ``by`` role ``(requests, failures)``, and the
    ``first`` failures word for word."""
    return {"requests": sum(p.requests for p in people),
            "failures": sum(p.failures for p in people),
            "reopened": sum(p.reopened for p in people),
            "by": {p.role: (p.requests, p.failures) for p in people},
            "first": [line for p in people for line in p.failed]}


async def _until_zero(port: int, auth: str, timeout: float = 30.0) -> int:
    """The viewer count once it reads 0, or what it reads after ``timeout`` seconds (the server
    notices a closed socket at its next write: a heartbeat at the latest)."""
    deadline = time.monotonic() + timeout
    while (count := await viewer_count(port, auth)) and time.monotonic() < deadline:
        await asyncio.sleep(1.0)
    return count


def _store_rows(path: Path) -> dict:
    """The log's items and the most raw history points of one series, read from the SQLite file."""
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        log_rows = db.execute("SELECT count(*) FROM log").fetchone()[0]
        raw = db.execute("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM history "
                         "WHERE tier = 0 GROUP BY series)").fetchone()[0]
    finally:
        db.close()
    return {"log_rows": log_rows, "raw_points": raw}


async def viewer_count(port: int, auth: str = "") -> int:
    """The viewer count the dashboard shows (``/fragments/viewers``), asked with ``auth`` (a
    credential's header line)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /fragments/viewers HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}"
                 "Connection: close\r\n\r\n".encode())
    body = await reader.read()
    writer.close()
    return int(re.search(rb'<span class="number">(\d+)</span>', body).group(1))


async def main_soak(minutes: int) -> tuple[str, int]:
    """Run the soak; return its report (markdown) and 0 (``bench.run``'s count of messages
    out of order, which the soak does not measure)."""
    return report(await soak(minutes, 1000), minutes), 0
