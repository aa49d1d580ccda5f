"""Host sampling with psutil: plain data with units, nothing of Flask, the store or HTML.

What a sample holds (its keys and their units) is :data:`~app.sources.sample.METRICS`.

One :class:`HostSampler` lives in the one sampler greenlet of a process. It must stay there:
``psutil.cpu_percent(None)`` compares with the previous call *from the same thread id*, and under
gevent every greenlet has its own, so a second caller would see a meaningless 0.0.
"""

from __future__ import annotations

import time

import psutil


def _net_totals() -> tuple[int, int]:
    """Bytes received and sent since boot over every interface except loopback."""
    rx = tx = 0
    for name, counters in psutil.net_io_counters(pernic=True).items():
        if name == "lo" or name.startswith("lo:"):
            continue
        rx += counters.bytes_recv
        tx += counters.bytes_sent
    return rx, tx


def _temperature() -> float | None:
    """Hottest current sensor reading in °C, or None where the host exposes no sensor."""
    read = getattr(psutil, "sensors_temperatures", None)  # absent on macOS and Windows
    if read is None:
        return None
    try:
        readings = [t.current for temps in read().values() for t in temps if t.current]
    except OSError:
        return None
    return round(max(readings), 1) if readings else None


class HostSampler:
    """Read this host's figures with psutil; call :meth:`sample` from one greenlet only.

    The constructor primes the CPU and network counters, so the first :meth:`sample` already
    covers the time since construction instead of returning psutil's meaningless first 0.0.
    """

    def __init__(self, host: str, disk_path: str = "/") -> None:
        self.host = host
        self.disk_path = disk_path
        psutil.cpu_percent(None)  # first reading discarded: it has nothing to compare with
        self._net = _net_totals()
        self._net_at = time.monotonic()
        self._cpu_count = psutil.cpu_count() or 1
        self._boot_time = psutil.boot_time()  # fixed until the next boot
        self._no_sensor_until = 0.0  # where there is no sensor, look again once a minute

    def _temperature(self, now: float) -> float | None:
        if now < self._no_sensor_until:
            return None
        value = _temperature()
        if value is None:
            self._no_sensor_until = now + 60.0
        return value

    def sample(self) -> dict:
        """Return one sample: ``{"host", "ts"}`` plus every key of :data:`~app.sources.sample.METRICS`.

        Units: percents 0-100, bytes, bytes per second, seconds; ``ts`` is Unix time in
        seconds; ``temperature`` is None without a sensor. Network rates are the byte
        deltas since the previous call divided by the ``time.monotonic()`` delta.

        :raise OSError: only if ``disk_path`` does not exist.
        """
        now = time.monotonic()
        rx, tx = _net_totals()
        elapsed = max(now - self._net_at, 1e-6)
        # Counters can go backwards when an interface disappears; show 0, not a negative rate.
        rx_bps = max(rx - self._net[0], 0) / elapsed
        tx_bps = max(tx - self._net[1], 0) / elapsed
        self._net, self._net_at = (rx, tx), now
        memory = psutil.virtual_memory()
        disk = psutil.disk_usage(self.disk_path)
        load1, load5, load15 = psutil.getloadavg()
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
            "temperature": self._temperature(now),
        }

