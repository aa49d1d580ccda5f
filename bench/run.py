"""The benchmark suite: the dashboard's fan-out beside a minimal gevent baseline, in one run.

    .venv/bin/python -m bench.run            # full run (about 8 minutes), writes bench/RESULTS.md
    .venv/bin/python -m bench.run --tiny     # 20 clients, seconds: proves the suite still works
    .venv/bin/python -m bench.run --soak     # only the soak: 10 min at 1,000 viewers, writes SOAK.md

Everything runs on 127.0.0.1 with bounded counts and durations. The dashboard is the real thing:
``gunicorn -c gunicorn.conf.py wsgi:app`` with one gevent worker and a fresh SQLite store.
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
from pathlib import Path

from bench import loadgen
from bench.procstat import children, cpu_seconds, rss_bytes

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

    def __init__(self, argv: list[str], env: dict | None = None) -> None:
        self.port = free_port()
        self.argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-")

    def __enter__(self) -> "Server":
        self.env.setdefault("DASHBOARD_STORE_URL", f"sqlite:///{self.tmp.name}/store.sqlite3")
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc)
        return self

    @property
    def pid(self) -> int:
        """The PID that does the work: gunicorn's one worker, or the process itself."""
        workers = children(self.proc.pid)
        return workers[0] if workers else self.proc.pid

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.tmp.cleanup()


def dashboard(**env: str) -> Server:
    """The dashboard with one gevent worker; ``env`` adds ``DASHBOARD_*`` settings."""
    return Server([str(GUNICORN), "-c", "gunicorn.conf.py", "-b", "127.0.0.1:{port}", "-w", "1",
                   "wsgi:app"],
                  {"GUNICORN_WORKER_CONNECTIONS": "12000", "GUNICORN_LOGLEVEL": "warning", **env})


def baseline(size: int) -> Server:
    """The minimal gevent fan-out server of ``bench/baseline.py``, messages of ``size`` bytes."""
    return Server([sys.executable, "bench/baseline.py", "{port}", str(size)])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


#: The JSON stream's path in the runs that measure it (one message per event, named ``event``).
JSON_STREAM = "/api/v1/stream?channels=events"


async def fanout(server: Server, clients: int, *, rate: float, seconds: float, pad: int,
                 path: str = "/stream") -> dict:
    """``clients`` viewers on ``path`` while events are posted at ``rate`` per second."""
    # Warm up first (imports, template caches, the first stream) so that the memory measured
    # below is what the connections cost, not what the first request loaded.
    warm = await loadgen.open_clients(server.port, path, 2, loadgen.Run())
    await loadgen.post_events(server.port, loadgen.Run(), rate=10, count=2, pad=pad,
                              first=10**9)  # markers the measured run never uses
    for client in warm:
        client.close()
    await asyncio.sleep(0.5)
    run = loadgen.Run()
    pid = server.pid
    rss_before = rss_bytes(pid)
    viewers = await loadgen.open_clients(server.port, path, clients, run)
    await asyncio.sleep(2.0)  # the viewer-count updates of the ramp settle
    rss_after = rss_bytes(pid)
    bytes_before = sum(c.bytes for c in viewers)
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    count = max(int(rate * seconds), 1)
    await loadgen.post_events(server.port, run, rate=rate, count=count, pad=pad)
    deadline = time.monotonic() + 5.0
    while sum(c.delivered for c in viewers) < count * clients and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    elapsed = time.monotonic() - started
    cpu = cpu_seconds(pid) - cpu_before
    received = sum(c.bytes for c in viewers) - bytes_before
    delivered = sum(c.delivered for c in viewers)
    dropped = sum(c.lost.done() for c in viewers)
    for client in viewers:
        client.close()
    latencies = [1000 * x for x in run.latencies]
    return {
        "delivery": delivered / (count * clients),
        "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99), "max": max(latencies, default=float("nan")),
        "cpu_per_1000": 1000 * cpu / max(delivered, 1),
        "rss_per_conn": (rss_after - rss_before) / clients,
        "bytes_per_client_s": received / clients / elapsed,
        "message_bytes": received / max(delivered, 1),
        "disconnected": dropped, "post_errors": run.post_errors,
    }


async def idle(server: Server, seconds: float, viewers: int) -> dict:
    """CPU percent of one core, RSS, and bytes per viewer per second with ``viewers`` open."""
    run = loadgen.Run()
    opened = await loadgen.open_clients(server.port, "/stream", viewers, run) if viewers else []
    await asyncio.sleep(1.0)
    pid = server.pid
    bytes_before = sum(c.bytes for c in opened)
    cpu_before, started = cpu_seconds(pid), time.monotonic()
    await asyncio.sleep(seconds)
    elapsed = time.monotonic() - started
    result = {"cpu_percent": 100 * (cpu_seconds(pid) - cpu_before) / elapsed,
              "rss": rss_bytes(pid),
              "bytes_per_viewer_s": (sum(c.bytes for c in opened) - bytes_before)
              / max(viewers, 1) / elapsed}
    for client in opened:
        client.close()
    return result


async def soak(minutes: int, clients: int) -> dict:
    """``clients`` viewers for ``minutes``; every minute 10 % reconnect; RSS each minute."""
    with dashboard(DASHBOARD_SAMPLER="1") as server:
        run = loadgen.Run()
        viewers = await loadgen.open_clients(server.port, "/stream", clients, run)
        poster = asyncio.create_task(loadgen.post_events(
            server.port, run, rate=2, count=minutes * 120, pad=700))
        rss = []
        opened = clients
        for _minute in range(minutes):
            await asyncio.sleep(60)
            rss.append(rss_bytes(server.pid))
            leaving, viewers = viewers[: clients // 10], viewers[clients // 10:]
            for client in leaving:
                client.close()
            viewers += await loadgen.open_clients(server.port, "/stream", len(leaving), run,
                                                  start=opened)
            opened += len(leaving)
        poster.cancel()
        for client in viewers:
            client.close()
        await asyncio.sleep(5)  # the server notices the closed sockets at its next write
        count = await viewer_count(server.port)
    growth = (rss[-1] - rss[0]) / rss[0] if len(rss) > 1 else 0.0
    return {"rss_mb": [round(r / 2**20, 1) for r in rss], "growth": growth, "viewers_after": count}


async def viewer_count(port: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /fragments/viewers HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    body = await reader.read()
    writer.close()
    return int(re.search(rb'<span class="number">(\d+)</span>', body).group(1))


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


def ratio(ours: float, base: float) -> str:
    if base == 0 or base != base or ours != ours:
        return "–"
    return f"{ours / base:.2f}x"


def table(rows: list[tuple[str, float, float, str, str]]) -> str:
    """Markdown: figure | dashboard | baseline | ratio | target."""
    out = ["| figure | dashboard | baseline | ratio | target |", "|---|---:|---:|---:|---|"]
    for name, ours, base, fmt, target in rows:
        shown_base = "–" if base is None else format(base, fmt)
        out.append(f"| {name} | {format(ours, fmt)} | {shown_base} | "
                   f"{ratio(ours, base) if base is not None else '–'} | {target} |")
    return "\n".join(out)


def fanout_table(clients: int, ours: dict, base: dict, targets: tuple[str, str, str]) -> str:
    """The table of one fan-out size: the dashboard's figures beside the baseline's."""
    p99_target, cpu_target, rss_target = targets
    return table([
        ("delivered (ratio of messages × clients)", ours["delivery"], base["delivery"], ".4f",
         "1.0000" if clients >= 1000 else ""),
        ("latency p50 (ms)", ours["p50"], base["p50"], ".1f", ""),
        ("latency p95 (ms)", ours["p95"], base["p95"], ".1f", ""),
        ("latency p99 (ms)", ours["p99"], base["p99"], ".1f", p99_target),
        ("latency max (ms)", ours["max"], base["max"], ".1f", ""),
        ("server CPU seconds per 1,000 delivered messages", ours["cpu_per_1000"],
         base["cpu_per_1000"], ".4f", cpu_target),
        ("server RSS per connection (KB)", ours["rss_per_conn"] / 1024,
         base["rss_per_conn"] / 1024, ".1f", rss_target),
        ("bytes per client per second", ours["bytes_per_client_s"],
         base["bytes_per_client_s"], ".0f", ""),
        ("bytes per message on the wire", ours["message_bytes"], base["message_bytes"],
         ".0f", "~1 KB fragment"),
        ("clients disconnected by the server", ours["disconnected"], base["disconnected"],
         ".0f", "0"),
    ])


async def main(args) -> str:
    loadgen.raise_file_limit()
    sections = [f"# Benchmark results\n\n{machine()}\n\nCommand: `{' '.join(['python -m bench.run', *sys.argv[1:]])}`; "
                f"events at {args.rate}/s for {args.seconds} s, fragments of ~1 KB "
                "(event text padded, feed of 1), one gevent worker, sampler off for fan-out.\n"]
    fan = {}
    with dashboard(DASHBOARD_SAMPLER="0", DASHBOARD_FEED_SIZE="1") as server:
        for n in args.clients:
            fan[n] = await fanout(server, n, rate=args.rate, seconds=args.seconds, pad=args.pad)
            print(f"dashboard {n}: {fan[n]}", flush=True)
            await asyncio.sleep(3)  # let closed sockets be noticed before the next size
        polled = await loadgen.hammer_poll(server.port, connections=20, seconds=args.poll_seconds)
        print(f"dashboard poll: {polled}", flush=True)
    # A fresh server: after 10,000 sockets, freed memory would make RSS per connection meaningless.
    with dashboard(DASHBOARD_SAMPLER="0", DASHBOARD_FEED_SIZE="1") as server:
        json_fan = await fanout(server, args.json_clients, rate=args.rate, seconds=args.seconds,
                                pad=args.pad, path=JSON_STREAM)
        print(f"dashboard JSON {args.json_clients}: {json_fan}", flush=True)
    size = round(next(iter(fan.values()))["message_bytes"])
    base_fan = {}
    with baseline(size) as server:
        for n in args.clients:
            base_fan[n] = await fanout(server, n, rate=args.rate, seconds=args.seconds,
                                       pad=args.pad)
            print(f"baseline {n}: {base_fan[n]}", flush=True)
            await asyncio.sleep(1)
        base_polled = await loadgen.hammer_poll(server.port, connections=20,
                                                seconds=args.poll_seconds)
    with baseline(round(json_fan["message_bytes"])) as server:  # the JSON message's size
        base_json = await fanout(server, args.json_clients, rate=args.rate,
                                 seconds=args.seconds, pad=args.pad)
        print(f"baseline JSON {args.json_clients}: {base_json}", flush=True)
    with baseline(size) as server:  # a fresh one: memory freed after 10,000 sockets stays mapped
        base_idle = await idle(server, args.idle_seconds, 0)
    with dashboard(DASHBOARD_SAMPLER="1") as server:
        await asyncio.sleep(3)  # start-up and the first samples
        quiet = await idle(server, args.idle_seconds, 0)
        watched = await idle(server, args.idle_seconds, 1)
    print(f"idle: {quiet}; one viewer: {watched}", flush=True)

    targets = {10_000: ("p99 ≤ 300 ms", "≤ 2x baseline", "≤ 20 KB"), 1000: ("p99 ≤ 50 ms", "", "")}
    for n in args.clients:
        sections.append(f"## {n:,} viewers on `/stream`\n\n"
                        + fanout_table(n, fan[n], base_fan[n], targets.get(n, ("", "", ""))) + "\n")
    sections.append(f"## {args.json_clients:,} clients on the JSON stream `{JSON_STREAM}`\n\n"
                    + fanout_table(args.json_clients, json_fan, base_json, ("", "", "")) + "\n")
    sections.append("## Polling, idle cost, normal sampling\n\n" + table([
        ("`/poll` 304s per second (20 keep-alive connections)", polled["per_second"],
         base_polled["per_second"], ".0f", "≥ 2,000"),
        ("idle CPU, % of one core (sampler 1 Hz, no viewer)", quiet["cpu_percent"],
         base_idle["cpu_percent"], ".2f", "≤ 0.5 %"),
        ("idle RSS (MB)", quiet["rss"] / 2**20, base_idle["rss"] / 2**20, ".1f", "≤ 50 MB"),
        ("CPU with one viewer, % of one core", watched["cpu_percent"], None, ".2f", "≤ 1 %"),
        ("bytes per viewer per second, normal sampling", watched["bytes_per_viewer_s"], None,
         ".0f", "≤ 1,500"),
    ]) + "\n")
    return "\n".join(sections)


async def main_soak() -> str:
    loadgen.raise_file_limit()
    result = await soak(10, 1000)
    return (f"# Soak\n\n{machine()}\n\n10 minutes, 1,000 viewers on `/stream`, events at 2/s, "
            f"10 % of the viewers reconnecting every minute, sampler at 1 Hz.\n\n"
            f"- RSS at the end of each minute (MB): {result['rss_mb']}\n"
            f"- growth after the first minute: {100 * result['growth']:.1f} % (target < 5 %)\n"
            f"- viewers counted after all disconnected: {result['viewers_after']} (target 0)\n")


def parse(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1000,10000",
                        type=lambda s: [int(x) for x in s.split(",")])
    parser.add_argument("--json-clients", type=int, default=1000,
                        help="clients on the JSON stream")
    parser.add_argument("--rate", type=float, default=2.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="posting time per size")
    parser.add_argument("--pad", type=int, default=700, help="characters added to each event")
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--soak", action="store_true",
                        help="run only the 10-minute soak; writes bench/SOAK.md")
    parser.add_argument("--tiny", action="store_true", help="20 clients, a few seconds each")
    parser.add_argument("--out", type=Path, help="write the report here "
                        "(default bench/RESULTS.md for a full run, nowhere for --tiny)")
    args = parser.parse_args(argv)
    if args.tiny:
        args.clients, args.seconds, args.poll_seconds, args.idle_seconds = [20], 2.0, 1.0, 2.0
        args.json_clients = 20
    elif args.out is None:
        args.out = ROOT / "bench" / ("SOAK.md" if args.soak else "RESULTS.md")
    return args


if __name__ == "__main__":
    arguments = parse()
    report = asyncio.run(main_soak() if arguments.soak else main(arguments))
    print(report)
    if arguments.out:
        arguments.out.write_text(report)
