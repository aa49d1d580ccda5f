"""Start and stop a real, throw-away ``dockerd`` on a private socket for the tests, and make a
local image from a root file system (there is no image registry here).

Debian's ``docker.io`` (``scripts/setup --test`` installs it) runs in this kind of VM with
``--iptables=false --bridge=none``: no network set-up, so containers run with
``network_mode="none"``. Each instance has its own socket, data and exec roots (so two test
processes may each run one) and is stopped by its PID; dockerd stops the containerd it started.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

from tests.servers import terminate

#: The image every engine test runs: busybox with a few names linked to it.
IMAGE = "dash-test/busybox:1"
#: Names linked to busybox in the image (what the tests' commands use).
APPLETS = ("sh", "sleep", "yes", "true", "false", "cat", "kill", "head", "dd")
BUSYBOX = "/bin/busybox"


def why_not() -> str | None:
    """Why no engine can run here (a sentence for ``pytest.skip``), or None if one may."""
    if shutil.which("dockerd") is None:
        return "dockerd is not installed: scripts/setup --test installs Debian's docker.io"
    if os.geteuid() != 0:
        return "dockerd needs root in this set-up (run the engine tests as root)"
    if not os.path.exists(BUSYBOX):
        return f"{BUSYBOX} is missing: scripts/setup --test installs Debian's busybox-static"
    return None


def rootfs_tar() -> bytes:
    """A root file system as a tar: ``/bin/busybox`` (statically linked) and its links."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(BUSYBOX, arcname="bin/busybox")
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
        tmp = tarfile.TarInfo("tmp")
        tmp.type, tmp.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(tmp)
    return buffer.getvalue()


class DockerEngine:
    """``dockerd`` with everything under a temporary folder, stopped by PID.

    ``url`` is its ``DOCKER_HOST`` (``unix:///tmp/dockerd-.../docker.sock``); :meth:`client`
    a docker-py client on it. :raise RuntimeError: (from :meth:`start`) it did not answer.
    """

    def __init__(self) -> None:
        # Short: a unix socket's path has at most 107 characters.
        self.dir = tempfile.mkdtemp(prefix="dockerd-", dir="/tmp")
        self.url = f"unix://{self.dir}/docker.sock"
        self.proc: subprocess.Popen | None = None
        self._log = open(os.path.join(self.dir, "dockerd.log"), "wb")

    def start(self, timeout: float = 60.0) -> "DockerEngine":
        import docker

        self.proc = subprocess.Popen(
            ["dockerd", "--host", self.url, "--data-root", f"{self.dir}/data",
             "--exec-root", f"{self.dir}/exec", "--pidfile", f"{self.dir}/dockerd.pid",
             "--iptables=false", "--ip-masq=false", "--bridge=none"],
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                message = f"dockerd exited with {self.proc.returncode}:\n{self.log[-3000:]}"
                self.stop()
                raise RuntimeError(message)
            if not os.path.exists(f"{self.dir}/docker.sock"):
                time.sleep(0.2)  # polling for a file to appear; there is no event to wait on
                continue
            try:
                with docker.APIClient(base_url=self.url, version="1.41", timeout=5) as client:
                    client.ping()
                    client.import_image_from_data(rootfs_tar(), repository=IMAGE.split(":")[0],
                                                  tag=IMAGE.split(":")[1])
                return self
            except (docker.errors.DockerException, OSError):
                time.sleep(0.2)  # polling a socket that is not there yet; no event to wait on
        message = f"dockerd did not answer within {timeout} s:\n{self.log[-3000:]}"
        self.stop()
        raise RuntimeError(message)

    def client(self):
        """A docker-py client (``docker.DockerClient``) on this engine."""
        import docker

        return docker.DockerClient(base_url=self.url, version="1.41", timeout=30)

    @property
    def log(self) -> str:
        """Everything dockerd wrote so far."""
        with open(os.path.join(self.dir, "dockerd.log"), "rb") as log:
            return log.read().decode(errors="replace")

    def stop(self) -> None:
        """SIGTERM dockerd by PID (it stops its containers and its containerd; SIGKILL after
        30 s), then remove the folder."""
        terminate(self.proc, grace=30)
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "DockerEngine":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
