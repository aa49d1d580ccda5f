"""The viewers of ``bench.fleetload``: SSE clients of the fleet page and of one host's page that
note when each sample's marker (``bench.fleetagents.figures``) first shows.

A fleet page viewer (``/fleet/stream``) reads every table row it receives (the whole table in
the snapshot and on a new order, changed rows as out-of-band swaps) and notes, per host, the
first time each marker shows; a host page viewer (``/stream?host=NAME``) does the same for the
15-minute load of its load card. Raw sockets and asyncio, as ``bench.loadgen``.
"""

from __future__ import annotations

import asyncio
import re
import time

from bench.fleetagents import MARKERS, fleet_marker, host_marker
from bench.loadgen import SOURCES, Run, StreamClient

#: A fleet table row: host name, memory (whole percent), load per CPU (two decimals).
ROW = re.compile(rb'<tr id="h-([^"]+)"[^>]*>.*?</td><td>[^<]*</td><td>[^<]*</td>'
                 rb"<td>(\d+)\D[^<]*</td><td>[^<]*(?:<small>[^<]*</small>)?</td>"
                 rb"<td>(\d+\.\d\d)</td>")
#: The host page's load card: "5 min 1.00 · 15 min 4.56".
LOAD15 = re.compile(rb"15 min (\d+\.\d\d)")


class Viewer(StreamClient):
    """One SSE viewer (``bench.loadgen.StreamClient``'s connection, futures and byte count).
    ``shown``: ``{(host, k % 1000): monotonic time first shown}``; ``host``: the host whose
    page this is (None: the fleet page)."""

    def __init__(self, request: bytes, host: str | None) -> None:
        super().__init__(request, Run())
        self.host = host
        self.shown: dict[tuple[str, int], float] = {}

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self.bytes += len(data)
        if not self.first.done():
            self.first.set_result(now)
        *messages, self.partial = (self.partial + data).split(b"\n\n")
        for text in messages:
            if self.host is None:
                for name, mem, load in ROW.findall(text):
                    self._note(name.decode(), fleet_marker(mem.decode(), load.decode()), now)
            else:
                for load15 in LOAD15.findall(text):
                    self._note(self.host, host_marker(load15.decode()), now)

    def _note(self, host: str, k: int, now: float) -> None:
        self.shown.setdefault((host, k), now)


async def open_viewers(port: int, path: str, count: int, token: str, host: str | None,
                       timeout: float = 30.0) -> list[Viewer]:
    """``count`` viewers of ``path`` on 127.0.0.1:``port`` with the read key ``token``, once
    each has its first bytes.

    :raise TimeoutError: not within ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
               f"Authorization: Bearer {token}\r\n\r\n").encode()
    pairs = await asyncio.gather(*(
        loop.create_connection(lambda: Viewer(request, host), "127.0.0.1", port,
                               local_addr=(SOURCES[n % len(SOURCES)], 0))
        for n in range(count)))
    viewers = [protocol for _transport, protocol in pairs]
    await asyncio.wait_for(asyncio.gather(*(v.first for v in viewers)), timeout)
    return viewers


def latencies(viewers: list[Viewer], sent: dict[str, list], since: float) -> tuple[list, int]:
    """(seconds from each sample's post until each viewer shows it or a newer sample of its
    host, samples that no viewer showed by the end). ``sent``: ``{host: [[k, monotonic post
    time, status], ...]}``; samples posted before ``since`` (monotonic seconds) do not count,
    nor what a viewer showed before it, nor the marker of the sample ``fleetload.prime`` sent
    before the run (``MARKERS - 1``): a host can enter a busy page's first rows with it after
    ``since``, and as a marker above every other it made the run's samples look shown before
    their post.

    The fleet page draws every ``TABLE_STEP`` seconds, each time with each host's latest
    sample: a sample newer than the last draw is shown by the next one, or superseded by a
    newer one that is. Its latency is the wait until the page is at least that fresh.
    """
    found, unseen = [], 0
    for viewer in viewers:
        shown: dict[str, list[tuple[int, float]]] = {}
        for (host, k), at in viewer.shown.items():
            if at >= since and k != MARKERS - 1:
                shown.setdefault(host, []).append((k, at))
        for host, rows in sent.items():
            # Newest first, each with the earliest time a marker at least that new showed.
            marks = sorted(shown.get(host, ()), reverse=True)
            earliest, best = [], float("inf")
            for k, at in marks:
                best = min(best, at)
                earliest.append((k, best))
            earliest.reverse()  # oldest first
            i = 0
            for k, posted, _status in sorted(rows):
                if posted < since:
                    continue
                k %= MARKERS
                while i < len(earliest) and earliest[i][0] < k:
                    i += 1
                if i == len(earliest):
                    unseen += 1
                else:
                    found.append(earliest[i][1] - posted)
    return found, unseen
