"""The soak's containers (issue 29): a private ``dockerd`` as the tests start one
(``tests.docker_engine``: its own socket, data and exec roots, ``--iptables=false
--ip-masq=false --bridge=none``, a busybox-static image) running three containers, one of them
exiting every minute and started again by its restart policy; the dashboard reads it through
``DOCKER_HOST``. At the end every container is removed, dockerd stopped by its PID (it stops
its containerd), whatever it left mounted under its folder unmounted (``umount -l``) and the
folder removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess

from bench.procstat import children
from tests.docker_engine import IMAGE, DockerEngine, why_not

#: Name and shell command of each container; the last exits after 60 s and is restarted.
CONTAINERS = (("soak-steady", "sleep 100000"),
              ("soak-busy", "while true; do echo tick; sleep 1; done"),
              ("soak-restarting", "sleep 60; exit 1"))


class Containers:
    """The engine and its containers. ``url`` is the engine's ``DOCKER_HOST`` (None when it
    could not run: ``reason`` says why); ``pids`` the PIDs that must be gone after :meth:`stop`
    (dockerd, containerd, the containers' first processes)."""

    def __init__(self) -> None:
        self.engine: DockerEngine | None = None
        self.url: str | None = None
        self.reason: str | None = None
        self.pids: list[int] = []
        self.ids: list[str] = []

    def start(self) -> "Containers":
        """Start the engine and the containers, or note why not (``reason``)."""
        self.reason = why_not()
        if self.reason is not None:
            return self
        try:
            self.engine = DockerEngine().start()
        except RuntimeError as exc:
            self.engine, self.reason = None, f"dockerd does not run here: {exc}"[:300]
            return self
        self.url = self.engine.url
        self.pids = [self.engine.proc.pid, *children(self.engine.proc.pid)]
        with contextlib.closing(self.engine.client()) as client:
            for name, command in CONTAINERS:
                restart = {"Name": "always"} if name == "soak-restarting" else None
                box = client.containers.run(IMAGE, ["sh", "-c", command], name=name,
                                            detach=True, network_mode="none",
                                            restart_policy=restart)
                box.reload()
                self.ids.append(box.id)
                self.pids.append(box.attrs["State"]["Pid"])
        return self

    def restarts(self) -> int:
        """How many times the engine restarted the containers so far (0 without an engine)."""
        if self.engine is None:
            return 0
        with contextlib.closing(self.engine.client()) as client:
            return sum(client.containers.get(i).attrs.get("RestartCount", 0) for i in self.ids)

    def stop(self) -> list[str]:
        """Remove the containers, stop dockerd, unmount and remove its folder; return what
        could not be cleaned (empty when all went)."""
        if self.engine is None:
            return []
        left = []
        try:
            with contextlib.closing(self.engine.client()) as client:
                for box_id in self.ids:
                    client.containers.get(box_id).remove(force=True)
        except Exception as exc:  # noqa: BLE001 - reported, and dockerd is stopped all the same
            left.append(f"containers not removed: {exc}")
        folder = self.engine.dir
        self.engine.stop()
        for mount in sorted(_mounts_under(folder), key=len, reverse=True):
            done = subprocess.run(["umount", "-l", mount], capture_output=True, text=True)
            if done.returncode:
                left.append(f"umount -l {mount}: {done.stderr.strip()}")
        shutil.rmtree(folder, ignore_errors=True)
        left += [f"still mounted: {m}" for m in _mounts_under(folder)]
        if os.path.exists(folder):
            left.append(f"{folder} is still there")
        return left


def _mounts_under(folder: str) -> list[str]:
    """Mount points at or under ``folder`` (``/proc/self/mounts``)."""
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    return [p for p in points if p == folder or p.startswith(folder + "/")]


def alive(pids: list[int]) -> list[int]:
    """The PIDs of ``pids`` that still run (zombies count as gone)."""
    found = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(pid)
    return found
