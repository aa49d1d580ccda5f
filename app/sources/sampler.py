"""Host sampling with psutil: plain data with units, nothing of Flask, the store or HTML.

What a sample holds (its keys and their units) is :data:`~app.sources.sample.METRICS`.

One :class:`HostSampler` lives in the one sampler greenlet of a process. It must stay there:
``psutil.cpu_percent(None)`` compares with the previous call *from the same thread id*, and under
gevent every greenlet has its own, so a second caller would see a meaningless 0.0.
"""

from __future__ import annotations

import time

import psutil

from .devices import DiskRates, InterfaceRates, disks, sensors
from .sample import CPU_MODES

#: Seconds between two reads of the mounted file systems' list (mounts change rarely; their
#: usage is read every sample).
_MOUNTS_EVERY = 30.0
#: Seconds between two reads of swap use (``psutil.swap_memory`` reads two /proc files, and
#: swap moves slowly); samples in between repeat the last reading.
_SWAP_EVERY = 5.0


def _nic_counters() -> dict:
    """``psutil.net_io_counters(pernic=True)``. nowrap=False: psutil's wrap bookkeeping costs
    more than the read itself (~110 µs a call); a counter that goes back gives a rate of 0."""
    return psutil.net_io_counters(pernic=True, nowrap=False)


def _net_totals(counters: dict) -> tuple[int, int]:
    """Bytes received and sent since boot over every interface except loopback."""
    rx = tx = 0
    for name, nic in counters.items():
        if name == "lo" or name.startswith("lo:"):
            continue
        rx += nic.bytes_recv
        tx += nic.bytes_sent
    return rx, tx


class HostSampler:
    """Read this host's figures with psutil; call :meth:`sample` from one greenlet only.

    The constructor primes the CPU and network counters, so the first :meth:`sample` already
    covers the time since construction instead of returning psutil's meaningless first 0.0.
    """

    def __init__(self, host: str, disk_path: str = "/") -> None:
        self.host = host
        self.disk_path = disk_path
        # First readings discarded: they have nothing to compare with.
        psutil.cpu_percent(None)
        psutil.cpu_percent(None, percpu=True)
        psutil.cpu_times_percent(None)
        counters = _nic_counters()
        self._net = _net_totals(counters)
        self._interfaces = InterfaceRates(counters)
        self._disk_io = DiskRates()
        self._net_at = time.monotonic()
        self._cpu_count = psutil.cpu_count() or 1
        self._boot_time = psutil.boot_time()  # fixed until the next boot
        self._no_sensor_until = 0.0  # where there is no sensor, look again once a minute
        self._mounts: list = []
        self._mounts_until = 0.0
        self._swap = None
        self._swap_until = 0.0

    def _sensors(self, now: float) -> list[dict]:
        if now < self._no_sensor_until:
            return []
        found = sensors()
        if not found:
            self._no_sensor_until = now + 60.0
        return found

    def _disks(self, now: float) -> list[dict]:
        if now >= self._mounts_until:
            self._mounts = psutil.disk_partitions(all=False)
            self._mounts_until = now + _MOUNTS_EVERY
        return disks(self._mounts)

    def sample(self) -> dict:
        """Return one sample: ``{"host", "ts"}``, every key of :data:`~app.sources.sample.METRICS`
        and the lists of :data:`~app.sources.sample.DETAIL_KEYS`.

        Units: percents 0-100, bytes, bytes per second, seconds; ``ts`` is Unix time in
        seconds; ``temperature`` (the hottest sensor) is None without a sensor. Rates are the
        counter deltas since the previous call divided by the ``time.monotonic()`` delta.

        :raise OSError: only if ``disk_path`` does not exist.
        """
        now = time.monotonic()
        counters = _nic_counters()
        rx, tx = _net_totals(counters)
        elapsed = max(now - self._net_at, 1e-6)
        # Counters can go backwards when an interface disappears; show 0, not a negative rate.
        rx_bps = max(rx - self._net[0], 0) / elapsed
        tx_bps = max(tx - self._net[1], 0) / elapsed
        self._net, self._net_at = (rx, tx), now
        memory = psutil.virtual_memory()
        disk = psutil.disk_usage(self.disk_path)
        load1, load5, load15 = psutil.getloadavg()
        if now >= self._swap_until:
            self._swap, self._swap_until = psutil.swap_memory(), now + _SWAP_EVERY
        swap = self._swap
        times = psutil.cpu_times_percent(None)
        found = self._sensors(now)
        wall = time.time()
        return {
            "host": self.host,
            "ts": round(wall, 3),
            "cpu_percent": round(psutil.cpu_percent(None), 1),
            "cpu_count": self._cpu_count,
            "mem_percent": round(memory.percent, 1),
            "mem_used": memory.total - memory.available,
            "mem_total": memory.total,
            "disk_percent": round(disk.percent, 1),
            "disk_used": disk.used,
            "disk_total": disk.total,
            "net_rx_bps": round(rx_bps, 1),
            "net_tx_bps": round(tx_bps, 1),
            "load1": round(load1, 2),
            "load5": round(load5, 2),
            "load15": round(load15, 2),
            "uptime": int(wall - self._boot_time),
            # A reading of 0 is a sensor that reads nothing (as before the sensors list).
            "temperature": max((s["celsius"] for s in found if s["celsius"]), default=None),
            "swap_percent": round(swap.percent, 1),
            "swap_used": swap.used,
            "swap_total": swap.total,
            "cpu_cores": [round(p) for p in psutil.cpu_percent(None, percpu=True)],
            "cpu_times": {mode: round(getattr(times, mode), 1) for mode in CPU_MODES
                          if hasattr(times, mode)},
            "disks": self._disks(now),
            "disk_io": self._disk_io.sample(elapsed),
            "interfaces": self._interfaces.sample(counters, elapsed),
            "sensors": found,
        }

