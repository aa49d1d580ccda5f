"""The load generator: many SSE clients on raw sockets, a fixed-rate poster, a poll hammer.

One process, asyncio protocols (no HTTP library on the hot path), 127.0.0.1 only. Latency is
the time from just before a POST is written to the moment a client reads the unique marker
``bench<seq>z`` that the POST carried; both ends read the same ``time.monotonic()`` clock.
The generator is itself a Python process on the same machine: its own lag is part of every
figure, for the baseline and the dashboard alike.

Each SSE message (up to its blank line) delivers the markers it holds that this client had not
seen (a feed region lists older events too). A message with none new is a duplicate, one whose
newest marker is older than the newest seen is out of order; a correct server sends neither,
and the suite fails on any.
"""

from __future__ import annotations

import asyncio
import re
import resource
import time
from dataclasses import dataclass, field

MARKER = re.compile(rb"bench(\d+)z")
SOURCES = [f"127.0.0.{i}" for i in range(1, 9)]  # spreads ephemeral ports over 8 addresses


def raise_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit; return the new soft limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


@dataclass
class Run:
    """Shared by the poster and the clients of one measurement."""

    post_times: dict[int, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    posted: int = 0
    post_errors: int = 0


class Tally:
    """What one viewer received: bytes, and each marker of ``run.post_times`` counted once
    (``delivered``), or as a duplicate or out of order. ``timed``: each new marker's latency
    goes to ``run.latencies`` (seconds)."""

    def __init__(self, run: Run, timed: bool = True) -> None:
        self.run = run
        self.timed = timed
        self.bytes = 0
        self.delivered = 0
        self.duplicates = 0
        self.reordered = 0
        self.last_seq = -1
        self.seen: set[int] = set()
        self.partial = b""  # the message being received, up to its blank line

    def feed(self, data: bytes, now: float) -> None:
        """Count what ``data`` (the next bytes read) completes; ``now``: when it was read
        (``time.monotonic()``)."""
        self.bytes += len(data)
        if b"bench" not in data and not self.partial:
            # No marker here: keep only what could begin one split across reads.
            self.partial = data[data.rfind(b"\n\n") + 2:][-16:]
            return
        *messages, self.partial = (self.partial + data).split(b"\n\n")
        for text in messages:
            seqs = {int(m) for m in MARKER.findall(text)}
            seqs = {seq for seq in seqs if seq in self.run.post_times}  # this run's markers
            if seqs:
                self._count(seqs, now)

    def _count(self, seqs: set[int], now: float) -> None:
        # A feed lists older events beside the new ones, and one message may bring several new
        # ones (changes the server folded into one render): what is new counts, once.
        new = seqs - self.seen
        if not new:
            self.duplicates += 1
            return
        if max(seqs) < self.last_seq:
            self.reordered += 1
        self.seen |= new
        self.last_seq = max(self.last_seq, max(seqs))
        if self.timed:
            sent = self.run.post_times
            self.run.latencies.extend(now - sent[seq] for seq in new)
        self.delivered += len(new)


class StreamClient(asyncio.Protocol, Tally):
    """One SSE viewer: sends the GET, counts what it reads (:class:`Tally`), records when each
    marker arrives."""

    def __init__(self, request: bytes, run: Run) -> None:
        Tally.__init__(self, run)
        self.request = request
        self.first = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if not self.first.done():
            self.first.set_result(now)
        self.feed(data, now)

    def connection_lost(self, exc) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)
        if not self.first.done():
            self.first.set_exception(ConnectionError("closed before the first byte"))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def stream_request(port: int, path: str, headers: str = "") -> bytes:
    """The GET that opens a stream of ``path``; ``headers`` as :func:`open_clients` takes them."""
    return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Accept: text/event-stream\r\n{headers}\r\n").encode()


async def open_clients(port: int, path: str, count: int, run: Run, *, batch: int = 250,
                       start: int = 0, timeout: float = 30.0,
                       headers: str = "") -> list[StreamClient]:
    """Open ``count`` streams in batches; each batch waits for every client's first bytes.
    ``headers``: more request header lines, each ending in ``\\r\\n`` (a credential).

    :raise TimeoutError: a batch did not get its first bytes within ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    request = stream_request(port, path, headers)
    clients: list[StreamClient] = []
    for offset in range(0, count, batch):
        made = []
        for i in range(offset, min(offset + batch, count)):
            source = SOURCES[(start + i) % len(SOURCES)]
            made.append(loop.create_connection(lambda: StreamClient(request, run), "127.0.0.1",
                                               port, local_addr=(source, 0)))
        pairs = await asyncio.gather(*made)
        group = [protocol for _transport, protocol in pairs]
        clients.extend(group)
        await asyncio.wait_for(asyncio.gather(*(c.first for c in group)), timeout)
    return clients


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    if length:
        await reader.readexactly(int(length.group(1)))
    return status


async def post_events(port: int, run: Run, *, rate: float, count: int, pad: int,
                      first: int = 0, headers: str = "", pad_char: str = "p") -> None:
    """POST ``count`` events at ``rate`` per second on one keep-alive connection.

    Their markers are ``bench<first>z``, ``bench<first + 1>z``, ...; ``pad`` characters
    (``pad_char``; ``&`` is 5 bytes once escaped) are added to each message to give the
    fragment its size.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    try:
        for seq in range(first, first + count):
            await asyncio.sleep(max(started + (seq - first) / rate - time.monotonic(), 0))
            body = f'{{"level":"info","message":"bench{seq}z {pad_char * pad}"}}'.encode()
            request = (f"POST /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{headers}"
                       f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                       ).encode() + body
            run.post_times[seq] = time.monotonic()
            writer.write(request)
            status = await _read_response(reader)
            run.posted += 1
            if status != 201:
                run.post_errors += 1
    finally:
        writer.close()


async def hammer_poll(port: int, *, connections: int, seconds: float) -> dict:
    """GET /poll with the current ETag in a loop on keep-alive connections.

    Returns ``{"not_modified": n, "other": n, "per_second": n}``.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /poll HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    etag = re.search(rb'(?i)etag:\s*("[^"]*")', head).group(1).decode()
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    await reader.readexactly(int(length.group(1)) if length else 0)
    writer.close()
    request = (f"GET /poll HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
               f"If-None-Match: {etag}\r\n\r\n").encode()
    counts = {"not_modified": 0, "other": 0}
    deadline = time.monotonic() + seconds

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.monotonic() < deadline:
                writer.write(request)
                status = await _read_response(reader)
                counts["not_modified" if status == 304 else "other"] += 1
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.monotonic() - started
    return {**counts, "per_second": counts["not_modified"] / elapsed}
