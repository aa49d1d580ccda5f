"""The containers of this host, from the Docker Engine API (Docker, or Podman's compatible socket).

:class:`Engine` talks to one engine with docker-py's low-level client: the list
(``GET /containers/json``), one inspect per container whose state changed, and, only when asked,
one statistics reading per running container (``GET /containers/<id>/stats?stream=0&one-shot=1``),
at most :data:`STATS_AT_ONCE` at a time. docker-py does blocking socket I/O: under gevent's
monkey-patching it yields to other greenlets while it waits, so a slow engine slows no stream.

Figures are computed as ``docker stats`` computes them, from two readings: with one-shot the
engine sends no previous reading (``precpu_stats`` is empty), so the previous reading is the one
this object took last time, which also gives the interval of the per-second rates. The first
reading of a container only primes: its row has no CPU or rate figures yet.

Labels and environment variables are never read into a row (they often hold secrets); the command
only with ``cmdline`` (``DASHBOARD_SHOW_CMDLINE``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import datetime

import gevent.pool

from .containerstats import cpu_percent, io_totals, memory, shown

#: Engine calls made at once for statistics (each may take a second or two on a busy engine).
STATS_AT_ONCE = 4
#: The Engine API version asked first (Docker 1.12, Podman's compatible API).
MIN_API = "1.24"
#: Seconds an engine call may take before the engine counts as gone.
CALL_TIMEOUT = 10
#: Container states as the engine names them; every one but ``running`` and ``paused`` counts
#: as stopped.
RUNNING_STATES = ("running", "paused")
#: What the list's status text says of a container's health.
HEALTH_WORDS = ("(healthy)", "(unhealthy)", "(health: starting)")
#: Event actions that go to the feed (``health_status`` arrives as ``health_status: unhealthy``);
#: the others (``exec_start`` for every health check, ``attach``, ``resize``...) are noise, and
#: an exec's action names its command.
EVENT_ACTIONS = ("start", "die", "oom", "kill", "health_status", "restart", "stop", "pause",
                 "unpause", "destroy")


def docker_py():
    """The ``docker`` package, imported on first use: with requests it weighs about 12 MB in
    each worker, which a host where no engine answers never pays (``bench.rest``)."""
    import docker

    return docker


def engine_errors() -> tuple[type[BaseException], ...]:
    """What a failing engine raises through docker-py: the engine is off, or went away."""
    import requests.exceptions

    return (docker_py().errors.DockerException, requests.exceptions.RequestException, OSError)


def addresses(environ=os.environ) -> list[str]:
    """The engine sockets to try, first that answers wins: ``DOCKER_HOST`` alone when set, else
    Docker's default socket, then Podman's (root's, then this user's)."""
    if environ.get("DOCKER_HOST"):
        return [environ["DOCKER_HOST"]]
    runtime = environ.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    return ["unix:///var/run/docker.sock", "unix:///run/podman/podman.sock",
            f"unix://{runtime}/podman/podman.sock"]


def unix_time(text: str | None) -> float | None:
    """An engine timestamp (RFC 3339 with nanoseconds) as Unix seconds; None for the zero time."""
    if not text or text.startswith("0001-"):
        return None
    offset = re.search(r"[+-]\d\d:\d\d$", text)
    try:
        return datetime.fromisoformat(text[:19] + (offset[0] if offset else "+00:00")).timestamp()
    except ValueError:
        return None


def row_of(info: dict, cmdline: bool = False) -> dict:
    """One container as the dashboard keeps it, from its inspect answer.

    ``id`` (12 hex digits), ``name``, ``image``, ``state`` (the engine's word: running,
    restarting, paused, exited, created, dead), ``exit_code`` (int, once it exited, else None),
    ``oom_killed``, ``health`` (healthy, unhealthy, starting, or none: no check, or not running),
    ``started`` (Unix seconds, None if it never started), ``restarts`` (the engine's restart
    count), and ``command`` only with ``cmdline``.
    """
    state = info.get("State") or {}
    status = state.get("Status") or "unknown"
    health = (state.get("Health") or {}).get("Status") or "none"
    config = info.get("Config") or {}
    row = {
        "id": (info.get("Id") or "")[:12],
        "name": (info.get("Name") or "").lstrip("/")[:128] or (info.get("Id") or "?")[:12],
        "image": str(config.get("Image") or info.get("Image") or "")[:200],
        "state": status[:20],
        "exit_code": state.get("ExitCode") if status in ("exited", "dead") else None,
        "oom_killed": bool(state.get("OOMKilled")),
        "health": health if status == "running" else "none",
        "started": unix_time(state.get("StartedAt")),
        "restarts": int(info.get("RestartCount") or 0),
    }
    if cmdline:
        row["command"] = " ".join([*(config.get("Entrypoint") or ()), *(config.get("Cmd") or ())])[:500]
    return row


class EngineOff(Exception):
    """No engine answers (none runs, or it went away)."""


class Engine:
    """One container engine's containers; call from one greenlet (the events reader aside).

    :param cmdline: keep each container's command (``DASHBOARD_SHOW_CMDLINE``).
    :param environ: where ``DOCKER_HOST`` is looked up (tests pass their own).
    """

    def __init__(self, cmdline: bool = False, environ=os.environ) -> None:
        self.cmdline = cmdline
        self.environ = environ
        self.client = None  # docker-py's APIClient once connected
        self.address: str | None = None
        self.version = ""  # "Docker 20.10.24", "Podman 4.3.1"...
        self._inspected: dict[str, tuple[tuple, dict]] = {}  # id -> (list entry's key, row)
        self._previous: dict[str, tuple[float, dict, tuple]] = {}  # id -> (monotonic, cpu, io)
        self._pool = gevent.pool.Pool(STATS_AT_ONCE)

    def connect(self) -> bool:
        """Find an engine that answers (:func:`addresses`); True if one does."""
        self.close()
        for address in addresses(self.environ):
            if address.startswith("unix://") and not os.path.exists(address[len("unix://"):]):
                continue  # docker-py leaks the socket of a failed connect: do not try one
            # Asked with the oldest API version every engine speaks, then a client at the
            # engine's own: docker-py's version="auto" asks in its constructor, and leaks the
            # socket when that fails (every RETRY seconds while no engine runs).
            probe = docker_py().APIClient(base_url=address, version=MIN_API, timeout=CALL_TIMEOUT)
            try:
                info = probe.version(api_version=False)
            except engine_errors():
                continue
            finally:
                probe.close()
            client = docker_py().APIClient(base_url=address, version=info.get("ApiVersion", MIN_API),
                                      timeout=CALL_TIMEOUT)
            # requests reads the proxy variables of the whole environment on every call (about
            # a millisecond of CPU each); an engine's socket is never reached through a proxy.
            client.trust_env = False
            self.client, self.address = client, address
            names = " ".join(c.get("Name") or "" for c in info.get("Components") or ())
            self.version = f"{'Podman' if 'Podman' in names else 'Docker'} {info.get('Version', '')}"
            return True
        return False

    def close(self) -> None:
        """Drop the connection and what was cached of the containers."""
        if self.client is not None:
            self.client.close()
        self.client = None
        self._inspected.clear()
        self._previous.clear()

    def rows(self, changed: set[str] = frozenset()) -> list[dict]:
        """Every container (running or not), :func:`row_of` each, newest first as the engine
        lists them. A container is inspected again only when its listed state or status changed
        or its id (12 digits) is in ``changed`` (an event named it).

        :raise EngineOff: the engine does not answer.
        """
        if self.client is None:
            raise EngineOff("not connected")
        try:
            listed = self.client.containers(all=True)
        except engine_errors() as exc:
            raise EngineOff(str(exc)) from None
        rows, seen = [], set()
        for entry in listed:
            cid = entry["Id"][:12]
            seen.add(cid)
            # Not the whole status text: "Up 5 minutes" changes every minute. Its health part
            # does; restarts and exits come with events (``changed``).
            status = entry.get("Status") or ""
            key = (entry.get("State"), *(word in status for word in HEALTH_WORDS))
            cached = self._inspected.get(cid)
            if cached is None or cached[0] != key or cid in changed:
                try:
                    info = self.client.inspect_container(entry["Id"])
                except docker_py().errors.NotFound:
                    continue  # removed between the list and the inspect
                except engine_errors() as exc:
                    raise EngineOff(str(exc)) from None
                cached = self._inspected[cid] = (key, row_of(info, self.cmdline))
            rows.append(dict(cached[1]))
        for gone in self._inspected.keys() - seen:
            del self._inspected[gone]
            self._previous.pop(gone, None)
        return rows

    def read_stats(self, rows: list[dict]) -> None:
        """Add the figures of each running row in place: ``cpu_percent`` (percent of one CPU),
        ``mem_used``, ``mem_limit`` (bytes), ``mem_percent`` (of the limit), ``net_rx_bps``,
        ``net_tx_bps``, ``block_read_bps``, ``block_write_bps`` (bytes per second). A first
        reading gives memory only; a container that stopped meanwhile is skipped.

        :raise EngineOff: the engine does not answer.
        """
        running = [row for row in rows if row["state"] == "running"]
        failures: list[Exception] = []

        def one(row: dict) -> None:
            try:
                stats = self.client.stats(row["id"], stream=False, one_shot=True)
            except docker_py().errors.NotFound:
                return
            except engine_errors() as exc:
                failures.append(exc)
                return
            self._figures(row, stats, time.monotonic())

        self._pool.map(one, running)
        if failures and len(failures) == len(running):
            raise EngineOff(str(failures[0]))

    def _figures(self, row: dict, stats: dict, now: float) -> None:
        used, limit, percent = memory(stats)
        row.update(mem_used=shown(used), mem_limit=limit, mem_percent=percent)
        cpu, io = stats.get("cpu_stats") or {}, io_totals(stats)
        previous = self._previous.get(row["id"])
        self._previous[row["id"]] = (now, cpu, io)
        pre = stats.get("precpu_stats") or {}
        if not pre.get("system_cpu_usage"):  # one-shot: the engine sent no previous reading
            if previous is None:
                return
            pre = previous[1]
        row["cpu_percent"] = cpu_percent(cpu, pre)
        if previous is not None and now > previous[0]:
            rates = [max(b - a, 0) / (now - previous[0]) for a, b in zip(previous[2], io)]
            row.update(zip(("net_rx_bps", "net_tx_bps", "block_read_bps", "block_write_bps"),
                           (shown(r) for r in rates)))

    def events(self):
        """Yield the engine's container events that the feed shows (:data:`EVENT_ACTIONS`), as
        ``{"action", "id", "name", "exit_code", "signal", "time"}``, for ever; a client of its
        own, with no read timeout (the stream is quiet between events).

        :raise EngineOff: the engine does not answer, or the stream ended.
        """
        client = docker_py().APIClient(base_url=self.address, version=self.client.api_version,
                                  timeout=None)
        try:
            for event in client.events(decode=True, filters={"type": "container"}):
                action = (event.get("Action") or event.get("status") or "").strip()
                if action.split(":")[0] not in EVENT_ACTIONS:
                    continue
                attrs = (event.get("Actor") or {}).get("Attributes") or {}
                yield {"action": action, "id": (event.get("id") or "")[:12],
                       "name": str(attrs.get("name") or "")[:128],
                       "exit_code": attrs.get("exitCode"), "signal": attrs.get("signal"),
                       "time": event.get("time")}
        except engine_errors() as exc:
            raise EngineOff(str(exc)) from None
        finally:
            client.close()
        raise EngineOff("the event stream ended")


def with_containers(sample: Callable[[], dict], engine: Engine, every: float,
                    clock: Callable[[], float] = time.monotonic) -> Callable[[], dict]:
    """Wrap ``sample`` so that a sample carries ``containers`` (``{"engine", "containers"}``:
    :class:`Engine` rows with their figures) every ``every`` seconds
    (``--containers``); with no engine, ``engine`` is None (looked for again each time)."""
    due = 0.0

    def take() -> dict:
        nonlocal due
        taken = sample()
        if clock() < due:
            return taken
        due = clock() + every
        try:
            if engine.client is None and not engine.connect():
                raise EngineOff("no engine")
            rows = engine.rows()
            engine.read_stats(rows)
            taken["containers"] = {"engine": engine.version, "containers": rows}
        except EngineOff:
            engine.close()
            taken["containers"] = {"engine": None, "containers": []}
        return taken

    return take
