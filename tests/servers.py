"""Start and stop real gunicorn servers (gevent workers) on 127.0.0.1 for the tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def terminate(proc: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM ``proc`` by its PID; SIGKILL it if it is still there after ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class Server:
    """``gunicorn -c gunicorn.conf.py wsgi:app`` on 127.0.0.1:``port``, stopped by its PID.

    :param env: extra environment (``DASHBOARD_*``, ``GUNICORN_*``).
    :param workers: gevent worker processes.
    """

    def __init__(self, port: int, env: dict[str, str], workers: int = 1) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **env}
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it.
        self._logfile = tempfile.TemporaryFile()
        self._final_log = ""

    def start(self, timeout: float = 20.0) -> "Server":
        self.proc = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{self.port}",
             "-w", str(self.workers), "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self._logfile, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.log}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log}")

    @property
    def log(self) -> str:
        """Everything gunicorn wrote so far (stdout and stderr)."""
        if self._logfile.closed:
            return self._final_log
        self._logfile.seek(0)
        return self._logfile.read().decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM the arbiter by PID, SIGKILL after gunicorn's graceful timeout."""
        terminate(self.proc, grace=15)
        if not self._logfile.closed:
            self._final_log = self.log
            self._logfile.close()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
