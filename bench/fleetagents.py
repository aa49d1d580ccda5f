"""The agents of ``bench.fleetload``: one process posting like many ``flask agent`` processes.

    python -m bench.fleetagents CONFIG.json RESULT.json

Each agent behaves as :class:`app.sources.agent.Agent` does with ``--interval 1/rate
--processes --containers``: it takes a sample every interval (its own fixed offset within the
interval, so that the agents are spread evenly over it). Every ``per_post`` samples (``flask
agent --send-every``), while no send of its own is in flight, it posts everything it holds (up
to :data:`BATCH`) to ``POST /api/v1/samples`` with its ``ingest`` key, on a new connection each
time as ``urllib`` does; a sample taken meanwhile waits for the next send. An agent's sends
follow a grid that starts when it starts, so across a fleet they are spread over the
``per_post`` intervals: here agent ``i`` sends after sample ``k`` when ``(k + 1 + i)`` is a
multiple of ``per_post`` (sending all at once would measure a burst every ``per_post``
intervals instead). Unlike the agent, a batch that gets no 202 is not sent again (the agent
retries after a backoff): the run counts it, so that an overloaded dashboard shows as refused
or unanswered samples rather than as a backlog. Every :data:`DETAILS_EVERY` samples a sample
carries the host's ``processes`` (:data:`PROCESSES` rows) and ``containers``
(:data:`CONTAINERS` rows, figures included), as the agent's ``--processes`` and
``--containers`` add them every 5 seconds.

Every sample carries a marker, its number ``k`` within the run, in figures the pages show
(:func:`figures`): the fleet table reads it back from the memory (whole percent) and load per
CPU (two decimals) columns, the host page from the 15-minute load (two decimals). Both ends
read ``time.monotonic()``, one clock for every process of the machine.

CONFIG: ``{"hosts": [name, ...], "ports": [port, ...], "offsets": [seconds, ...] (one of each
per host), "interval", "samples", "per_post",
"start_at" (monotonic seconds), "t0" (Unix seconds of sample 0), "token"}``. RESULT:
``{"sent": {host: [[k, monotonic post time, status], ...]}, "statuses": {status: batches},
"answers": [seconds from a batch's post to its whole answer, ...] (answered batches only),
"cpu": CPU seconds of this process while posting, "elapsed": seconds}``; a status of 0 is a
network error or no answer within :data:`TIMEOUT` seconds.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from collections import Counter

import orjson

#: Samples one send carries at most (the agent's ``--batch`` default).
BATCH = 60
#: Samples between two that carry processes and containers (``--processes 5 --containers 5``).
DETAILS_EVERY = 5
PROCESSES = 20
CONTAINERS = 3
CPU_COUNT = 4
#: Seconds a send may take before it counts as failed (the agent's ``http_sender`` default).
TIMEOUT = 10.0
#: Marker values repeat after this many samples of one host: a run is shorter.
MARKERS = 1000


def figures(k: int) -> dict:
    """The marker figures of a host's sample number ``k``: ``mem_percent`` 20-29 (whole),
    ``load1`` such that load per CPU is ``(k % 100) / 100``, ``load15 = (k % 1000) / 100``."""
    k %= MARKERS
    return {"mem_percent": float(20 + k // 100), "load1": CPU_COUNT * (k % 100) / 100,
            "load5": 1.0, "load15": k / 100}


def fleet_marker(mem_text: str, load_text: str) -> int:
    """``k % 1000`` from a fleet table row's memory ("23") and load per CPU ("0.45") texts."""
    return (int(mem_text) - 20) * 100 + round(float(load_text) * 100)


def host_marker(load15_text: str) -> int:
    """``k % 1000`` from a host page's 15-minute load text ("4.56")."""
    return round(float(load15_text) * 100)


def base_sample(host: str, rng: random.Random) -> dict:
    """A sample as ``HostSampler`` makes it for a 4-CPU VM with two disks and interfaces; the
    flat figures below thresholds so that no host changes level (and the table its order)."""
    gib = 1 << 30
    return {
        "host": host, "ts": 0.0, "cpu_percent": round(rng.uniform(2, 40), 1),
        "cpu_count": CPU_COUNT, "mem_percent": 20.0, "mem_used": 3.2 * gib, "mem_total": 16 * gib,
        "disk_percent": 41.0, "disk_used": 41 * gib, "disk_total": 100 * gib,
        "net_rx_bps": rng.uniform(1e3, 1e6), "net_tx_bps": rng.uniform(1e3, 1e5), "load1": 0.0,
        "load5": 1.0, "load15": 0.0, "uptime": rng.uniform(1e5, 1e7), "temperature": None,
        "swap_percent": 0.0, "swap_used": 0.0, "swap_total": 2.0 * gib,
        "cpu_cores": [rng.randint(0, 50) for _ in range(CPU_COUNT)],
        "cpu_times": {"user": 12.0, "nice": 0.0, "system": 4.0, "irq": 0.0, "softirq": 0.2,
                      "iowait": 0.5, "steal": 0.1, "idle": 83.2},
        "disks": [{"mount": m, "device": d, "fstype": "ext4", "percent": 41.0,
                   "used": 41.0 * gib, "total": 100.0 * gib}
                  for m, d in (("/", "/dev/vda1"), ("/var", "/dev/vdb1"))],
        "disk_io": [{"device": "vda", "read_bps": 1.2e4, "write_bps": 8.5e4, "read_iops": 2.0,
                     "write_iops": 11.0, "busy_percent": 1.5}],
        "interfaces": [{"name": n, "rx_bps": 5e4, "tx_bps": 1e4, "errors": 0, "drops": 0,
                        "up": True} for n in ("eth0", "docker0")],
        "sensors": [],
    }


def details(host: str, rng: random.Random) -> dict:
    """The ``processes`` and ``containers`` a host's agent adds every few samples."""
    names = ["systemd", "sshd", "dockerd", "containerd", "nginx", "postgres", "python3",
             "node", "redis-server", "cron", "journald", "bash"]
    procs = [{"pid": 100 + n, "name": names[n % len(names)], "user": "root",
              "cpu_percent": round(rng.uniform(0, 30), 1), "mem_percent": round(rng.uniform(0, 5), 2),
              "rss": float(rng.randint(5, 500) << 20), "state": "sleeping",
              "runtime": float(rng.randint(10, 10**6))} for n in range(PROCESSES)]
    boxes = [{"id": f"{n:x}{abs(hash(host)) % 16**11:011x}", "name": f"app-{n}",
              "image": f"local/app{n}:1", "state": "running", "health": "healthy",
              "started": 1.7e9, "restarts": 0, "cpu_percent": round(rng.uniform(0, 20), 1),
              "mem_used": float(rng.randint(20, 400) << 20), "mem_limit": float(2 << 30),
              "mem_percent": 5.0, "net_rx_bps": 1e3, "net_tx_bps": 5e2, "block_read_bps": 0.0,
              "block_write_bps": 1e3} for n in range(CONTAINERS)]
    return {"processes": procs, "containers": {"engine": "Docker 20.10.24", "containers": boxes}}


class _Post(asyncio.Protocol):
    """One request on a new connection: the status once the answer is whole, then closed."""

    def __init__(self, request: bytes, done: asyncio.Future) -> None:
        self.request, self.done, self.got = request, done, b""

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.got += data
        head, sep, body = self.got.partition(b"\r\n\r\n")
        if not sep:
            return
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if len(body) >= length and not self.done.done():
            self.done.set_result(int(head.split(b" ", 2)[1]))
            self.transport.close()

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(0)


class Agents:
    """The agents of one process (module docstring); :meth:`run` until every sample is sent."""

    def __init__(self, config: dict) -> None:
        self.config = config
        self.token = config["token"]
        self.ports = dict(zip(config["hosts"], config["ports"]))
        rng = random.Random(config["hosts"][0] if config["hosts"] else 0)
        self.base = {h: base_sample(h, rng) for h in config["hosts"]}
        self.extra = {h: details(h, rng) for h in config["hosts"]}
        self.buffers: dict[str, list[tuple[int, dict]]] = {h: [] for h in config["hosts"]}
        self.busy: set[str] = set()
        self.sent: dict[str, list] = {h: [] for h in config["hosts"]}
        self.statuses: Counter = Counter()
        self.answers: list[float] = []
        self.tasks: set[asyncio.Task] = set()

    def take(self, host: str, index: int, k: int) -> None:
        """Take sample number ``k`` of ``host`` (the ``index``-th of this process) and start
        sending it unless a send of that host is in flight (it then goes with the next)."""
        sample = {**self.base[host], **figures(k),
                  "ts": self.config["t0"] + k * self.config["interval"] + self.config["offsets"][index]}
        if (k + index) % DETAILS_EVERY == 0:
            sample.update(self.extra[host])
        self.buffers[host].append((k, sample))
        due = (k + 1 + index) % self.config["per_post"] == 0 or k == self.config["samples"] - 1
        if due and host not in self.busy:
            task = asyncio.ensure_future(self.send(host))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def send(self, host: str) -> None:
        """Post what ``host`` holds, :data:`BATCH` samples per request, until it holds none;
        note each sample's post time (monotonic seconds) and the answer's status."""
        self.busy.add(host)
        try:
            while self.buffers[host]:
                batch, self.buffers[host] = self.buffers[host][:BATCH], self.buffers[host][BATCH:]
                # orjson: the generator shares the dashboards' two cores, and json.dumps was a
                # quarter of its CPU.
                body = orjson.dumps({"samples": [s for _, s in batch]})
                port = self.ports[host]
                request = (f"POST /api/v1/samples HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Authorization: Bearer {self.token}\r\nContent-Type: application/json"
                           f"\r\nUser-Agent: live-dashboard-agent\r\nConnection: close\r\n"
                           f"Content-Length: {len(body)}\r\n\r\n").encode() + body
                loop = asyncio.get_running_loop()
                done = loop.create_future()
                posted = time.monotonic()
                try:
                    await asyncio.wait_for(loop.create_connection(
                        lambda: _Post(request, done), "127.0.0.1", port), TIMEOUT)
                    status = await asyncio.wait_for(done, TIMEOUT)
                    self.answers.append(time.monotonic() - posted)
                except (OSError, asyncio.TimeoutError):
                    status = 0
                self.statuses[status] += 1
                self.sent[host].extend([k, posted, status] for k, _ in batch)
        finally:
            self.busy.discard(host)

    async def run(self) -> dict:
        """Take every sample on schedule, wait for every send; the RESULT (module docstring)."""
        config = self.config
        hosts, offsets, interval = config["hosts"], config["offsets"], config["interval"]
        order = sorted(range(len(hosts)), key=lambda i: offsets[i])
        await asyncio.sleep(max(config["start_at"] - time.monotonic(), 0))
        cpu, started = _cpu(), time.monotonic()
        for k in range(config["samples"]):
            for i in order:
                due = config["start_at"] + k * interval + offsets[i]
                if due > time.monotonic():
                    await asyncio.sleep(due - time.monotonic())
                self.take(hosts[i], i, k)
        cpu_posting, elapsed = _cpu() - cpu, time.monotonic() - started
        while self.tasks:
            await asyncio.gather(*list(self.tasks))
        return {"sent": self.sent, "statuses": dict(self.statuses), "answers": self.answers,
                "cpu": cpu_posting, "elapsed": elapsed}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(config_path: str, result_path: str) -> None:
    """Read CONFIG, run the agents, write RESULT (module docstring)."""
    with open(config_path) as f:
        config = json.load(f)
    result = asyncio.run(Agents(config).run())
    with open(result_path, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(*sys.argv[1:3])
