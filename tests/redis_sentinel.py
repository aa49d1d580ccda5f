"""A throw-away Redis Sentinel set on 127.0.0.1 for the tests: a primary, a replica and three
sentinels (Debian's ``redis-server --sentinel``), each on a free port and stopped by PID."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from tests.redis_server import RedisServer
from tests.servers import free_port, terminate

SERVICE = "mymaster"


class Sentinels:
    """One primary, one replica and three sentinels (quorum 2) watching them as ``SERVICE``.

    :param down_after: the sentinels' ``down-after-milliseconds``: how long the primary may
        not answer before it counts as down and a replica is promoted.
    :param failover_timeout: ``failover-timeout`` in ms (small, so that a second failover soon
        after the first is not refused).
    :param durable: the servers keep every write in a fsynced append-only file
        (:class:`~tests.redis_server.RedisServer`), so a primary stopped and started again
        comes back with its data.
    :raise FileNotFoundError: (from :meth:`start`) ``redis-server`` is not installed.
    """

    def __init__(self, down_after: int = 2000, failover_timeout: int = 4000,
                 durable: bool = False) -> None:
        self.down_after = down_after
        self.durable = durable
        self.failover_timeout = failover_timeout
        self.servers: list[RedisServer] = []
        self.sentinel_ports: list[int] = []
        self._procs: list[subprocess.Popen] = []
        self._dir = tempfile.TemporaryDirectory(prefix="sentinel-test-")
        self._logs: list = []

    @property
    def url(self) -> str:
        """``redis+sentinel://127.0.0.1:A,127.0.0.1:B,127.0.0.1:C/mymaster/0``."""
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)
        return f"redis+sentinel://{hosts}/{SERVICE}/0"

    def start(self, timeout: float = 20.0) -> "Sentinels":
        if shutil.which("redis-server") is None:
            raise FileNotFoundError("redis-server is not installed: run scripts/setup --test")
        try:
            primary = RedisServer(free_port(), self.durable).start()
            self.servers.append(primary)
            self.servers.append(RedisServer(free_port(), self.durable,
                                            args=self._replica_of(primary.port)).start())
            for _ in range(3):
                self._start_sentinel(primary.port)
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    @staticmethod
    def _replica_of(port: int) -> tuple[str, ...]:
        # Diskless sync without delay: a replica (re)joins in milliseconds, not seconds.
        return ("--replicaof", "127.0.0.1", str(port), "--repl-diskless-sync", "yes",
                "--repl-diskless-sync-delay", "0")

    def _start_sentinel(self, primary_port: int) -> None:
        port = free_port()
        conf = Path(self._dir.name) / f"sentinel-{port}.conf"  # sentinels rewrite their file
        conf.write_text(
            f"port {port}\nbind 127.0.0.1\ndir {self._dir.name}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {self.down_after}\n"
            f"sentinel failover-timeout {SERVICE} {self.failover_timeout}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n")
        log = tempfile.TemporaryFile()
        self._logs.append(log)
        self._procs.append(subprocess.Popen([shutil.which("redis-server"), str(conf),
                                             "--sentinel"], stdout=log,
                                            stderr=subprocess.STDOUT))
        self.sentinel_ports.append(port)

    def sentinel(self) -> redis.Redis:
        """A client of the first sentinel that answers (close it after use)."""
        for port in self.sentinel_ports:
            client = redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1,
                                 decode_responses=True)
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                client.close()
        raise RuntimeError("no sentinel answers")

    def primary(self) -> RedisServer:
        """The server the sentinels name as primary now."""
        with self.sentinel() as client:
            _, port = client.sentinel_get_master_addr_by_name(SERVICE)
        return next(s for s in self.servers if s.port == int(port))

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Wait until every sentinel answers, knows the other two and one replica of a primary
        that has it connected (so that a kill of the primary can fail over).

        :raise TimeoutError: not within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self._sentinel_ready(port) for port in self.sentinel_ports):
                return
            time.sleep(0.1)
        raise TimeoutError(f"the sentinel set is not ready after {timeout} s:\n{self.log}")

    def _sentinel_ready(self, port: int) -> bool:
        try:
            with redis.Redis(port=port, socket_timeout=1, socket_connect_timeout=1,
                             decode_responses=True) as client:
                state = client.sentinel_master(SERVICE)
                replicas = [r for r in client.sentinel_slaves(SERVICE)
                            if not (r["is_sdown"] or r["is_odown"])
                            and r.get("master-link-status") == "ok"]
                if not state["is_master"] or state["is_sdown"] or state["is_odown"]:
                    return False
                if state["num-other-sentinels"] < 2 or not replicas:
                    return False
            with redis.Redis(host=state["ip"], port=state["port"], socket_timeout=1,
                             socket_connect_timeout=1) as primary:
                return primary.info("replication")["connected_slaves"] >= 1
        except (redis.ConnectionError, redis.TimeoutError, redis.ResponseError):
            return False

    def kill_primary(self) -> RedisServer:
        """``kill -9`` the current primary; returns it (stopped, its folder kept)."""
        victim = self.primary()
        victim.kill()
        return victim

    def rejoin(self, server: RedisServer, timeout: float = 20.0) -> None:
        """Start a killed server again on its port, as a replica of the current primary (what
        the sentinels would tell it too), and wait until the set is ready for another failover."""
        current = self.primary()
        server.args = self._replica_of(current.port)
        server.start()
        self.wait_ready(timeout)

    @property
    def log(self) -> str:
        """What each sentinel wrote so far."""
        out = []
        for port, log in zip(self.sentinel_ports, self._logs):
            log.seek(0)
            out.append(f"-- sentinel {port}\n" + log.read().decode(errors="replace"))
        return "\n".join(out)

    def stop(self) -> None:
        """Stop every sentinel and server by PID and remove their folders."""
        for proc in self._procs:
            terminate(proc, grace=5)
        for server in self.servers:
            server.stop()
        for log in self._logs:
            log.close()
        self._dir.cleanup()

    def __enter__(self) -> "Sentinels":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
