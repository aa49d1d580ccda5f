"""A small SSE client for the tests: reads a stream in a thread, timestamps every message."""

from __future__ import annotations

import queue
import re
import threading
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Message:
    """One SSE message as the client saw it; ``at`` is ``time.monotonic()`` on arrival."""

    data: str = ""
    id: str | None = None
    event: str | None = None
    retry: int | None = None
    at: float = 0.0
    comments: list[str] = field(default_factory=list)


class SSEClient:
    """``GET url`` as an event stream; :meth:`next` returns messages in order.

    Comments (heartbeats) are kept on the message they precede, or as a message of their own
    with ``data=""`` when a blank line follows them.
    """

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.url = url
        self.messages: queue.Queue[Message | BaseException | None] = queue.Queue()
        self.response: httpx.Response | None = None
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self._opened = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._read, args=(headers or {},), daemon=True)
        self._thread.start()
        if not self._opened.wait(10):
            raise TimeoutError(f"no response from {url}")

    def _read(self, headers: dict) -> None:
        try:
            with self._client.stream("GET", self.url, headers=headers) as response:
                self.response = response
                self._opened.set()
                message, seen = Message(), False
                for line in response.iter_lines():
                    if line == "":
                        if seen:
                            message.at = time.monotonic()
                            message.data = message.data.removesuffix("\n")
                            self.messages.put(message)
                        message, seen = Message(), False
                        continue
                    seen = True
                    name, _, value = line.partition(":")
                    value = value.removeprefix(" ")
                    if name == "":
                        message.comments.append(value)
                    elif name == "data":
                        message.data += value + "\n"
                    elif name == "id":
                        message.id = value
                    elif name == "event":
                        message.event = value
                    elif name == "retry":
                        message.retry = int(value)
            self.messages.put(None)  # the server ended the stream
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self._opened.set()
            if not self._closed:
                self.messages.put(exc)

    def next(self, timeout: float) -> Message:
        """The next message. :raise TimeoutError: none within ``timeout`` seconds;
        :raise EOFError: the server ended the stream."""
        try:
            item = self.messages.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no message from {self.url} within {timeout} s") from None
        if item is None:
            raise EOFError("the server ended the stream")
        if isinstance(item, BaseException):
            raise item
        return item

    def wait_for(self, predicate, timeout: float) -> Message:
        """Skip messages until one satisfies ``predicate``; :raise TimeoutError: none did."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(deadline - time.monotonic(), 0.001))
            if predicate(message):
                return message

    def close(self) -> None:
        self._closed = True
        if self.response is not None:
            self.response.close()
        self._client.close()
        self._thread.join(5)

    def __enter__(self) -> "SSEClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def region(html: str, name: str) -> str | None:
    """The outer HTML of the region with ``id=name`` in a message, or None."""
    match = re.search(rf'<(\w+) id="{name}".*?</\1>', html, re.S)
    return match.group(0) if match else None


def card(html: str, name: str) -> str | None:
    """Card ``name`` in a message: the whole region, or its figure sent alone (the part
    ``<name>-value``: ``app.view.parts``, while the card's level holds), or None."""
    return region(html, name) or region(html, f"{name}-value")


def number(html: str, name: str) -> str | None:
    """The ``<span class="number">`` text of card ``name`` in a message (:func:`card`), or None."""
    part = card(html, name)
    match = part and re.search(r'<span class="number">([^<]*)</span>', part)
    return match.group(1) if match else None
