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


#: Seconds a server the tests start (gunicorn, nginx, the OpenID provider) has to answer: a
#: gunicorn once took 19 s to boot while the suite loaded both cores. One that exits fails at once.
START_TIMEOUT = 60.0


def answers(proc: subprocess.Popen, url: str, timeout: float) -> bool:
    """Wait until ``url`` answers 200 (True) or ``timeout`` seconds pass (False).

    :raise RuntimeError: ``proc`` exited meanwhile.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            time.sleep(0.1)
    return False


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

    def start(self, timeout: float = START_TIMEOUT) -> "Server":
        self.proc = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{self.port}",
             "-w", str(self.workers), "wsgi:app"],
            cwd=ROOT, env=self.env, stdout=self._logfile, stderr=subprocess.STDOUT)
        try:
            answered = answers(self.proc, self.url + "/healthz", timeout)
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}:\n{self.log}") from None
        if not answered:
            self.stop()
            raise RuntimeError(f"gunicorn did not answer within {timeout} s:\n{self.log}")
        return self

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
