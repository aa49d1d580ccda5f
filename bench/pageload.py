"""What making a page costs on the Redis log of a busy fleet (issue 29).

    .venv/bin/python -m bench.pageload [--items 10000]

A page is made (``app.view.regions.LiveView.load``) when someone first opens a host, a
range or a language in a worker; it reads the latest events, custom series and tasks from the
log. On a fleet the log is mostly samples and their process lists, and those kinds are rare in
it, so the scan goes back through the whole log. One ``redis-server`` on 127.0.0.1, a store with
``--items`` items of a fleet (a sample of ``bench.fleetagents`` four times in five, a process
list once), then, in the same run: the way a page read the log before (three scans, every
item decoded) and now (``Store.recent_many``: one scan, only the wanted kinds decoded). Prints
the CPU and wall milliseconds of each (median of 5) and their ratio; exits 1 if the two do not
find the same items, or find none of a kind.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time

from app.store import open_store
from bench.fleetagents import base_sample, details, figures
from bench.run import free_port
from tests.redis_server import RedisServer

#: What a page asks of the log: kind -> count (``app.view.regions``: feed, CUSTOM_KEPT, tasks).
WANTED = {"event": 20, "custom": 50, "task": 200}
ROUNDS = 5


def fill(store, items: int) -> None:
    """Append a few events, tasks and custom series, then ``items`` items of a fleet (500 per
    batch): the page's kinds are the oldest, so that every scan goes back through the log."""
    for n in range(3):
        store.append("event", {"level": "info", "message": f"event {n}"})
        store.append("task", {"id": f"t{n}", "state": "running", "progress": n})
        store.append("custom", {"host": "agent-0001", "key": f"c{n}", "value": n})
    rng = random.Random(0)
    sample = {**base_sample("agent-0001", rng), **figures(1), "ts": time.time()}
    rows = [{k: v for k, v in row.items() if k != "cmdline"}
            for row in details("agent-0001", rng)["processes"]]
    entries = [("processes", {"host": "agent-0001", "ts": 1.0, "processes": rows}, None)
               if n % 5 == 0 else ("metrics", sample, None) for n in range(items)]
    for start in range(0, items, 500):
        store.append_batch(entries[start:start + 500])


def before(store) -> dict:
    """The former way: a scan back per kind, decoding every item it passes."""
    found = {}
    for kind, count in WANTED.items():
        found[kind] = []
        for item in store._backwards():  # every item decoded, as the scan did
            if item.kind == kind:
                found[kind].append(item)
                if len(found[kind]) == count:
                    break
    return found


def timed(read) -> tuple[float, float, dict]:
    """(median CPU ms, median wall ms, what the last round found) over :data:`ROUNDS`."""
    cpu, wall = [], []
    for _ in range(ROUNDS):
        c, w = time.process_time(), time.perf_counter()
        found = read()
        cpu.append(1000 * (time.process_time() - c))
        wall.append(1000 * (time.perf_counter() - w))
    return statistics.median(cpu), statistics.median(wall), found


def main(argv=None) -> int:
    """Measure and print (module docstring); the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="items in the log")
    args = parser.parse_args(argv)
    with RedisServer(free_port()) as server:
        store = open_store(server.url + "/0", log_size=args.items + 100, poll_interval=0.1)
        try:
            fill(store, args.items)
            old = timed(lambda: before(store))
            new = timed(lambda: store.recent_many(WANTED))
        finally:
            store.close()
    print(f"A page's reads of a Redis log of {args.items:,} fleet items (median of {ROUNDS}):")
    print(f"  three scans, every item decoded: CPU {old[0]:.0f} ms, wall {old[1]:.0f} ms")
    print(f"  one scan, wanted kinds decoded:  CPU {new[0]:.0f} ms, wall {new[1]:.0f} ms")
    print(f"  ratio (now / before): CPU {new[0] / old[0]:.2f}x, wall {new[1] / old[1]:.2f}x")
    ids = [{kind: [item.id for item in items] for kind, items in found[2].items()}
           for found in (old, new)]
    if ids[0] != ids[1] or not all(ids[0].values()):
        print(f"FAILED: the two ways found {ids[0]} and {ids[1]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
