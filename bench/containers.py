"""What the containers source costs: ``python -m bench.containers [--seconds N] [--count N]``.

Starts a throw-away dockerd (``tests.docker_engine``, as the tests do) with ``--count`` (20)
running containers, then measures the dashboard (one gevent worker, sampler at 1 Hz) reading
that engine, each beside a baseline measured in the same run:

- idle CPU, % of one core, with nobody viewing: only the events reader and a list every 30 s;
  baseline: the same worker with ``DASHBOARD_CONTAINERS=0``; target: the difference at most 0.1;
- CPU with one viewer, statistics of every container every ``DASHBOARD_CONTAINER_INTERVAL``
  (10 s); baseline: one viewer without the source; target: at most 1 % of one core in all;
- the engine's own CPU (dockerd and its containerd) in both, since each statistics reading
  costs it too;
- bytes per viewer per second of the containers table and card, against the whole stream.

Where no engine can run (not root, no dockerd) it says so and exits 0. The machine is shared:
figures are noisy; run it twice before trusting a difference.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import psutil

from bench.host import Viewer, cpu_over
from bench.run import dashboard
from tests.docker_engine import IMAGE, DockerEngine, why_not

REGIONS = ("containers", "container-counts")


def engine_cpu_seconds(pid: int) -> float:
    """CPU seconds of dockerd and its descendants (its containerd)."""
    total = 0.0
    for proc in (psutil.Process(pid), *psutil.Process(pid).children(recursive=True)):
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


async def measure(engine: DockerEngine, seconds: float, viewed: bool, **env: str) -> dict:
    """The dashboard's and the engine's CPU (% of one core) over ``seconds``, and a viewer's
    bytes per second (all, and of :data:`REGIONS`) when ``viewed``."""
    with dashboard(DASHBOARD_SAMPLER="1", DOCKER_HOST=engine.url, **env) as server:
        viewer = None
        if viewed:
            viewer = Viewer(server.port)
            await viewer.start()
        await asyncio.sleep(8)  # the lease, the first list, the viewer count, a first reading
        before = viewer.snapshot() if viewer else (0, {})
        engine_before, started = engine_cpu_seconds(engine.proc.pid), time.monotonic()
        cpu = await cpu_over(server.pid, seconds)
        elapsed = time.monotonic() - started
        engine_cpu = 100 * (engine_cpu_seconds(engine.proc.pid) - engine_before) / elapsed
        after = viewer.snapshot() if viewer else (0, {})
        if viewer:
            viewer.close()
    region_bytes = sum(after[1].get(n, 0) - before[1].get(n, 0) for n in REGIONS)
    return {"cpu": cpu, "engine": engine_cpu, "bytes": (after[0] - before[0]) / elapsed,
            "region_bytes": region_bytes / elapsed}


async def main(seconds: float, count: int) -> None:
    reason = why_not()
    if reason:
        print(f"skipped: {reason}")
        return
    with DockerEngine() as engine:
        client = engine.client()
        for n in range(count):
            client.containers.run(IMAGE, ["sleep", "100000"], name=f"bench-{n}", detach=True,
                                  network_mode="none")
        client.close()
        print(f"{count} running containers on {engine.url}; {seconds:g} s per measurement",
              flush=True)
        off = await measure(engine, seconds, False, DASHBOARD_CONTAINERS="0")
        idle = await measure(engine, seconds, False)
        print(f"idle CPU, % of one core (no viewer): {idle['cpu']:.2f} (source off: "
              f"{off['cpu']:.2f}; added {idle['cpu'] - off['cpu']:+.2f}, target ≤ 0.1); "
              f"engine {idle['engine']:.2f} (source off: {off['engine']:.2f})", flush=True)
        base = await measure(engine, seconds, True, DASHBOARD_CONTAINERS="0")
        watched = await measure(engine, seconds, True)
        print(f"CPU with one viewer, statistics every 10 s, % of one core: {watched['cpu']:.2f} "
              f"(source off: {base['cpu']:.2f}; added {watched['cpu'] - base['cpu']:+.2f}); "
              f"target ≤ 1; engine {watched['engine']:.2f} (source off: {base['engine']:.2f})",
              flush=True)
        print(f"bytes per viewer per second: {watched['bytes']:.0f} (source off: "
              f"{base['bytes']:.0f}); the containers table and card: "
              f"{watched['region_bytes']:.0f}", flush=True)


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of each measurement (default 60)")
    parser.add_argument("--count", type=int, default=20, help="running containers (default 20)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse()
    asyncio.run(main(args.seconds, args.count))
