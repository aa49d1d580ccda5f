"""What looking inside the host costs: ``python -m bench.host [--seconds N]``.

Prints, each beside a baseline measured in the same run:

- the psutil cost of one sample (in process): the full sample against the calls of the flat
  keys alone (what a sample read before per-core CPU, modes, swap, disks, interfaces, sensors);
- idle CPU of the dashboard's worker (sampler at 1 Hz on this host, no viewer, so no process
  scan), target at most 0.5 % of one core; baseline: the same worker with the sampler off;
- CPU with one viewer and the process table at the default interval (5 s), target at most
  1.5 % of one core; baseline: one viewer with scans an hour apart (as good as none);
- bytes per viewer per second with every panel on, target at most 1,200 on this host (2,000 on
  the simulated one, where every figure moves), split by region, on
  this host and on the simulated host (cores, two disks, two interfaces, five sensors, a
  process list, every figure moving each second); baseline: the regions a page had before
  (everything but ``app.view.catalog.INSIDE_REGIONS``), in the same stream.

The machine is shared: figures are noisy; run it twice before trusting a difference.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
import timeit
from collections import Counter

import psutil

from app.sources.sampler import HostSampler
from app.view.catalog import INSIDE_REGIONS
from bench.procstat import tree_cpu_seconds
from bench.run import dashboard

#: A region's root element: it carries the id and hx-swap-oob (app.view.regions).
_ROOT = re.compile(rb'<[a-z]+ id="([^"]+)"[^>]*hx-swap-oob')


def flat_only() -> None:
    """The psutil calls of the flat keys alone (the sample before this change)."""
    psutil.net_io_counters(pernic=True)
    psutil.cpu_percent(None)
    psutil.virtual_memory()
    psutil.disk_usage("/")
    psutil.getloadavg()


def sample_cost(number: int = 300) -> tuple[float, float]:
    """Microseconds per sample: (full sample, flat keys only)."""
    sampler = HostSampler("bench")
    full = timeit.timeit(sampler.sample, number=number) / number
    flat = timeit.timeit(flat_only, number=number) / number
    return full * 1e6, flat * 1e6


class Viewer:
    """One ``/stream`` reader that counts the bytes it receives, by region."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.total = 0
        self.regions: Counter[str] = Counter()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        writer.write(f"GET /stream HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        self._writer = writer
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        message = b""
        while True:
            line = await reader.readline()
            if not line:
                return
            self.total += len(line)
            message += line
            if line.strip(b"\r\n") == b"" and message.strip():
                self._attribute(message)
                message = b""

    def _attribute(self, message: bytes) -> None:
        """Each region's share of a message: from its root element to the next one's; the
        framing (chunk sizes, ``id:``, ``data: `` prefixes) counts as ``-``."""
        starts = [(m.start(), m.group(1).decode()) for m in _ROOT.finditer(message)]
        if not starts:
            self.regions["-"] += len(message)
            return
        self.regions["-"] += starts[0][0]
        for (start, name), (end, _) in zip(starts, starts[1:] + [(len(message), "")]):
            self.regions[name] += end - start

    def snapshot(self) -> tuple[int, Counter]:
        return self.total, Counter(self.regions)

    def close(self) -> None:
        if self._task:
            self._task.cancel()
        self._writer.close()


async def cpu_over(pid: int, seconds: float) -> float:
    """Percent of one core that ``pid`` and its children (gunicorn's arbiter and worker) used
    over the next ``seconds``."""
    before, started = tree_cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    return 100 * (tree_cpu_seconds(pid) - before) / (time.monotonic() - started)


async def watched_cpu(seconds: float, **env: str) -> float:
    with dashboard(DASHBOARD_SAMPLER="1", **env) as server:
        viewer = Viewer(server.port)
        await viewer.start()
        await asyncio.sleep(8)  # the viewer count reaches the sampler; the first scans
        cpu = await cpu_over(server.pid, seconds)
        viewer.close()
    return cpu


async def main(seconds: float, parts: str) -> None:
    if "cpu" in parts:
        await cpu(seconds)
    if "bytes" in parts:
        await stream_bytes(seconds)


async def cpu(seconds: float) -> None:
    full, flat = sample_cost()
    print(f"psutil cost of one sample: {full:.0f} µs (flat keys only: {flat:.0f} µs, "
          f"x{full / flat:.1f})", flush=True)

    with dashboard(DASHBOARD_SAMPLER="0") as server:
        await asyncio.sleep(3)
        base_idle = await cpu_over(server.pid, seconds)
    with dashboard(DASHBOARD_SAMPLER="1") as server:
        await asyncio.sleep(3)
        idle = await cpu_over(server.pid, seconds)
    print(f"idle CPU, % of one core (sampler 1 Hz, no viewer): {idle:.2f} "
          f"(sampler off: {base_idle:.2f}); target ≤ 0.5", flush=True)

    rare = await watched_cpu(seconds, DASHBOARD_PROCESS_INTERVAL="3600")
    scanned = await watched_cpu(seconds)
    print(f"CPU with one viewer, processes every 5 s, % of one core: {scanned:.2f} "
          f"(scans an hour apart: {rare:.2f}); target ≤ 1.5", flush=True)


async def stream_bytes(seconds: float) -> None:
    for simulated in (False, True):
        with dashboard(DASHBOARD_SAMPLER="1", DASHBOARD_SIMULATOR="1") as server:
            if simulated:
                import httpx  # the test requirements' client, here only

                httpx.post(f"http://127.0.0.1:{server.port}/simulator/host", json={"enabled": True})
            viewer = Viewer(server.port)
            await viewer.start()
            await asyncio.sleep(10)  # past the snapshot, the first scans and a chart step
            total0, regions0 = viewer.snapshot()
            started = time.monotonic()
            await asyncio.sleep(seconds)
            elapsed = time.monotonic() - started
            total1, regions1 = viewer.snapshot()
            viewer.close()
        rates = {name: (regions1[name] - regions0[name]) / elapsed for name in regions1}
        before = sum(rate for name, rate in rates.items() if name not in INSIDE_REGIONS)
        print(f"bytes per viewer per second, every panel on, "
              f"{'simulated host (every figure moves)' if simulated else 'this host'}: "
              f"{(total1 - total0) / elapsed:.0f} (the regions a page had before: {before:.0f}); "
              f"target ≤ {'2,000' if simulated else '1,200 (issue 29; 2,000 before)'}",
              flush=True)
        for name, rate in sorted(rates.items(), key=lambda kv: -kv[1]):
            if rate >= 1:
                print(f"  {name:<14} {rate:6.0f} B/s{'  (new)' if name in INSIDE_REGIONS else ''}")


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0,
                        help="length of each measurement (default 60)")
    parser.add_argument("--parts", default="cpu,bytes",
                        help="what to measure: cpu, bytes or both (default cpu,bytes)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(parse().seconds, parse().parts))
