"""The benchmark suite: the dashboard's fan-out beside the floor, in one run.

    .venv/bin/python -m bench.run            # full run (about 35 minutes), writes bench/RESULTS.md
    .venv/bin/python -m bench.run --tiny     # 20 clients, seconds: proves the suite still works
    .venv/bin/python -m bench.run --soak     # the soak alone (bench/soak.py), 30 min: SOAK.md

Everything runs on 127.0.0.1 with bounded counts and durations. The dashboard is the real thing:
``gunicorn -c gunicorn.conf.py wsgi:app`` with gevent workers and a fresh store; every size gets
fresh processes (memory freed after a big run stays mapped and would flatter the next). The
floor is ``bench/baseline.py``: the same bytes, framed the same way, put on every socket with the
same non-blocking write. CPU and RSS are the whole process tree's (gunicorn's arbiter and its
workers). The run fails (exit status 1) if any client saw a message twice or out of order.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from bench import loadgen
from bench.procstat import children, sockets, tree_cpu_seconds, tree_pss_bytes, tree_rss_bytes
from bench.quiet import QuietViewers
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port} after {timeout} s")


class Server:
    """A server process started for one part of the run and stopped by PID at the end."""

    def __init__(self, argv: list[str], env: dict | None = None, workers: int = 1,
                 cwd: Path = ROOT) -> None:
        self.port = free_port()
        self.cwd = cwd
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.env = {**os.environ, **(env or {})}
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-")

    def __enter__(self) -> "Server":
        self.env.setdefault("DASHBOARD_STORE_URL", f"sqlite:///{self.tmp.name}/store.sqlite3")
        self.proc = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc)
        deadline = time.monotonic() + 20
        while len(self.workers_pids) < self.workers and time.monotonic() < deadline:
            time.sleep(0.1)  # the arbiter listens before it forks every worker
        return self

    @property
    def pid(self) -> int:
        """The PID whose tree is measured: gunicorn's arbiter, or the process itself."""
        return self.proc.pid

    @property
    def workers_pids(self) -> list[int]:
        return children(self.proc.pid)

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()


def dashboard(workers: int = 1, **env: str) -> Server:
    """The dashboard with ``workers`` gevent workers; ``env`` adds ``DASHBOARD_*`` settings."""
    return Server([str(GUNICORN), "-c", "gunicorn.conf.py", "-b", "127.0.0.1:{port}",
                   "-w", str(workers), "wsgi:app"],
                  {"GUNICORN_WORKER_CONNECTIONS": "22000", "GUNICORN_LOGLEVEL": "warning", **env},
                  workers=workers)


def floor(size: int, mode: str = "write") -> Server:
    """``bench/baseline.py``: messages of ``size`` bytes, written the ``mode`` way."""
    return Server([sys.executable, "bench/baseline.py", "{port}", str(size), mode], workers=0)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


#: Files a load generator or floor process keeps open besides its sockets (and then some).
FD_MARGIN = 1000
#: The JSON stream's path in the runs that measure it (one message per event, named ``event``).
JSON_STREAM = "/api/v1/stream?channels=events"


async def fanout(server: Server, clients: int, *, rate: float, seconds: float, pad: int,
                 path: str = "/stream", others: tuple[Server, ...] = (),
                 delivery_wait: float = 5.0, settle: float = 2.0, timed_every: int = 1) -> dict:
    """``clients`` viewers on ``path`` while events are posted to ``server`` at ``rate`` per
    second. With ``others`` (servers sharing its store), the viewers are split evenly over
    ``server`` and each of them, and ``"p99_by_server"`` gives each one's p99 (ms). After the
    last post, every message is waited for at most ``delivery_wait`` seconds. ``settle``:
    seconds given to the warm-up's end and to the viewers' ramp before memory and CPU are read.
    ``timed_every``: one viewer in that many is timed; the others are counted by
    ``bench.quiet.QuietViewers`` (why: that module's docstring)."""
    servers = (server, *others)
    # Warm up first (imports, template caches, the first stream) so that the memory measured
    # below is what the connections cost, not what the first request loaded.
    for each in servers:
        warm = await loadgen.open_clients(each.port, path, 2 * max(each.workers, 1),
                                          loadgen.Run())
        # One connection per post, a few per worker: each worker that may take the measured
        # run's posts has validated one (its payload schemas load then, not while measured).
        for seq in range(10**9, 10**9 + 4 * max(server.workers, 1)):  # markers never measured
            await loadgen.post_events(server.port, loadgen.Run(), rate=10, count=1, pad=pad,
                                      first=seq)
        for client in warm:
            client.close()
    await asyncio.sleep(settle / 2)
    with QuietViewers() if timed_every > 1 else nullcontext() as quiet:
        return await _measure(servers, clients, quiet, timed_every, path=path, rate=rate,
                              seconds=seconds, pad=pad, delivery_wait=delivery_wait,
                              settle=settle)


async def _measure(servers: tuple[Server, ...], clients: int, quiet: QuietViewers | None,
                   timed_every: int, *, path: str, rate: float, seconds: float, pad: int,
                   delivery_wait: float, settle: float) -> dict:
    shared = loadgen.Run()
    runs = [shared] + [loadgen.Run(post_times=shared.post_times) for _ in servers[1:]]
    rss_before = sum(tree_rss_bytes(each.pid) for each in servers)
    groups = []
    for index, (each, run) in enumerate(zip(servers, runs)):
        share = clients // len(servers) + (index < clients % len(servers))
        start = index * clients
        if quiet is None:
            groups.append(await loadgen.open_clients(each.port, path, share, run, start=start))
            continue
        group = []
        # Opened in turns, a batch at a time, so that the timed viewers are spread over the
        # connection order.
        for offset in range(0, share, 250):
            batch = min(250, share - offset)
            timed = len(range(-offset % timed_every, batch, timed_every))
            quiet.open(each.port, path, batch - timed, start + offset + timed)
            group += await loadgen.open_clients(each.port, path, timed, run,
                                                start=start + offset)
        groups.append(group)
    viewers = [client for group in groups for client in group]
    await asyncio.sleep(settle)  # the viewer-count updates of the ramp settle
    rss_after = sum(tree_rss_bytes(each.pid) for each in servers)
    split = [sockets(pid) for each in servers for pid in each.workers_pids]
    bytes_before = sum(c.bytes for c in viewers)
    count = max(int(rate * seconds), 1)
    if quiet is not None:
        quiet.measure(0, count)  # post_events numbers the markers from 0
    cpu_before = sum(tree_cpu_seconds(each.pid) for each in servers)
    ours_before = time.process_time()
    started = time.monotonic()
    posting = loadgen.post_events(servers[0].port, shared, rate=rate, count=count, pad=pad)
    if quiet is None:
        await posting
    else:
        await asyncio.gather(posting, _lulls(quiet, viewers, shared, count, rate))
    deadline = time.monotonic() + delivery_wait
    while sum(c.delivered for c in viewers) < count * len(viewers) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    cpu = sum(tree_cpu_seconds(each.pid) for each in servers) - cpu_before
    generator = time.process_time() - ours_before
    received = sum(c.bytes for c in viewers) - bytes_before
    counted = {"viewers": 0, "delivered": 0, "duplicates": 0, "reordered": 0,
               "disconnected": 0, "cpu": 0.0}
    if quiet is not None:
        counted = quiet.finish(max(deadline - time.monotonic(), 1.0))
    delivered = sum(c.delivered for c in viewers) + counted["delivered"]
    dropped = sum(c.lost.done() for c in viewers) + counted["disconnected"]
    for client in viewers:
        client.close()
    latencies = [1000 * x for run in runs for x in run.latencies]
    timed_delivered = max(sum(c.delivered for c in viewers), 1)
    return {
        "delivery": delivered / (count * clients),
        "duplicates": sum(c.duplicates for c in viewers) + counted["duplicates"],
        "reordered": sum(c.reordered for c in viewers) + counted["reordered"],
        "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99), "max": max(latencies, default=float("nan")),
        "p99_by_server": [percentile([1000 * x for x in run.latencies], 0.99) for run in runs],
        "cpu_per_1000": 1000 * cpu / max(delivered, 1),
        "generator_cpu_per_1000": 1000 * (generator + counted["cpu"]) / max(delivered, 1),
        "rss_per_conn": (rss_after - rss_before) / clients,
        "bytes_per_client_s": received / len(viewers) / elapsed,
        "message_bytes": received / timed_delivered,
        "disconnected": dropped, "post_errors": shared.post_errors, "split": split,
        "timed": len(viewers),
    }


async def _lulls(quiet: QuietViewers, timed: list[loadgen.StreamClient], run: loadgen.Run,
                 count: int, rate: float) -> None:
    """Have ``quiet`` read its viewers after each of the ``count`` posts of ``run`` (one every
    ``1 / rate`` seconds), once every ``timed`` viewer has it and before the next post."""
    for seq in range(count):
        while seq not in run.post_times:
            await asyncio.sleep(0.005)
        next_post = run.post_times[seq] + 1 / rate
        while time.monotonic() < next_post:
            if sum(c.delivered for c in timed) >= (seq + 1) * len(timed):
                quiet.drain()
                break
            await asyncio.sleep(0.01)


async def idle(server: Server, seconds: float, viewers: int) -> dict:
    """CPU percent of one core, RSS (the process tree's), and bytes per viewer per second with
    ``viewers`` open."""
    run = loadgen.Run()
    opened = await loadgen.open_clients(server.port, "/stream", viewers, run) if viewers else []
    await asyncio.sleep(1.0)
    bytes_before = sum(c.bytes for c in opened)
    cpu_before, started = tree_cpu_seconds(server.pid), time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - started
    result = {"cpu_percent": 100 * (tree_cpu_seconds(server.pid) - cpu_before) / elapsed,
              "rss": tree_rss_bytes(server.pid), "pss": tree_pss_bytes(server.pid),
              "bytes_per_viewer_s": (sum(c.bytes for c in opened) - bytes_before)
              / max(viewers, 1) / elapsed}
    for client in opened:
        client.close()
    return result


# -- the report -------------------------------------------------------------------------------

def machine() -> str:
    model = "unknown CPU"
    try:
        model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text()).group(1)
    except (OSError, AttributeError):
        pass
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip() or "unknown"
    return (f"{platform.node()}: {os.cpu_count()} cores, {model}; Linux {platform.release()}; "
            f"Python {platform.python_version()}; commit {commit}; "
            f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")


def ratio(ours: float, base: float | None) -> str:
    if base is None or base == 0 or base != base or ours != ours:
        return "–"
    return f"{ours / base:.2f}x"


def table(rows: list[tuple], columns: tuple[str, ...] = ("dashboard", "floor")) -> str:
    """Markdown: figure | one column per value | ratio of the first two | target.

    A row is ``(name, value, value..., format, target)``; a value of None shows as "–".
    """
    head = ["figure", *columns, "ratio", "target"]
    out = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(columns) + 1) + "---|"]
    for name, *values, fmt, target in rows:
        shown = ["–" if v is None else format(v, fmt) for v in values]
        out.append(f"| {name} | {' | '.join(shown)} | {ratio(values[0], values[1])} | {target} |")
    return "\n".join(out)


def fanout_table(clients: int, ours: dict, base: dict, targets: tuple[str, str, str],
                 sendall: dict | None = None) -> str:
    """The table of one fan-out size: the dashboard's figures beside the floor's (and the
    ``sendall`` baseline's, if measured)."""
    p99_target, cpu_target, rss_target = targets
    columns = ("dashboard", "floor") + (("gevent sendall",) if sendall else ())

    def row(name, key, fmt, target="", scale=1.0):
        values = [ours[key] / scale, base[key] / scale]
        if sendall:
            values.append(sendall[key] / scale)
        return (name, *values, fmt, target)

    return table([
        row("delivered (ratio of messages × clients)", "delivery", ".4f",
            "1.0000" if clients >= 1000 else ""),
        row("messages seen twice or out of order", "duplicates", ".0f", "0"),
        row("latency p50 (ms)", "p50", ".1f"),
        row("latency p95 (ms)", "p95", ".1f"),
        row("latency p99 (ms)", "p99", ".1f", p99_target),
        row("latency max (ms)", "max", ".1f"),
        row("server CPU seconds per 1,000 delivered messages", "cpu_per_1000", ".4f", cpu_target),
        row("load generator CPU seconds per 1,000 delivered messages", "generator_cpu_per_1000",
            ".4f"),
        row("server RSS per connection (KB)", "rss_per_conn", ".1f", rss_target, 1024),
        row("bytes per client per second", "bytes_per_client_s", ".0f"),
        row("bytes per message on the wire", "message_bytes", ".0f"),
        row("clients disconnected by the server", "disconnected", ".0f", "0"),
    ], columns)


def disorder(result: dict) -> int:
    """Messages a run's clients saw twice or out of order (the suite fails on any)."""
    return result["duplicates"] + result["reordered"]


class Suite:
    """One invocation's measurements, printed as they come and gathered into the report."""

    def __init__(self, args) -> None:
        self.args = args
        self.sections: list[str] = []
        self.disorder = 0
        self.feed = str(args.feed_size)  # DASHBOARD_FEED_SIZE of the fan-out runs
        self.tiny_floor: dict | None = None  # --tiny's one floor run

    async def fan(self, label: str, server: Server, clients: int, **kw) -> dict:
        kw = {"rate": self.args.rate, "seconds": self.args.seconds, "pad": self.args.pad,
              "delivery_wait": self.args.delivery_wait, "settle": self.args.settle, **kw}
        result = await fanout(server, clients, **kw)
        result["duplicates"] = disorder(result)
        self.disorder += result["duplicates"]
        print(f"{label} {clients}: {result}", flush=True)
        return result

    async def floor_of(self, clients: int, size: float, mode: str = "write",
                       timed_every: int = 1) -> dict:
        """The floor's figures for ``clients`` and messages of ``size`` bytes on the wire
        (``timed_every``: as :func:`fanout` takes it)."""
        if self.tiny_floor is not None:  # --tiny: its figures are not read; one run proves it
            return self.tiny_floor
        body = round(size) - len(f"{round(size):X}") - 4  # the chunk framing is added to it
        with floor(body, mode) as server:
            result = await self.fan(f"floor ({mode}, {body} B)", server, clients,
                                    timed_every=timed_every)
        if self.args.tiny:
            self.tiny_floor = result
        return result

    async def one_worker(self) -> None:
        """Fan-out with one worker, the sampler off and a feed of ``--feed-size`` events: the
        messaging path alone."""
        for n in self.args.clients:
            with dashboard(DASHBOARD_SAMPLER="0", DASHBOARD_FEED_SIZE=self.feed) as server:
                ours = await self.fan("dashboard", server, n)
            base = await self.floor_of(n, ours["message_bytes"])
            # gevent's sendall: what the design was measured against once; --tiny proves the
            # suite runs, and the floor is enough for that.
            old = None if self.args.tiny else await self.floor_of(n, ours["message_bytes"],
                                                                  "sendall")
            targets = {10_000: ("p99 ≤ 300 ms", "≤ 2x floor", "≤ 14 KB"),
                       1000: ("p99 ≤ 50 ms", "", "")}.get(n, ("", "", ""))
            self.sections.append(
                f"## {n:,} viewers on `/stream`: one worker, sampler off, feed of {self.feed}\n\n"
                + fanout_table(n, ours, base, targets, old) + "\n")
        n = self.args.json_clients
        with dashboard(DASHBOARD_SAMPLER="0", DASHBOARD_FEED_SIZE=self.feed) as server:
            ours = await self.fan("dashboard JSON", server, n, path=JSON_STREAM)
        base = await self.floor_of(n, ours["message_bytes"])
        self.sections.append(f"## {n:,} clients on the JSON stream `{JSON_STREAM}`\n\n"
                             + fanout_table(n, ours, base, ("", "", "")) + "\n")

    async def default_page(self) -> None:
        """Fan-out as in production: the sampler at 1 Hz, every region, the default feed."""
        for n in self.args.clients:
            with dashboard(DASHBOARD_SAMPLER="1") as server:
                await asyncio.sleep(self.args.settle)  # the first samples
                ours = await self.fan("dashboard, default page", server, n, pad=100)
            base = await self.floor_of(n, ours["message_bytes"])
            self.sections.append(
                f"## {n:,} viewers on `/stream`: the default page, sampler at 1 Hz\n\n"
                "Events of ~200 bytes into the default feed; the floor sends the same bytes "
                "per event as the dashboard's messages averaged (samples included).\n\n"
                + fanout_table(n, ours, base, ("", "", "")) + "\n")

    async def every_core(self) -> None:
        """Two workers splitting the viewers, on SQLite and on Redis, one viewer in
        ``--core-timed-every`` timed (``bench.quiet``)."""
        # The load generator holds every client in this one process and the floor every socket
        # in one: neither can open more files than the hard limit, which a process without
        # CAP_SYS_RESOURCE (a container's root, for one) cannot raise.
        hard = loadgen.raise_file_limit()
        every = self.args.core_timed_every
        for store in ("sqlite", "redis"):
            for asked in self.args.core_clients:
                n = min(asked, hard - FD_MARGIN)
                capped = ("" if n == asked else
                          f"{asked:,} viewers were asked; this machine's open-file hard limit "
                          f"({hard:,} per process) leaves room for {n:,}. ")
                redis = RedisServer(free_port()) if store == "redis" else nullcontext()
                with redis as redis_server:
                    env = {"DASHBOARD_SAMPLER": "0", "DASHBOARD_FEED_SIZE": self.feed}
                    if redis_server is not None:
                        env["DASHBOARD_STORE_URL"] = redis_server.url
                    with dashboard(workers=2, **env) as server:
                        ours = await self.fan(f"dashboard -w 2 {store}", server, n,
                                              timed_every=every)
                base = await self.floor_of(n, ours["message_bytes"], timed_every=every)
                split = " / ".join(f"{s:,}" for s in ours["split"])
                timed = (f"Timed: {ours['timed']:,} viewers, one in {every} of the connection "
                         "order; the others are read between events by a process of their own "
                         "and counted (`bench/quiet.py` says why). " if every > 1 else "")
                self.sections.append(
                    f"## {n:,} viewers on `/stream`: two workers, {store} store\n\n"
                    f"Open sockets per worker while measured (its viewers and a few of its own): "
                    f"{split}. {capped}{timed}"
                    "The floor is one process.\n\n"
                    + fanout_table(n, ours, base, ("p99 ≤ floor", "", "")) + "\n")

    async def two_hosts(self) -> None:
        """Two instances on one Redis, events posted to the first: the hop's added latency."""
        n = self.args.json_clients
        with RedisServer(free_port()) as redis_server:
            env = {"DASHBOARD_SAMPLER": "0", "DASHBOARD_FEED_SIZE": self.feed,
                   "DASHBOARD_STORE_URL": redis_server.url}
            with dashboard(**env) as first, dashboard(**env) as second:
                ours = await self.fan("two instances", first, n, others=(second,))
        same, other = ours["p99_by_server"]
        self.sections.append(
            f"## {n:,} viewers split over two instances on one Redis\n\n"
            "Events posted to the first instance; half the viewers on each.\n\n" + table([
                ("delivered (ratio of messages × clients)", ours["delivery"], None, ".4f",
                 "1.0000"),
                ("messages seen twice or out of order", ours["duplicates"], None, ".0f", "0"),
                ("latency p99, viewers of the posting instance (ms)", same, None, ".1f", ""),
                ("latency p99, viewers of the other instance (ms)", other, None, ".1f", ""),
                ("p99 added by the hop through Redis (ms)", other - same, None, ".1f", "≤ 20 ms"),
            ]) + "\n")

    async def polling_and_idle(self) -> None:
        args = self.args
        with dashboard(DASHBOARD_SAMPLER="0", DASHBOARD_FEED_SIZE=self.feed) as server:
            polled = await loadgen.hammer_poll(server.port, connections=20,
                                               seconds=args.poll_seconds)
        with floor(1000) as server:
            base_polled = await loadgen.hammer_poll(server.port, connections=20,
                                                    seconds=args.poll_seconds)
            base_idle = await idle(server, args.idle_seconds, 0)
        with tempfile.TemporaryDirectory(prefix="bench-") as folder:
            store = f"sqlite:///{folder}/store.sqlite3"
            with dashboard(DASHBOARD_SAMPLER="1", DASHBOARD_STORE_URL=store) as server:
                await asyncio.sleep(1.5 * args.settle)  # start-up and the first samples
                quiet = await idle(server, args.idle_seconds, 0)
                watched = await idle(server, args.idle_seconds, 1)
            # Restarted on the samples of the runs above: its page has figures to show.
            with dashboard(DASHBOARD_SAMPLER="1", DASHBOARD_STORE_URL=store) as server:
                await asyncio.sleep(1.5 * args.settle)
                restarted = await idle(server, args.idle_seconds, 0)
        print(f"poll: {polled}; idle: {quiet}; one viewer: {watched}; restarted: {restarted}",
              flush=True)
        self.sections.append("## Polling, idle cost, normal sampling\n\n" + table([
            ("`/poll` 304s per second (20 keep-alive connections)", polled["per_second"],
             base_polled["per_second"], ".0f", "≥ 2,000"),
            ("idle CPU, % of one core (sampler 1 Hz, no viewer)", quiet["cpu_percent"],
             base_idle["cpu_percent"], ".2f", "≤ 0.5 %"),
            ("idle RSS, arbiter and worker (MB)", quiet["rss"] / 2**20, base_idle["rss"] / 2**20,
             ".1f", "≤ 80 MB"),
            ("idle PSS, arbiter and worker (MB)", quiet["pss"] / 2**20, base_idle["pss"] / 2**20,
             ".1f", "≤ 60 MB"),
            ("idle PSS after a restart on that history (MB)", restarted["pss"] / 2**20,
             base_idle["pss"] / 2**20, ".1f", "≤ 60 MB"),
            ("CPU with one viewer, % of one core", watched["cpu_percent"], None, ".2f", "≤ 1 %"),
            ("bytes per viewer per second, normal sampling", watched["bytes_per_viewer_s"], None,
             ".0f", "≤ 1,200"),
        ]) + "\n")


#: The features' own benchmarks (each a module printing its figures beside a baseline of its
#: own run), run after the fan-out sections: title, module.
FEATURES = (("History tiers: rollup cost and a year of storage", "bench.history"),
            ("Chart panel: live-range bytes and drawing time", "bench.charts"),
            ("Inside the host: sample cost, idle and watched CPU, bytes per region", "bench.host"),
            ("Containers: the source's idle and watched cost with 20 containers, bytes per "
             "viewer", "bench.containers"),
            ("Notifications: the memory Apprise costs the sending worker", "bench.notify"),
            ("What one open stream holds, by allocation site", "bench.memory"),
            ("The fleet: what 100, 500 and 1,000 hosts cost", "bench.fleet"),
            ("Hosts compared: one render of /fleet/compare against one host's panel",
             "bench.compare"),
            ("Compatibility streams: 1,000 subscribers of /api/metrics/stream, one encode per "
             "message", "bench.compat"),
            ("Redis Sentinel against a plain Redis URL: ingest and fan-out", "bench.sentinel"),
            ("Two languages: renders, CPU and bytes per change, 100 + 100 viewers against 200",
             "bench.language"))


def feature_sections() -> list[str]:
    """Run each of :data:`FEATURES` and return its output as a report section.

    :raise subprocess.CalledProcessError: one failed (its output is printed first).
    """
    sections = []
    for title, module in FEATURES:
        print(f"running {module}", flush=True)
        done = subprocess.run([sys.executable, "-m", module], cwd=ROOT, capture_output=True,
                              text=True, timeout=1800)
        print(done.stdout + done.stderr, flush=True)
        done.check_returncode()
        sections.append(f"## {title}\n\nCommand: `python -m {module}`\n\n```\n"
                        f"{done.stdout.strip()}\n```\n")
    return sections


async def main(args) -> tuple[str, int]:
    """Run every section; return the report and how many messages arrived twice or out of order."""
    loadgen.raise_file_limit()
    suite = Suite(args)
    for name in SECTIONS:
        if name in args.only:
            await getattr(suite, name)()
    if not args.tiny and args.only == SECTIONS:
        suite.sections.extend(feature_sections())
    intro = (f"# Benchmark results\n\n{machine()}\n\nCommand: "
             f"`{' '.join(['python -m bench.run', *sys.argv[1:]])}`; events at {args.rate}/s for "
             f"{args.seconds} s, fragments of ~1 KB (event text padded) unless a section says "
             "otherwise. Ratios are to the floor (`bench/baseline.py`: the same bytes and framing, "
             "one non-blocking write per socket) measured in the same run; CPU and RSS are the "
             "whole process tree's; every size runs on fresh processes.\n")
    return "\n".join([intro, *suite.sections]), suite.disorder


#: The fan-out sections, in the report's order (``--only``).
SECTIONS = ("one_worker", "default_page", "every_core", "two_hosts", "polling_and_idle")


def sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",")]


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1000,10000", type=sizes,
                        help="viewer counts of the one-worker and default-page runs")
    parser.add_argument("--core-clients", default="10000,20000", type=sizes,
                        help="viewer counts of the two-worker runs")
    parser.add_argument("--core-timed-every", type=int, default=10,
                        help="the two-worker runs time one viewer in this many (1: every one)")
    parser.add_argument("--json-clients", type=int, default=1000,
                        help="clients on the JSON stream, and viewers of the two-instance run")
    parser.add_argument("--rate", type=float, default=2.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="posting time per size")
    parser.add_argument("--pad", type=int, default=700, help="characters added to each event")
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--soak", action="store_true",
                        help="run only the soak; writes bench/SOAK.md")
    parser.add_argument("--minutes", type=int, default=30, help="the soak's length")
    parser.add_argument("--tiny", action="store_true", help="20 clients, a few seconds each")
    parser.add_argument("--only", default=",".join(SECTIONS), type=lambda t: tuple(t.split(",")),
                        help=f"the sections to run, of {','.join(SECTIONS)} (the features' "
                             "benchmarks run only with all of them)")
    parser.add_argument("--settle", type=float, default=2.0,
                        help="seconds given to start-up and ramps before figures are read")
    parser.add_argument("--feed-size", type=int, default=1,
                        help="events the feed holds in the fan-out runs (DASHBOARD_FEED_SIZE). "
                        "Events that arrive together are folded into one render, which shows "
                        "the newest of them; a feed of one then hides the others, so delivery "
                        "reads below 1 (on SQLite with two workers, the second one reads the "
                        "file every DASHBOARD_TAIL_INTERVAL and folds what it finds)")
    parser.add_argument("--delivery-wait", type=float, default=5.0,
                        help="seconds to wait for the last messages after the last post")
    parser.add_argument("--out", type=Path, help="write the report here "
                        "(default bench/RESULTS.md for a full run, nowhere for --tiny or --only)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.clients, args.core_clients, args.json_clients = [20], [20], 20
        args.rate, args.seconds, args.poll_seconds, args.idle_seconds = 4.0, 1.0, 1.0, 1.0
        args.settle = 0.2  # its figures are not read: delivery and order are
        # A check that every message arrives, on a machine the test suite loads: a wide
        # margin, left as soon as everything arrived.
        args.delivery_wait = 60.0
        # Every event of a run fits in the feed: what one render folds is still delivered, so
        # a shortfall is a loss.
        args.feed_size = round(args.rate * args.seconds)
    elif args.out is None and (args.soak or args.only == SECTIONS):  # a part: printed only
        args.out = ROOT / "bench" / ("SOAK.md" if args.soak else "RESULTS.md")
    return args


if __name__ == "__main__":
    arguments = parse()
    if arguments.soak:
        from bench.soak import main_soak  # the soak's own module, which uses this one's servers

        report, disordered = asyncio.run(main_soak(arguments.minutes))
    else:
        report, disordered = asyncio.run(main(arguments))
    print(report)
    if arguments.out:
        arguments.out.write_text(report)
    if disordered:
        print(f"FAILED: {disordered} messages arrived twice or out of order", file=sys.stderr)
        sys.exit(1)
