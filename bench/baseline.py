"""The baseline: the least a gevent server can do to fan out the same bytes to every socket.

``python bench/baseline.py PORT SIZE`` listens on 127.0.0.1:PORT and answers

- ``GET /stream``: response headers, then whatever is broadcast, as raw bytes (no chunking);
- ``POST /api/v1/events``: takes ``{"message": ...}``, builds ONE SSE message of SIZE bytes that
  holds the message, and ``sendall``s that very object to every open stream from the posting
  greenlet, then answers 201;
- ``GET /poll`` (keep-alive): ``304 Not Modified`` at once.

No framework, no per-client greenlet wake-up, no queue: the dashboard's figures are printed as a
ratio to these.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402

from gevent.server import StreamServer  # noqa: E402

STREAM_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
               b"Connection: close\r\n\r\n")
CREATED = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
NOT_MODIFIED = b'HTTP/1.1 304 Not Modified\r\nETag: "1"\r\n\r\n'

streams: set = set()


def message(text: str, size: int) -> bytes:
    """An SSE message of exactly ``size`` bytes (or more, for a longer text) holding ``text``."""
    body = f"data: {text} ".encode()
    return body + b"x" * max(size - len(body) - 2, 0) + b"\n\n"


def handle(sock, _address, size: int) -> None:
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
                streams.add(sock)
                reader.read()  # until the client hangs up
                return
            if request_line.startswith(b"POST"):
                data = message(json.loads(body)["message"], size)
                for stream in list(streams):
                    try:
                        stream.sendall(data)
                    except OSError:
                        streams.discard(stream)
                sock.sendall(CREATED)
            else:
                sock.sendall(NOT_MODIFIED)
    except OSError:
        pass
    finally:
        streams.discard(sock)
        sock.close()


def main() -> None:
    port, size = int(sys.argv[1]), int(sys.argv[2])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    StreamServer(("127.0.0.1", port), lambda s, a: handle(s, a, size), backlog=4096).serve_forever()


if __name__ == "__main__":
    main()
