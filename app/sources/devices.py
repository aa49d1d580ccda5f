"""The parts of a host sample that list things: file systems, disks, interfaces, sensors.

Plain functions and small rate keepers over psutil, used by
:class:`~app.sources.sampler.HostSampler`; the shapes are those of
:data:`~app.sources.sample.DETAIL_KEYS`. A device that disappears between two psutil calls (an
unmounted file system, an unplugged disk or interface) is left out of that sample, never an
error. Figures are rounded so that a sample stays small: it is logged and streamed as JSON.
"""

from __future__ import annotations

import os
import time

import psutil

from .sample import MAX_DISKS, MAX_INTERFACES, MAX_SENSORS

#: Seconds between two reads of the interfaces' up/down state (``psutil.net_if_stats``, one
#: ioctl per interface: the costliest call of a sample, for a state that seldom changes).
STATS_EVERY = 10.0
#: Block devices that are not disks of their own (RAM disks, loop files, compressed swap).
_NOT_DISKS = ("loop", "ram", "zram", "fd", "sr")


def _rate(now: int, before: int, elapsed: float) -> float:
    # Counters go back when a device is replaced or wraps: show 0, never a negative rate.
    return max(now - before, 0) / elapsed


def _round_rate(value: float) -> float:
    """Bytes or operations per second to a figure that stays small in JSON."""
    return round(value) if value >= 10 else round(value, 1)


def disks(partitions=None) -> list[dict]:
    """Usage of each real mounted file system, first mount of each device only.

    ``psutil.disk_partitions(all=False)`` leaves out pseudo file systems (proc, sysfs, tmpfs...);
    a bind mount repeats its device and is skipped. A mount that vanished or may not be read
    (``disk_usage`` raising ``OSError``) is skipped.

    :param partitions: ``psutil.disk_partitions(all=False)``'s answer (read here if None).
    :return: ``[{"mount", "device", "fstype", "percent", "used", "total"}]`` (bytes), in mount
        order, at most :data:`~app.sources.sample.MAX_DISKS`.
    """
    if partitions is None:
        partitions = psutil.disk_partitions(all=False)
    found, seen = [], set()
    for part in partitions:
        if part.device in seen or len(found) >= MAX_DISKS:
            continue
        try:
            usage = psutil.disk_usage(part.mountpoint)
        except OSError:  # unmounted meanwhile, or not ours to read
            continue
        if usage.total == 0:
            continue
        seen.add(part.device)
        found.append({"mount": part.mountpoint, "device": part.device, "fstype": part.fstype,
                      "percent": round(usage.percent, 1), "used": usage.used,
                      "total": usage.total})
    return found


def _whole_disk(name: str) -> bool:
    """Whether ``name`` (as in ``/proc/diskstats``) is a whole disk, not a partition or loop."""
    if name.startswith(_NOT_DISKS):
        return False
    if os.path.isdir("/sys/block"):  # Linux: whole disks (and LVM/RAID volumes) are listed there
        return os.path.exists(f"/sys/block/{name}")
    return True


class DiskRates:
    """Read and write rates per whole disk, from ``psutil.disk_io_counters(perdisk=True)``."""

    def __init__(self, read=None) -> None:
        # nowrap=False: psutil's wrap bookkeeping costs more than the read (~110 µs); a counter
        # that goes back shows as 0 here anyway.
        self._read = read or (lambda: psutil.disk_io_counters(perdisk=True, nowrap=False) or {})
        self._last: dict = {}
        self._kept: dict[str, bool] = {}  # name -> whole disk (asked once per name)
        self.sample(1.0)  # primes the counters

    def sample(self, elapsed: float) -> list[dict]:
        """Rates since the previous call, ``elapsed`` seconds ago.

        :return: ``[{"device", "read_bps", "write_bps", "read_iops", "write_iops",
            "busy_percent"}]``; ``busy_percent`` is None where psutil has no ``busy_time``.
            A disk seen for the first time gets its rates from the next call on.
        """
        try:
            counters = self._read()
        except OSError:
            counters = {}
        rows = []
        for name, now in counters.items():
            if name not in self._kept:
                self._kept[name] = _whole_disk(name)
            before = self._last.get(name)
            if not self._kept[name] or before is None or len(rows) >= MAX_DISKS:
                continue
            busy = getattr(now, "busy_time", None)
            rows.append({
                "device": name,
                "read_bps": _round_rate(_rate(now.read_bytes, before.read_bytes, elapsed)),
                "write_bps": _round_rate(_rate(now.write_bytes, before.write_bytes, elapsed)),
                "read_iops": _round_rate(_rate(now.read_count, before.read_count, elapsed)),
                "write_iops": _round_rate(_rate(now.write_count, before.write_count, elapsed)),
                # busy_time is in milliseconds
                "busy_percent": None if busy is None else round(min(
                    _rate(busy, before.busy_time, elapsed) / 10.0, 100.0), 1),
            })
        self._last = counters
        return rows


class InterfaceRates:
    """Receive and send rates per interface but loopback, with error and drop counts and
    whether it is up (``psutil.net_io_counters(pernic=True)``, ``psutil.net_if_stats()``)."""

    def __init__(self, counters: dict, stats=None) -> None:
        self._read_stats = stats or psutil.net_if_stats
        self._last = counters
        self._stats: dict = {}
        self._stats_until = 0.0  # time.monotonic() after which the states are read again

    def sample(self, counters: dict, elapsed: float) -> list[dict]:
        """Rates since the previous call, ``elapsed`` seconds ago.

        :param counters: ``psutil.net_io_counters(pernic=True)`` now (the sampler reads it
            once for these rows and its ``net_rx_bps`` / ``net_tx_bps``).

        :return: ``[{"name", "rx_bps", "tx_bps", "errors", "drops", "up"}]`` (bytes per
            second; errors and drops counted since boot, in and out); an interface seen for
            the first time gets its rates from the next call on.
        """
        now = time.monotonic()
        if now >= self._stats_until or counters.keys() - self._stats.keys():
            try:
                self._stats = self._read_stats()
            except OSError:
                self._stats = {}
            self._stats_until = now + STATS_EVERY
        stats = self._stats
        rows = []
        for name, now in counters.items():
            before = self._last.get(name)
            if name == "lo" or name.startswith("lo:") or before is None:
                continue
            if len(rows) >= MAX_INTERFACES:
                break
            stat = stats.get(name)
            rows.append({
                "name": name,
                "rx_bps": _round_rate(_rate(now.bytes_recv, before.bytes_recv, elapsed)),
                "tx_bps": _round_rate(_rate(now.bytes_sent, before.bytes_sent, elapsed)),
                "errors": now.errin + now.errout,
                "drops": now.dropin + now.dropout,
                "up": bool(stat.isup) if stat is not None else False,
            })
        self._last = counters
        return rows


def _degrees(value) -> float | None:
    # psutil reports a missing high/critical as None or 0 depending on the driver.
    return round(float(value), 1) if value else None


def sensors(read=None) -> list[dict]:
    """Every temperature sensor: ``[{"label", "celsius", "high", "critical"}]`` (°C).

    A sensor's label is its chip's name, plus its own label where it has one (``coretemp
    Core 0``); a repeated label gets ``#2``, ``#3``... Empty where the host exposes none (VMs,
    macOS and Windows, where psutil has no ``sensors_temperatures``).
    """
    read = read or getattr(psutil, "sensors_temperatures", None)
    if read is None:
        return []
    try:
        chips = read()
    except OSError:
        return []
    rows, seen = [], {}
    for chip, temps in chips.items():
        for temp in temps:
            if temp.current is None or len(rows) >= MAX_SENSORS:
                continue
            label = f"{chip} {temp.label}" if temp.label else chip
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label} #{seen[label]}"
            rows.append({"label": label[:100], "celsius": round(float(temp.current), 1),
                         "high": _degrees(temp.high), "critical": _degrees(temp.critical)})
    return rows
