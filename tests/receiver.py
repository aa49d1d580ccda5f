"""A real HTTP receiver of notifications on 127.0.0.1, in a process of its own.

Every POST is answered and recorded as one JSON line ``{"path", "key", "status", "body"}``
(``key``: the ``Idempotency-Key`` header). A path that starts with ``/flaky`` answers 500 to
the first :data:`FAILURES` posts of each idempotency key, then 200; one that starts with
``/slow`` is recorded at once and answered after :data:`SLOW` seconds. Run as
``python -m tests.receiver PORT FILE``; tests use :class:`Receiver`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.servers import ROOT, terminate

FAILURES = 3
SLOW = 0.2


class Receiver:
    """Start ``python -m tests.receiver`` on ``port``, recording into ``path``."""

    def __init__(self, port: int, path: Path) -> None:
        self.port, self.path = port, Path(path)
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "Receiver":
        self.path.write_text("")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.receiver", str(self.port),
                                      str(self.path)], cwd=ROOT)
        self.wait_for(lambda got: self.path.with_suffix(".ready").exists(), timeout=15)
        return self

    def __exit__(self, *exc) -> None:
        terminate(self.proc, grace=5)

    def posts(self) -> list[dict]:
        """Every request recorded so far, oldest first."""
        return [json.loads(line) for line in self.path.read_text().splitlines() if line]

    def wait_for(self, condition, timeout: float) -> list[dict]:
        """Poll until ``condition(posts)`` holds; return the posts. AssertionError after
        ``timeout`` seconds, with what arrived."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.posts() if self.path.exists() else []
            if condition(got):
                return got
            assert time.monotonic() < deadline, f"not within {timeout} s; got: {got}"
            time.sleep(0.1)


def main(port: int, path: str) -> None:
    tries: Counter = Counter()
    out = open(path, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            key = self.headers.get("Idempotency-Key")
            status = 200
            if self.path.startswith("/flaky"):
                tries[key] += 1
                status = 500 if tries[key] <= FAILURES else 200
            try:
                data = json.loads(body)
            except ValueError:
                data = body.decode(errors="replace")
            out.write(json.dumps({"path": self.path, "key": key, "status": status,
                                  "body": data}) + "\n")
            if self.path.startswith("/slow"):
                time.sleep(SLOW)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender died waiting (a kill -9 test): recorded all the same

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    Path(path).with_suffix(".ready").write_text("")
    server.serve_forever()


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
