"""The floor: the least a gevent server can do to fan out the same bytes to every socket.

``python bench/baseline.py PORT SIZE [MODE]`` listens on 127.0.0.1:PORT and answers

- ``GET /stream``: response headers, then whatever is broadcast, framed as HTTP/1.1 chunks like
  the dashboard's stream;
- ``POST /api/v1/events``: takes ``{"message": ...}``, builds ONE SSE message of SIZE bytes that
  holds the message, frames it as one chunk once, and puts that very object on every open stream
  from the posting greenlet, then answers 201;
- ``GET /poll`` (keep-alive): ``304 Not Modified`` at once.

MODE says how the posting greenlet puts the bytes on a socket:

- ``write`` (the default, the floor): one non-blocking ``os.write`` per socket, exactly as the
  dashboard's Hub does (``app.live.hub``). An open stream holds its socket and a small record,
  no greenlet: what a full socket does not take is finished by a greenlet spawned for it
  (``sendall``), later messages queued behind it.
- ``sendall``: gevent's ``sendall`` per socket from the posting greenlet (the earlier baseline,
  kept as a labelled second row: it yields to the loop on every full socket).

No framework, no per-client greenlet wake-up in the common case, no rendering: the dashboard's
figures are printed as a ratio to these.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from gevent.server import StreamServer  # noqa: E402

STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n")
CREATED = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
NOT_MODIFIED = b'HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n'
#: Chunks a stream may have pending before it is dropped (the dashboard's default queue size).
QUEUE_SIZE = 64


class Stream:
    """One open stream: its socket, file descriptor, and what must still be written to it."""

    __slots__ = ("sock", "fd", "pending")

    def __init__(self, sock) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.pending: list[bytes] | None = None  # a list while a greenlet finishes writes


def drain(stream: Stream) -> None:
    """Write what a stream's socket did not take, in order, then let direct writes resume."""
    try:
        while stream.pending:
            stream.sock.sendall(stream.pending.pop(0))
        stream.pending = None
    except OSError:
        close(stream.sock)


def close(sock) -> None:
    streams.pop(sock, None)
    sock.close()


streams: dict = {}


def message(text: str, size: int) -> bytes:
    """An SSE message of exactly ``size`` bytes (or more, for a longer text) holding ``text``."""
    body = f"data: {text} ".encode()
    return body + b"x" * max(size - len(body) - 2, 0) + b"\n\n"


def publish_write(data: bytes) -> None:
    frame = b"%X\r\n%b\r\n" % (len(data), data)
    for sock, stream in list(streams.items()):
        if stream.pending is not None:
            if len(stream.pending) >= QUEUE_SIZE:
                close(sock)  # a slow consumer, dropped
            else:
                stream.pending.append(frame)
            continue
        try:
            written = os.write(stream.fd, frame)
        except BlockingIOError:
            written = 0
        except OSError:
            close(sock)
            continue
        if written < len(frame):
            stream.pending = [frame[written:]]
            gevent.spawn(drain, stream)


def publish_sendall(data: bytes) -> None:
    frame = b"%X\r\n%b\r\n" % (len(data), data)
    for sock in list(streams):
        try:
            sock.sendall(frame)
        except OSError:
            streams.pop(sock, None)


def handle(sock, _address, size: int, publish) -> None:
    reader = sock.makefile("rb")
    try:
        while True:
            request_line = reader.readline()
            if not request_line:
                return
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            body = reader.read(length) if length else b""
            if request_line.startswith(b"GET /stream"):
                sock.sendall(STREAM_HEAD)
                if publish is publish_sendall:
                    streams[sock] = Stream(sock)
                    reader.read()  # until the client hangs up
                    return
                # The server closes the socket it handed us when this returns: the stream
                # keeps a duplicate of it open, and no greenlet waits on it.
                kept = sock.dup()
                streams[kept] = Stream(kept)
                return
            if request_line.startswith(b"POST"):
                publish(message(json.loads(body)["message"], size))
                sock.sendall(CREATED)
            else:
                sock.sendall(NOT_MODIFIED)
    except OSError:
        pass
    finally:
        close(sock)


def main() -> None:
    port, size = int(sys.argv[1]), int(sys.argv[2])
    publish = {"write": publish_write, "sendall": publish_sendall}[
        sys.argv[3] if len(sys.argv) > 3 else "write"]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    StreamServer(("127.0.0.1", port), lambda s, a: handle(s, a, size, publish),
                 backlog=4096).serve_forever()


if __name__ == "__main__":
    main()
