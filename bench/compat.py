"""What the compatibility streams cost: 1,000 subscribers of the agent OS dashboard's
``/api/metrics/stream``, one encode per message for all of them.

    .venv/bin/python -m bench.compat                  # 1,000 subscribers, about 40 s
    .venv/bin/python -m bench.compat --clients 200 --seconds 3

1. **Encodes per message**, in one process (the app and its tailer, no server): ``--clients``
   streams opened through the route's generator (``app.live.compat.metrics_stream``), the
   tailer running for ``--seconds``; then the messages the feed encoded (``MetricsFeed.encodes``)
   against the messages the streams were handed, and the tailer's sweep that encodes one and
   hands it to every stream (median, microseconds).
2. **On gunicorn** (``-w 1``, the sampler at 1 Hz, as in production): ``--clients`` raw-socket
   clients on ``/api/metrics/stream`` for ``--seconds``: messages per client per second, every
   client's count, bytes per message, and the process tree's CPU (percent of one core) and RSS
   per connection, beside the same run with no client.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time

import gevent

from app import create_app
from app.live.compat import metrics_stream
from bench import loadgen
from bench.procstat import tree_cpu_seconds, tree_rss_bytes
from bench.run import dashboard

PATH = "/api/metrics/stream"


def in_process(clients: int, seconds: float) -> dict:
    """Encodes against messages handed out, and the tick's time (section 1)."""
    with tempfile.TemporaryDirectory(prefix="bench-compat-") as tmp:
        app = create_app({"TESTING": False, "SAMPLER": False,
                          "STORE_URL": f"sqlite:///{tmp}/store.sqlite3"})
        live = app.extensions["dashboard"]
        live.start()
        feed = live.compat.metrics
        streams = [metrics_stream(live.compat, 3600, None) for _ in range(clients)]
        for stream in streams:
            next(stream)  # the first message: subscribed
        before = feed.encodes
        gevent.sleep(seconds)  # the tailer ticks meanwhile
        encoded = feed.encodes - before
        handed = sum(sub.queue.qsize() for sub in feed.hub._subscribers)
        ticks = []
        for _ in range(20):
            for sub in feed.hub._subscribers:
                sub.queue.drain()
            started = time.perf_counter()
            feed.sweep(time.monotonic())
            ticks.append((time.perf_counter() - started) * 1e6)
        for stream in streams:
            stream.close()
        live.stop()
        live.store.close()
    return {"encoded": encoded, "handed": handed, "per_message": handed / max(encoded, 1),
            "tick_us": statistics.median(ticks)}


class Counting(asyncio.Protocol):
    """One stream's client: counts its messages (up to each blank line) and bytes."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.messages = 0
        self.bytes = 0
        self.first = asyncio.get_running_loop().create_future()
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.bytes += len(data)
        self.messages += data.count(b"\n\n")
        if not self.first.done():
            self.first.set_result(None)


async def on_gunicorn(clients: int, seconds: float) -> dict:
    """Section 2."""
    loop = asyncio.get_running_loop()
    with dashboard(DASHBOARD_SAMPLER="1") as server:
        await asyncio.sleep(3)  # start-up and the first samples
        idle_cpu = tree_cpu_seconds(server.pid)
        await asyncio.sleep(seconds)
        idle = (tree_cpu_seconds(server.pid) - idle_cpu) / seconds
        rss_before = tree_rss_bytes(server.pid)
        request = (f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                   f"Accept: text/event-stream\r\n\r\n").encode()
        opened: list[Counting] = []
        for offset in range(0, clients, 250):
            pairs = await asyncio.gather(*(
                loop.create_connection(lambda: Counting(request), "127.0.0.1", server.port,
                                       local_addr=(loadgen.SOURCES[i % len(loadgen.SOURCES)], 0))
                for i in range(offset, min(offset + 250, clients))))
            group = [protocol for _transport, protocol in pairs]
            await asyncio.wait_for(asyncio.gather(*(c.first for c in group)), 30)
            opened.extend(group)
        await asyncio.sleep(1.5)
        rss_after = tree_rss_bytes(server.pid)
        counts_before = [c.messages for c in opened]
        bytes_before = sum(c.bytes for c in opened)
        cpu_before, started = tree_cpu_seconds(server.pid), time.monotonic()
        await asyncio.sleep(seconds)
        elapsed = time.monotonic() - started
        cpu = (tree_cpu_seconds(server.pid) - cpu_before) / elapsed
        counts = [c.messages - before for c, before in zip(opened, counts_before)]
        received = sum(c.bytes for c in opened) - bytes_before
        for client in opened:
            client.transport.close()
    return {"per_client_s": statistics.mean(counts) / elapsed, "fewest": min(counts),
            "most": max(counts), "message_bytes": received / max(sum(counts), 1),
            "cpu_percent": 100 * cpu, "idle_cpu_percent": 100 * idle,
            "rss_per_conn": (rss_after - rss_before) / clients}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    loadgen.raise_file_limit()
    found = in_process(args.clients, args.seconds)
    print(f"{args.clients:,} subscribers of {PATH}, one process, {args.seconds:g} s: "
          f"{found['encoded']} messages encoded, {found['handed']:,} handed to streams: "
          f"one encode per {found['per_message']:,.0f} deliveries "
          f"(target: one per message for all {args.clients:,})")
    print(f"  the tailer's sweep that encodes one and hands it to all: "
          f"{found['tick_us']:,.0f} µs (median of 20)")
    run = asyncio.run(on_gunicorn(args.clients, args.seconds))
    print(f"{args.clients:,} clients of {PATH} on gunicorn -w 1, sampler at 1 Hz, "
          f"{args.seconds:g} s:")
    print(f"  messages per client per second {run['per_client_s']:.2f} (each client got "
          f"{run['fewest']}-{run['most']}), {run['message_bytes']:.0f} bytes per message")
    print(f"  CPU {run['cpu_percent']:.1f} % of one core ({run['idle_cpu_percent']:.1f} % with "
          f"no client), RSS {run['rss_per_conn'] / 1024:.1f} KB per connection")


if __name__ == "__main__":
    main()
