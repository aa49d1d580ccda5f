"""A simulated host: realistic, fluctuating readings in the shape of a psutil sample.

The simulator's host mode (``POST /simulator/host``) makes the sampler call
:meth:`SimulatedHost.sample` instead of :meth:`app.sources.sampler.HostSampler.sample`. Nothing here
touches psutil, Flask or the store; with a ``seed`` the sequence of samples is reproducible.
"""

from __future__ import annotations

import random
import time

GIB = 1 << 30


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


class SimulatedHost:
    """Generate one sample per call, each following on from the previous one.

    - CPU: a mean-reverting random walk around 25 %, with a short burst to 70-95 % now and then.
    - Memory: slow drift between 35 % and 85 % of 16 GiB, with brief spikes of up to +15 points.
    - Network: a few KiB/s to a few hundred KiB/s, with bursts of 5-50 MiB/s lasting a few samples.
    - Load: follows CPU use (an exponential average of busy CPUs). Temperature: 38-90 °C,
      following CPU use. Disk: 40-95 % of 500 GiB, growing very slowly. Uptime: counts up.
    - Inside: per-core figures spread around the CPU figure, CPU modes, swap of 4 GiB, two file
      systems on two disks with their I/O, two interfaces sharing the network figures, a
      package and four core sensors, and :meth:`processes`, a process list that changes.

    :param host: the host name the samples carry.
    :param seed: seeds the random generator (tests); None for a random sequence.
    :param clock: returns Unix seconds (``time.time``); tests pass a fake.
    """

    cpu_count = 8
    mem_total = 16 * GIB
    disk_total = 500 * GIB
    swap_total = 4 * GIB
    var_total = 200 * GIB
    #: The simulated processes: (name, user, typical CPU %, typical RSS in MiB).
    programs = (("postgres", "postgres", 12.0, 900), ("nginx", "www-data", 3.0, 60),
                ("gunicorn", "app", 20.0, 300), ("redis-server", "redis", 2.0, 250),
                ("python3", "app", 8.0, 180), ("node", "app", 5.0, 420),
                ("systemd", "root", 0.1, 12), ("sshd", "root", 0.0, 8),
                ("cron", "root", 0.0, 3), ("dockerd", "root", 1.0, 110),
                ("containerd", "root", 0.5, 60), ("rsyslogd", "syslog", 0.2, 6),
                ("prometheus", "prometheus", 4.0, 700), ("grafana", "grafana", 1.5, 200),
                ("backup.sh", "root", 0.0, 20), ("java", "app", 15.0, 2048),
                ("chronyd", "chrony", 0.0, 4), ("journald", "root", 0.3, 40))

    def __init__(self, host: str, seed: int | None = None, clock=time.time) -> None:
        self.host = host
        self.random = random.Random(seed)
        self.clock = clock
        self.started = clock()
        self._last = self.started
        self.cpu = 25.0
        self.mem = 50.0
        self.disk = 60.0
        self.load = 2.0
        self.temperature = 45.0
        self._cpu_burst = 0  # samples left in a CPU burst
        self._net_burst = 0  # samples left in a network burst
        self.swap = 5.0
        self.var = 70.0
        self._cores = [25.0] * self.cpu_count
        self._pids = {name: 1000 + 37 * index for index, (name, *_) in enumerate(self.programs)}
        self._backup_until = 0.0  # the backup job runs now and then (a process that comes and goes)

    def sample(self) -> dict:
        """Return ``{"host", "ts", "simulated": True}`` plus every key of ``app.sources.sample.METRICS``.

        Same units as a real sample: percents 0-100, bytes, bytes per second, seconds, °C.
        """
        rnd = self.random
        now = self.clock()
        elapsed = _clamp(now - self._last, 0.1, 60.0)
        self._last = now

        if self._cpu_burst == 0 and rnd.random() < 0.03:
            self._cpu_burst = rnd.randint(3, 10)
        if self._cpu_burst:
            self._cpu_burst -= 1
            target = rnd.uniform(70, 95)
        else:
            target = 25.0
        self.cpu = _clamp(self.cpu + 0.35 * (target - self.cpu) + rnd.gauss(0, 4), 1.0, 100.0)

        self.mem = _clamp(self.mem + rnd.gauss(0, 0.3), 35.0, 85.0)
        mem_spike = rnd.uniform(5, 15) if rnd.random() < 0.02 else 0.0
        mem = _clamp(self.mem + mem_spike, 0.0, 99.0)

        self.disk = _clamp(self.disk + rnd.uniform(0, 0.002) * elapsed, 40.0, 95.0)

        if self._net_burst == 0 and rnd.random() < 0.05:
            self._net_burst = rnd.randint(2, 6)
        if self._net_burst:
            self._net_burst -= 1
            rx = rnd.uniform(5, 50) * (1 << 20)
            tx = rx * rnd.uniform(0.1, 0.6)
        else:
            rx = rnd.uniform(2, 300) * 1024
            tx = rx * rnd.uniform(0.2, 0.9)

        busy = self.cpu / 100 * self.cpu_count
        self.load += (busy - self.load) * min(elapsed / 60.0, 1.0) + rnd.gauss(0, 0.05)
        self.load = max(self.load, 0.0)
        self.temperature += 0.2 * ((38 + 0.5 * self.cpu) - self.temperature) + rnd.gauss(0, 0.3)
        self.temperature = _clamp(self.temperature, 30.0, 90.0)

        self.swap = _clamp(self.swap + rnd.gauss(0, 0.05) + (0.5 if mem > 80 else 0.0), 2.0, 60.0)
        self.var = _clamp(self.var + rnd.uniform(0, 0.003) * elapsed, 50.0, 97.0)
        # Cores spread around the CPU figure, each following its own walk.
        for index, core in enumerate(self._cores):
            self._cores[index] = _clamp(core + 0.4 * (self.cpu - core) + rnd.gauss(0, 8), 0.0, 100.0)
        busy_share = self.cpu / 100
        system = round(self.cpu * 0.25, 1)
        iowait = round(rnd.uniform(0, 3), 1)
        modes = {"user": round(self.cpu * 0.65, 1), "nice": 0.0, "system": system,
                 "irq": 0.2, "softirq": round(self.cpu * 0.05, 1), "iowait": iowait,
                 "steal": round(rnd.uniform(0, 1), 1)}
        modes["idle"] = round(max(100.0 - sum(modes.values()), 0.0), 1)
        write = rnd.uniform(0.2, 4) * (1 << 20) * (1 + 4 * busy_share)
        sensors = [{"label": "coretemp Package id 0", "celsius": round(self.temperature),
                    "high": 80.0, "critical": 100.0}]
        sensors += [{"label": f"coretemp Core {n}",
                     "celsius": round(_clamp(self.temperature - 2 + self._cores[n] / 25, 30, 99)),
                     "high": 80.0, "critical": 100.0} for n in range(4)]
        return {
            "host": self.host,
            "ts": round(now, 3),
            "simulated": True,
            "cpu_percent": round(self.cpu, 1),
            "cpu_count": self.cpu_count,
            "mem_percent": round(mem, 1),
            "mem_used": int(self.mem_total * mem / 100),
            "mem_total": self.mem_total,
            "disk_percent": round(self.disk, 1),
            "disk_used": int(self.disk_total * self.disk / 100),
            "disk_total": self.disk_total,
            "net_rx_bps": round(rx, 1),
            "net_tx_bps": round(tx, 1),
            "load1": round(self.load, 2),
            "load5": round(self.load * 0.9, 2),
            "load15": round(self.load * 0.8, 2),
            "uptime": int(now - self.started) + 3 * 86400,
            "temperature": round(self.temperature, 1),
            "swap_percent": round(self.swap, 1),
            "swap_used": int(self.swap_total * self.swap / 100),
            "swap_total": self.swap_total,
            "cpu_cores": [round(core) for core in self._cores],
            "cpu_times": modes,
            "disks": [
                {"mount": "/", "device": "/dev/nvme0n1p2", "fstype": "ext4",
                 "percent": round(self.disk, 1), "used": int(self.disk_total * self.disk / 100),
                 "total": self.disk_total},
                {"mount": "/var", "device": "/dev/sda1", "fstype": "xfs",
                 "percent": round(self.var, 1), "used": int(self.var_total * self.var / 100),
                 "total": self.var_total}],
            "disk_io": [
                {"device": "nvme0n1", "read_bps": round(write * rnd.uniform(0.2, 1.5)),
                 "write_bps": round(write), "read_iops": round(rnd.uniform(5, 80)),
                 "write_iops": round(rnd.uniform(10, 120)),
                 "busy_percent": round(_clamp(busy_share * 40 + iowait * 5, 0, 100), 1)},
                {"device": "sda", "read_bps": round(rnd.uniform(0, 200) * 1024),
                 "write_bps": round(rnd.uniform(50, 800) * 1024), "read_iops": round(rnd.uniform(0, 10)),
                 "write_iops": round(rnd.uniform(2, 30)), "busy_percent": round(rnd.uniform(1, 8), 1)}],
            "interfaces": [
                {"name": "eth0", "rx_bps": round(rx * 0.9), "tx_bps": round(tx * 0.9),
                 "errors": 0, "drops": 3, "up": True},
                {"name": "wg0", "rx_bps": round(rx * 0.1), "tx_bps": round(tx * 0.1),
                 "errors": 0, "drops": 0, "up": True}],
            "sensors": sensors,
        }

    def processes(self, count: int = 15) -> list[dict]:
        """Return a simulated process list in the shape of
        :meth:`app.sources.processes.ProcessScanner.scan`: the top by CPU and by memory.

        CPU and memory wander around each program's typical figures; ``backup.sh`` comes and
        goes (with a new pid each run), so the list changes.
        """
        from .processes import top  # only the simulator needs it

        rnd = self.random
        now = self.clock()
        if now >= self._backup_until + 30 and rnd.random() < 0.2:
            self._backup_until = now + rnd.uniform(10, 40)
            self._pids["backup.sh"] += 1
        rows = []
        for name, user, cpu, rss in self.programs:
            if name == "backup.sh" and now >= self._backup_until:
                continue
            cpu = cpu * 4 * self.cpu / 100 if name == "backup.sh" else cpu
            rss_bytes = int(rss * (1 << 20) * rnd.uniform(0.95, 1.05))
            rows.append({
                "pid": self._pids[name], "name": name, "user": user,
                "cpu_percent": round(max(cpu * rnd.uniform(0.3, 1.8) * (0.5 + self.cpu / 50), 0.0), 1),
                "mem_percent": round(rss_bytes / self.mem_total * 100, 1), "rss": rss_bytes,
                "state": "running" if cpu > 5 and rnd.random() < 0.5 else "sleeping",
                "runtime": int(now - self.started) + (3 * 86400 if name != "backup.sh" else 0),
            })
        return top(rows, count)
