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

    :param host: the host name the samples carry.
    :param seed: seeds the random generator (tests); None for a random sequence.
    :param clock: returns Unix seconds (``time.time``); tests pass a fake.
    """

    cpu_count = 8
    mem_total = 16 * GIB
    disk_total = 500 * GIB

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
        }
