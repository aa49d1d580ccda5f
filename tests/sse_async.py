"""An asyncio SSE client that resumes like a browser's EventSource, for the fault tests.

Hundreds of them run in one event loop (threads would not scale to the SIGHUP test's 200). Each
speaks raw HTTP/1.1 to 127.0.0.1 so that the server takes its real path (chunked framing and the
Hub's direct writes), de-chunks the body, parses SSE, and on every end of the stream (a clean
close, a reset, a refused connect) reconnects with ``Last-Event-ID`` after the last ``retry:``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Received:
    """One SSE message: ``data`` decoded from JSON when it parses, ``at`` its monotonic time."""

    id: str | None
    event: str | None
    data: object
    at: float


@dataclass
class ResumingStream:
    """``GET path`` on 127.0.0.1:``port``, resumed with ``Last-Event-ID`` until :meth:`stop`.

    ``messages`` holds every message with a data field, in arrival order; ``connects`` counts
    the connections that got a 200, ``pings`` the comments (heartbeats); ``last_id`` is what
    the next reconnect sends. ``endings`` says how each connection that got a 200 ended:
    ``"farewell"`` (the server closed it cleanly after a last message of ``id:`` and ``retry:``
    without data), ``"clean"`` (closed cleanly without one) or ``"cut"`` (reset, or cut
    mid-chunk).
    """

    port: int
    path: str
    messages: list[Received] = field(default_factory=list)
    connects: int = 0
    pings: int = 0
    last_id: str | None = None
    retry_ms: int = 1000
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    endings: list[str] = field(default_factory=list)
    local_port: int | None = None
    _last: dict = field(default_factory=dict)  # the fields of the connection's latest message
    _task: asyncio.Task | None = None
    _stopping: bool = False

    def start(self) -> "ResumingStream":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def events(self, name: str) -> list[Received]:
        """The messages named ``name`` (``event: name``), in order."""
        return [m for m in self.messages if m.event == name]

    async def _run(self) -> None:
        while not self._stopping:
            connects = self.connects
            try:
                await self._once()
            except (OSError, asyncio.IncompleteReadError, ValueError):
                # Reset, refused, or cut mid-chunk: resume like a browser.
                if self.connects > connects:
                    self.endings.append("cut")
            self.connected.clear()
            await asyncio.sleep(self.retry_ms / 1000)

    async def _once(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            resume = f"Last-Event-ID: {self.last_id}\r\n" if self.last_id is not None else ""
            writer.write(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                         f"Accept: text/event-stream\r\n{resume}\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            if b" 200 " not in head.split(b"\r\n", 1)[0]:
                raise ValueError(head.split(b"\r\n", 1)[0].decode())
            self.local_port = writer.get_extra_info("sockname")[1]
            self.connects += 1
            self._last = {}
            self.connected.set()
            buffer = b""
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                if size == 0:  # the server ended the stream cleanly
                    last = self._last
                    farewell = "id" in last and "retry" in last and "data" not in last
                    self.endings.append("farewell" if farewell else "clean")
                    return
                buffer += (await reader.readexactly(size + 2))[:-2]
                *blocks, buffer = buffer.split(b"\n\n")
                for block in blocks:
                    self._message(block.decode())
        finally:
            writer.close()

    def _message(self, block: str) -> None:
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(":")
            if name:
                fields.setdefault(name, []).append(value.removeprefix(" "))
            elif line:  # a line that starts with ":" is a comment (heartbeat)
                self.pings += 1
        if fields:
            self._last = fields
        if "id" in fields:
            self.last_id = fields["id"][-1]
        if "retry" in fields:
            self.retry_ms = int(fields["retry"][-1])
        if "data" in fields:
            text = "\n".join(fields["data"])
            try:
                data = json.loads(text)
            except ValueError:
                data = text
            event = fields.get("event", [None])[-1]
            self.messages.append(Received(fields.get("id", [None])[-1], event, data,
                                          time.monotonic()))


def run(coro):
    """``asyncio.run(coro)`` in a thread of its own, and return its result or raise its error.

    Not in the calling thread: once a browser test ran, Playwright's sync API keeps an event
    loop running in the main thread for the rest of the session.
    """
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="asyncio-test")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


async def wait_until(predicate, timeout: float, what) -> None:
    """Poll ``predicate()`` every 50 ms; :raise AssertionError: naming ``what`` (a text, or a
    function that says what is still missing) after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what() if callable(what) else what}")
        await asyncio.sleep(0.05)
