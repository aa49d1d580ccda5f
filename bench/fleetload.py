"""A fleet (issue 29): agents posting samples into two dashboards on one Redis, while people
watch the fleet page and one host's page.

    .venv/bin/python -m bench.fleetload                          # 1,000 agents at 1 Hz, 60 s
    .venv/bin/python -m bench.fleetload --hosts 100 --seconds 20 # the small mode (tests)

One ``redis-server`` and two dashboards on it (``gunicorn -c gunicorn.conf.py -w 2``, gevent
workers, sampler off), all on 127.0.0.1. ``--hosts`` agents (``bench.fleetagents``: batches
as ``flask agent`` sends them, processes and containers every 5 samples, an ``ingest`` key)
post at ``--rate`` samples per second each, spread evenly over the interval, half into each
dashboard, from ``--procs`` processes of their own. 10 viewers of ``/fleet/stream`` and 10 of
``/stream?host=<one agent's host>`` (a ``read`` key), half on each dashboard, note when each
sample's marker first shows (``bench.fleetview``), and count the bytes they receive.

Reported: CPU (cores, and CPU seconds per 1,000 samples) of the dashboards, of Redis and of
the generator itself (the agents' processes and the viewers'); samples accepted against posted
and statuses other than 202; latency p50/p99 from a sample's post to its figure on the fleet
page and on its host page; whether every accepted sample is in its host's history; Redis bytes
per host after the run, for a day and for a year (``bench.fleetmem``); bytes per viewer per
second of each page. The fleet page redraws its table every ``app.view.overview.TABLE_STEP``
seconds (its latency holds that wait) and shows the first ``MAX_ROWS`` hosts of its order:
its latency counts the hosts its viewers show. Latencies count from the end of the first send
interval, once every agent posted (the hosts come back from being stale after the rest). Also
reported: p50/p99 from a batch's post to its answer, when it is stored. Exits 1 if no sample
was accepted, one accepted sample is missing, or no latency was measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time

import redis

from app.domain import apikeys
from app.store import open_store
from app.view.overview import TABLE_STEP
from bench import fleetmem, loadgen
from bench.fleetreport import VIEWERS, failures, report
from bench.fleetagents import MARKERS, base_sample, details, figures
from bench.fleetview import latencies, open_viewers
from bench.procstat import cpu_seconds, tree_cpu_seconds, tree_run_wait
from bench.run import ROOT, dashboard, free_port, percentile
from tests.redis_server import RedisServer

def parse(argv=None) -> argparse.Namespace:
    """The command line: ``hosts``, ``seconds`` (of posting), ``rate`` (samples per second per
    agent), ``procs``, ``rest`` (seconds), ``fill_year``, ``profile`` (a folder), ``out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=1000, help="agents (hosts)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of posting")
    parser.add_argument("--rate", type=float, default=1.0, help="samples per second per agent")
    parser.add_argument("--rest", type=float, default=10.0,
                        help="seconds the dashboards' CPU at rest is measured before posting")
    parser.add_argument("--send-every", type=float, default=0.0,
                        help="seconds between two posts of an agent (its --send-every); "
                             "default: each sample at once")
    parser.add_argument("--procs", type=int, default=2, help="processes the agents run in")
    parser.add_argument("--fill-year", action="store_true",
                        help="check the year's Redis figure by writing a whole year of one "
                             "host (history_fill; 15-30 s more)")
    parser.add_argument("--profile", metavar="DIR",
                        help="profile the dashboards' workers (bench/profile_conf.py) into DIR; "
                             "read with python -m bench.profile_report DIR")
    parser.add_argument("--out", help="also write the report (markdown) to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.hosts or args.seconds * args.rate >= MARKERS - 1:
        parser.error(f"--hosts at least 1, and fewer than {MARKERS - 1} samples per host")
    return args


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


#: Batches of ``prime`` per dashboard: enough that each of its two workers very likely gets one.
PRIME_BATCHES = 8


def prime(port: int, token: str, hosts: list[str]) -> None:
    """One sample of each host (marker ``MARKERS - 1``, which the run never uses), with its
    processes and containers, so that every host is known before the viewers open its page.

    In :data:`PRIME_BATCHES` batches (or more, of at most 500): a worker compiles the payload
    schemas at its first batch (pydantic loads then, docs/performance.md), a one-time cost of
    about a third of a second that the CPU per sample is not to count."""
    import httpx

    t = time.time() - 5
    size = min(max(len(hosts) // PRIME_BATCHES, 1), 500)
    for start in range(0, len(hosts), size):
        samples = [{**base_sample(h, random.Random(h)), **figures(MARKERS - 1),
                    **details(h, random.Random(h)), "ts": t} for h in hosts[start:start + size]]
        answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/samples", json={"samples": samples},
                            headers={"Authorization": f"Bearer {token}"}, timeout=60)
        answer.raise_for_status()


def dashboard_of(profile: str | None, env: dict):
    """A dashboard with two workers (``bench.run.dashboard``); with ``profile`` (a folder),
    under ``bench/profile_conf.py``."""
    if not profile:
        return dashboard(workers=2, **env)
    os.makedirs(profile, exist_ok=True)
    server = dashboard(workers=2, BENCH_PROFILE=os.path.abspath(profile), **env)
    server.argv[server.argv.index("gunicorn.conf.py")] = "bench/profile_conf.py"
    return server


def start_agents(folder: str, chosen: list[tuple[str, int, float]], args, start_at: float,
                 t0: float, token: str, index: int) -> tuple[subprocess.Popen, str]:
    """Start one process of agents, ``chosen``: ``[(host, port, offset seconds), ...]``;
    return it and the path its result will be written to."""
    config = os.path.join(folder, f"agents{index}.json")
    result = os.path.join(folder, f"result{index}.json")
    with open(config, "w") as f:
        json.dump({"hosts": [h for h, _, _ in chosen], "ports": [p for _, p, _ in chosen],
                   "offsets": [o for _, _, o in chosen], "interval": 1 / args.rate,
                   "samples": round(args.seconds * args.rate),
                   "per_post": max(round(args.send_every * args.rate), 1),
                   "start_at": start_at, "t0": t0,
                   "token": token}, f)
    proc = subprocess.Popen([sys.executable, "-m", "bench.fleetagents", config, result], cwd=ROOT)
    return proc, result


async def run(args) -> dict:
    """One measurement (module docstring); its figures by name: CPU in seconds over the
    ``seconds`` of posting (``cpu_dashboards`` one per dashboard, ``cpu_redis``, ``cpu_agents``
    one per process, ``cpu_viewers``), ``rest_cores``, ``ran``/``waited`` (seconds), sample
    counts (``taken``, ``posted``, ``accepted``, ``stored``, ``missing``), ``statuses``
    (``{"202": batches, ...}``), latencies in seconds (``fleet_p50``, ``fleet_p99``,
    ``host_p50``, ``host_p99``, with ``*_seen`` and ``*_unseen`` counts; ``answer_p50``,
    ``answer_p99``: from a batch's post to its answer; ``fleet_hosts``: the
    hosts every fleet viewer showed), bytes per viewer per second (``fleet_bps``, ``host_bps``)
    and ``memory``
    (``bench.fleetmem.measure``, bytes)."""
    loadgen.raise_file_limit()
    hosts = [f"agent-{n:04}" for n in range(args.hosts)]
    watched = hosts[0]
    samples = round(args.seconds * args.rate)
    with RedisServer(free_port()) as redis_server, tempfile.TemporaryDirectory() as folder:
        url = redis_server.url + "/0"
        store = open_store(url, log_size=10_000, poll_interval=0.1)
        client = redis.Redis.from_url(url)
        _, ingest = apikeys.add_key(store, "fleet-agents", ["ingest"], by="bench")
        _, read = apikeys.add_key(store, "fleet-viewers", ["read"], by="bench")
        env = {"DASHBOARD_STORE_URL": url, "DASHBOARD_SAMPLER": "0"}
        with dashboard_of(args.profile, env) as one, dashboard_of(args.profile, env) as two:
            servers = (one, two)
            memory_before = fleetmem.used(client)
            halves = [hosts[0::2], hosts[1::2]]  # host n goes to dashboard n % 2
            for server, half in zip(servers, halves):
                prime(server.port, ingest, half)
            await asyncio.sleep(2.0)  # every worker folds the new hosts
            viewers = {"fleet": [], "host": []}
            for server in servers:
                viewers["fleet"] += await open_viewers(server.port, "/fleet/stream",
                                                       VIEWERS // 2, read, None)
                viewers["host"] += await open_viewers(server.port, f"/stream?host={watched}",
                                                      VIEWERS // 2, read, watched)
            # At rest: every host known, the viewers watching, nobody posting.
            rest0 = sum(tree_cpu_seconds(s.pid) for s in servers), time.monotonic()
            await asyncio.sleep(args.rest)
            rest = (sum(tree_cpu_seconds(s.pid) for s in servers) - rest0[0]) / (
                time.monotonic() - rest0[1])
            start_at, t0 = time.monotonic() + 3.0, float(int(time.time()) + 3)
            interval = 1 / args.rate
            procs = [start_agents(folder, [(h, servers[n % 2].port, interval * n / len(hosts))
                                           for n, h in enumerate(hosts) if n % args.procs == p],
                                  args, start_at, t0, ingest, p) for p in range(args.procs)]
            await asyncio.sleep(max(start_at - time.monotonic(), 0))
            pids = [s.pid for s in servers] + [redis_server.proc.pid]
            cpu0 = ([tree_cpu_seconds(s.pid) for s in servers], cpu_seconds(redis_server.proc.pid),
                    _cpu_self(), [tree_run_wait(pid) for pid in pids])
            bytes0 = {page: sum(v.bytes for v in group) for page, group in viewers.items()}
            await asyncio.sleep(samples * interval)
            elapsed = time.monotonic() - start_at
            cpu1 = ([tree_cpu_seconds(s.pid) for s in servers], cpu_seconds(redis_server.proc.pid),
                    _cpu_self(), [tree_run_wait(pid) for pid in pids])
            per_viewer = {page: (sum(v.bytes for v in group) - bytes0[page]) / len(group) / elapsed
                          for page, group in viewers.items()}
            waited = sum(b[1] - a[1] for a, b in zip(cpu0[3], cpu1[3]))
            ran = sum(b[0] - a[0] for a, b in zip(cpu0[3], cpu1[3]))
            results = []
            for proc, path in procs:
                while proc.poll() is None:
                    await asyncio.sleep(0.2)
                with open(path) as f:
                    results.append(json.load(f))
            # The fleet pages' next draw shows the last samples: wait for it, or a while.
            last = max(samples - 1, 0) % MARKERS
            # Every host turned stale while the dashboards rested, and a stale one ranks above
            # a fresh one on the fleet page: until each host posted once, the hosts that had
            # not held the first rows. What each page shows counts from then on.
            settled = start_at + max(round(args.send_every * args.rate), 1) * interval
            shown = [h for h in hosts if all(any(k[0] == h and at >= settled
                                                 for k, at in v.shown.items())
                                             for v in viewers["fleet"])]
            deadline = time.monotonic() + TABLE_STEP + 2
            while time.monotonic() < deadline and not all(
                    (host, last) in viewer.shown for viewer in viewers["fleet"] for host in shown):
                await asyncio.sleep(0.5)
            dropped = sum(v.lost.done() for group in viewers.values() for v in group)
            for group in viewers.values():
                for viewer in group:
                    viewer.close()
        sent = {h: rows for r in results for h, rows in r["sent"].items()}
        statuses: dict[str, int] = {}
        for r in results:
            for status, count in r["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        accepted = {h: sum(1 for _, _, s in rows if s == 202) for h, rows in sent.items()}
        missing = stored = 0
        for host in hosts:  # every accepted sample is in its host's raw history
            points = store.history(host, "load15", "raw", t0 - 0.5, t0 + samples * interval + 1)
            missing += max(accepted.get(host, 0) - len(points), 0)
            stored += len(points)
        memory = fleetmem.measure(store, client, hosts, memory_before, samples,
                                  base_sample(watched, random.Random(0)), args.rate,
                                  args.fill_year)
        client.close()
        store.close()
    fleet_lat, fleet_odd = latencies(viewers["fleet"], {h: sent.get(h, []) for h in shown},
                                     settled)
    host_lat, host_odd = latencies(viewers["host"], {watched: sent.get(watched, [])}, settled)
    answers = [seconds for r in results for seconds in r["answers"]]
    return {
        "hosts": args.hosts, "seconds": elapsed, "rate": args.rate,
        "send_every": args.send_every, "procs": len(procs),
        "taken": args.hosts * samples, "posted": sum(len(rows) for rows in sent.values()),
        "accepted": sum(accepted.values()), "statuses": statuses, "missing": missing,
        "stored": stored,
        "cpu_dashboards": [b - a for a, b in zip(cpu0[0], cpu1[0])],
        "cpu_redis": cpu1[1] - cpu0[1], "cpu_agents": [r["cpu"] for r in results],
        "cpu_viewers": cpu1[2] - cpu0[2], "rest_cores": rest, "ran": ran, "waited": waited,
        "fleet_p50": percentile(fleet_lat, 0.5), "fleet_p99": percentile(fleet_lat, 0.99),
        "fleet_seen": len(fleet_lat), "fleet_unseen": fleet_odd, "fleet_hosts": len(shown),
        "fleet_bps": per_viewer["fleet"], "host_bps": per_viewer["host"],
        "host_p50": percentile(host_lat, 0.5), "host_p99": percentile(host_lat, 0.99),
        "host_seen": len(host_lat), "host_unseen": host_odd, "viewers_dropped": dropped,
        "answer_p50": percentile(answers, 0.5), "answer_p99": percentile(answers, 0.99),
        "memory": memory,
    }


def main(argv=None) -> int:
    """Run, print the figures and the report; the exit status (1: ``failures``)."""
    args = parse(argv)
    result = asyncio.run(run(args))
    print(json.dumps({k: v for k, v in result.items()}, default=str), flush=True)
    text = report(result)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    bad = failures(result)
    for reason in bad:
        print(f"FAILED: {reason}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
