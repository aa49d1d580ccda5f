"""What one open ``/stream`` holds in the worker, by allocation site (tracemalloc).

    .venv/bin/python -m bench.memory                 # 2,000 viewers, top 12 sites
    .venv/bin/python -m bench.memory --clients 5000 --top 20

The dashboard runs as in production (``gunicorn -c gunicorn.conf.py``, one gevent worker, the
sampler off and a feed of one, as in the fan-out runs of ``bench.run``) with
``bench/trace_conf.py`` added, which turns Python's tracemalloc on in the worker once it is up
and writes a snapshot when asked. Two snapshots, before and after ``--clients``
viewers connect, differ by what the viewers cost; divided by the viewer count it gives bytes
per stream per allocation site (greenlet stacks included: greenlet saves them with
``PyMem_Malloc``). The whole process tree's RSS per connection is printed beside it: the
difference is memory outside Python's allocator (the kernel's socket buffers are not in RSS).

Beside it, the same number of bare gevent greenlets, each waiting on an event, in a fresh
process of its own: what any design with a greenlet per connection pays before it holds
anything. On CPython 3.11 most of it is outside tracemalloc's view: each greenlet gets its own
frame data stack (a 16 KB mapping, its first page touched) besides the copy of its C stack.
The dashboard's streams no longer pay it: once a stream's first message went out, the Hub
owns its connection and the request's greenlet ends (``StreamWorker`` in gunicorn.conf.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from bench import loadgen
from bench.procstat import tree_rss_bytes
from bench.run import GUNICORN, Server

ROOT = Path(__file__).resolve().parent.parent


def traced(trigger: Path, workers: int = 1) -> Server:
    """The dashboard with tracemalloc on and a snapshot written whenever ``trigger`` appears."""
    return Server([str(GUNICORN), "-c", "bench/trace_conf.py", "-b", "127.0.0.1:{port}",
                   "-w", str(workers), "wsgi:app"],
                  {"GUNICORN_WORKER_CONNECTIONS": "22000", "GUNICORN_LOGLEVEL": "warning",
                   "DASHBOARD_SAMPLER": "0", "DASHBOARD_FEED_SIZE": "1",
                   "BENCH_SNAPSHOT": str(trigger)},
                  workers=workers)


async def snapshot(trigger: Path, timeout: float = 120.0) -> tracemalloc.Snapshot:
    """Ask the worker for a snapshot and wait until it is written."""
    out = trigger.with_suffix(".snap")
    out.unlink(missing_ok=True)
    trigger.touch()
    deadline = time.monotonic() + timeout
    while trigger.exists():
        if time.monotonic() > deadline:
            raise TimeoutError("the worker wrote no snapshot")
        await asyncio.sleep(0.2)
    with out.open("rb") as file:
        return pickle.load(file)


async def measure(clients: int, top: int) -> None:
    loadgen.raise_file_limit()
    folder = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    trigger = folder / "snapshot"
    with traced(trigger) as server:
        warm = await loadgen.open_clients(server.port, "/stream", 4, loadgen.Run())
        for client in warm:
            client.close()
        await asyncio.sleep(2.0)
        before = await snapshot(trigger)
        rss_before = tree_rss_bytes(server.pid)
        viewers = await loadgen.open_clients(server.port, "/stream", clients, loadgen.Run())
        await asyncio.sleep(3.0)  # the viewer-count updates of the ramp settle
        after = await snapshot(trigger)
        rss_after = tree_rss_bytes(server.pid)
        alive = sum(not c.lost.done() for c in viewers)
        for client in viewers:
            client.close()
    if alive != clients:
        sys.exit(f"only {alive} of {clients} viewers stayed connected")
    keep = [tracemalloc.Filter(False, tracemalloc.__file__)]
    before, after = before.filter_traces(keep), after.filter_traces(keep)
    total = sum(d.size_diff for d in after.compare_to(before, "filename"))
    print(f"viewers: {clients:,}")
    print(f"tracemalloc per stream: {total / clients / 1024:.2f} KB")
    print(f"RSS per stream (process tree, tracemalloc's own records included): {(rss_after - rss_before) / clients / 1024:.2f} KB")
    print(f"RSS per bare waiting greenlet: {bare_greenlets(clients) / 1024:.2f} KB")
    print(f"\ntop {top} allocation sites by bytes per stream (innermost frames last):")
    for diff in after.compare_to(before, "traceback")[:top]:
        print(f"\n{diff.size_diff / clients:8.0f} B  {diff.count_diff / clients:5.2f} blocks")
        for line in diff.traceback.format(limit=4):
            print("   ", line.strip())


#: Run in a fresh interpreter by :func:`bare_greenlets`: RSS added by N waiting greenlets.
_BARE = """
import gevent, os, sys
from gevent.event import Event
def rss():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
event, n = Event(), int(sys.argv[1])
gevent.sleep(0)
before = rss()
waiting = [gevent.spawn(event.wait) for _ in range(n)]
gevent.sleep(0.5)
print((rss() - before) / n)
event.set()
"""


def bare_greenlets(count: int) -> float:
    """RSS bytes per gevent greenlet waiting on an event, ``count`` of them in a new process."""
    out = subprocess.run([sys.executable, "-c", _BARE, str(count)], check=True,
                         capture_output=True, text=True).stdout
    return float(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    asyncio.run(measure(args.clients, args.top))


if __name__ == "__main__":
    main()
