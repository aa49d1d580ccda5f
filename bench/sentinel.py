"""Redis Sentinel against a plain Redis URL (issue 27): what following the primary through the
sentinels costs on the ingest and fan-out paths, as ratios measured in one run.

    .venv/bin/python -m bench.sentinel               # 3 rounds of each, about 2 minutes
    .venv/bin/python -m bench.sentinel --rounds 1 --clients 50 --seconds 2   # a quick look

One Sentinel set on 127.0.0.1 (``tests.redis_sentinel``: a primary, a replica, three sentinels);
the dashboard (gunicorn, one gevent worker, sampler off, a feed of one) runs on the same primary
once as ``redis://127.0.0.1:<primary>/0`` and once as ``redis+sentinel://.../mymaster/0``,
alternately, ``--rounds`` times each, on fresh processes. Measured each time:

- ingest: ``POST /api/v1/events`` from 8 keep-alive connections for ``--seconds``: requests
  per second and the server's CPU milliseconds per request (the process tree's);
- fan-out: ``bench.run.fanout``, ``--clients`` viewers of ``/stream`` while events are posted
  at ``--rate`` per second: latency p50 and p99 and CPU seconds per 1,000 delivered messages;
- the store alone, in this process: microseconds per ``append`` of an event (the ingest
  path's write) and per ``get_state``, passes of 1,000 alternating between the two URLs, which a
  loaded machine disturbs far less than the figures through gunicorn.

The table gives the median of each figure over the rounds and the ratio Sentinel / plain
(target: costs at most 1.05x, requests per second at least 0.95x). Events are not replicated writes: neither path waits for the replica.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

import httpx

from bench import loadgen
from bench.procstat import tree_cpu_seconds
from bench.run import dashboard, fanout, table
from tests.redis_sentinel import Sentinels


async def ingest(server, seconds: float, connections: int = 8) -> dict:
    """Events posted by ``connections`` loops for ``seconds``: per second, CPU ms each."""
    done, errors = 0, 0
    deadline = time.monotonic() + seconds

    async def poster(client: httpx.AsyncClient) -> None:
        nonlocal done, errors
        while time.monotonic() < deadline:
            response = await client.post("/api/v1/events", json={"message": "ingest"})
            done += 1
            errors += response.status_code != 201

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        await client.post("/api/v1/events", json={"message": "warm-up"})
        cpu, started = tree_cpu_seconds(server.pid), time.monotonic()
        await asyncio.gather(*(poster(client) for _ in range(connections)))
        elapsed, cpu = time.monotonic() - started, tree_cpu_seconds(server.pid) - cpu
    return {"per_second": done / elapsed, "cpu_ms": 1000 * cpu / max(done, 1),
            "errors": errors}


def store_calls(urls: dict[str, str], passes: int = 10, calls: int = 1000) -> dict:
    """``{label: {"append_us": median, "get_us": median}}`` over ``passes`` alternating passes."""
    from app.store import open_store

    stores = {label: open_store(url, log_size=10_000, poll_interval=0.1)
              for label, url in urls.items()}
    timings: dict[str, dict[str, list[float]]] = {k: {"append_us": [], "get_us": []}
                                                  for k in urls}
    try:
        for store in stores.values():
            store.append("event", {"message": "warm-up"})
        for _ in range(passes):
            for label, store in stores.items():
                began = time.perf_counter()
                for n in range(calls):
                    store.append("event", {"level": "info", "message": f"call {n}"})
                middle = time.perf_counter()
                for _ in range(calls):
                    store.get_state("simulator:host")
                ended = time.perf_counter()
                timings[label]["append_us"].append((middle - began) / calls * 1e6)
                timings[label]["get_us"].append((ended - middle) / calls * 1e6)
    finally:
        for store in stores.values():
            store.close()
    return {label: {key: statistics.median(values) for key, values in found.items()}
            for label, found in timings.items()}


async def measure(url: str, args) -> dict:
    with dashboard(DASHBOARD_STORE_URL=url, DASHBOARD_SAMPLER="0",
                   DASHBOARD_FEED_SIZE="1") as server:
        found = await ingest(server, args.seconds)
        fan = await fanout(server, args.clients, rate=args.rate, seconds=args.seconds, pad=700)
    found.update(p50=fan["p50"], p99=fan["p99"], cpu_per_1000=fan["cpu_per_1000"],
                 delivery=fan["delivery"], disorder=fan["duplicates"] + fan["reordered"])
    return found


async def main(args) -> str:
    loadgen.raise_file_limit()
    runs: dict[str, list[dict]] = {"plain": [], "sentinel": []}
    with Sentinels() as cluster:
        urls = {"plain": f"redis://127.0.0.1:{cluster.primary().port}/0",
                "sentinel": cluster.url}
        for round_ in range(args.rounds):
            # Alternate which goes first, so that a drift of the machine favours neither.
            for label in (("plain", "sentinel") if round_ % 2 == 0 else ("sentinel", "plain")):
                runs[label].append(await measure(urls[label], args))
                print(f"round {round_ + 1} {label}: {runs[label][-1]}", flush=True)
        calls = store_calls(urls)
        print(f"store calls: {calls}", flush=True)
        for label in runs:
            for run_ in runs[label]:
                run_.update(calls[label])

    def median(label: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[label])

    def row(name: str, key: str, fmt: str, target: str = "≤ 1.05x") -> tuple:
        return (name, median("sentinel", key), median("plain", key), fmt, target)

    report = table([
        row("ingest: requests per second", "per_second", ".0f", "≥ 0.95x"),
        row("ingest: server CPU ms per request", "cpu_ms", ".3f"),
        row(f"fan-out to {args.clients} viewers: latency p50 (ms)", "p50", ".1f", ""),
        row(f"fan-out to {args.clients} viewers: latency p99 (ms)", "p99", ".1f"),
        row("fan-out: server CPU seconds per 1,000 delivered", "cpu_per_1000", ".4f"),
        row("fan-out: delivered (ratio of messages × clients)", "delivery", ".4f", "1.0000"),
        row("store alone: µs per append of an event", "append_us", ".0f"),
        row("store alone: µs per get_state", "get_us", ".0f"),
    ], ("Sentinel", "plain"))
    bad = sum(r["errors"] + r["disorder"] for rs in runs.values() for r in rs)
    return (f"Redis Sentinel against a plain Redis URL on the same primary, median of "
            f"{args.rounds} rounds each ({args.seconds:g} s of ingest, {args.clients} viewers "
            f"and {args.rate:g} events/s of fan-out per round); "
            f"failed posts, duplicates and reorderings: {bad}\n\n{report}")


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=20.0)
    return parser.parse_args(argv)


if __name__ == "__main__":
    print(asyncio.run(main(parse())))
