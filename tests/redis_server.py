"""Start and stop a real, throw-away ``redis-server`` on 127.0.0.1 for the tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time

import redis

from tests.servers import terminate


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port`` in a temporary folder, stopped by PID.

    :param durable: keep every write in an append-only file fsynced before each reply, so a
        server stopped and started again (:meth:`halt`, then :meth:`start`) has every write it
        acknowledged; without it nothing is written to disk.
    :param args: more ``redis-server`` options (``["--replicaof", "127.0.0.1", "6379"]``).
    :raise FileNotFoundError: (from :meth:`start`) ``redis-server`` is not installed;
        ``scripts/setup --test`` installs Debian's.
    """

    def __init__(self, port: int, durable: bool = False, args: tuple[str, ...] = ()) -> None:
        self.port = port
        self.durable = durable
        self.args = tuple(args)
        self.url = f"redis://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="redis-test-")
        self._logfile = tempfile.TemporaryFile()

    def start(self, timeout: float = 10.0) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            self.stop()  # removes the temporary folder and file
            raise FileNotFoundError("redis-server is not installed: run scripts/setup --test "
                                    "(it installs Debian's redis-server)")
        # --save "": no snapshots; --dir keeps any file out of the checkout.
        aof = ["yes", "--appendfsync", "always"] if self.durable else ["no"]
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", *aof, "--dir", self._dir.name, *self.args],
            stdout=self._logfile, stderr=subprocess.STDOUT)
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    message = f"redis-server exited with {self.proc.returncode}:\n{self.log}"
                    self.stop()
                    raise RuntimeError(message)
                try:
                    if client.ping():
                        return self
                except redis.ConnectionError:
                    time.sleep(0.05)
        finally:
            client.close()
        message = f"redis-server did not answer PING within {timeout} s:\n{self.log}"
        self.stop()
        raise RuntimeError(message)

    @property
    def log(self) -> str:
        """Everything redis-server wrote so far."""
        self._logfile.seek(0)
        return self._logfile.read().decode(errors="replace")

    def kill(self) -> None:
        """SIGKILL the server by PID (``kill -9``: no shutdown, no last reply) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def halt(self) -> None:
        """SIGTERM the server by PID (SIGKILL after 5 s) and keep its folder for a restart."""
        terminate(self.proc, grace=5)

    def stop(self) -> None:
        """:meth:`halt`, then remove the folder."""
        self.halt()
        self._logfile.close()
        self._dir.cleanup()

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
