"""A container's figures from the Engine API's statistics (``GET /containers/<id>/stats``),
computed as ``docker stats`` computes them (the Docker CLI's ``calculateCPUPercentUnix`` and
``calculateMemUsageUnixNoCache``). Pure functions of the JSON: no engine needed to test them.
"""

from __future__ import annotations


def cpu_percent(now: dict, before: dict) -> float | None:
    """CPU in percent of one CPU over the time between two ``cpu_stats`` readings, as
    ``docker stats`` computes it: container CPU time over host CPU time, times online CPUs."""
    try:
        used = now["cpu_usage"]["total_usage"] - before["cpu_usage"]["total_usage"]
        system = now["system_cpu_usage"] - before["system_cpu_usage"]
    except (KeyError, TypeError):
        return None
    cpus = now.get("online_cpus") or len(now["cpu_usage"].get("percpu_usage") or ()) or 1
    return round(max(used, 0) / system * cpus * 100, 1) if system > 0 else 0.0


def memory(stats: dict) -> tuple[int, int, float]:
    """(used bytes, limit bytes, percent of the limit) as ``docker stats`` shows them: the usage
    less the inactive page cache (cgroup v1 ``total_inactive_file``, v2 ``inactive_file``)."""
    mem = stats.get("memory_stats") or {}
    usage, limit = int(mem.get("usage") or 0), int(mem.get("limit") or 0)
    detail = mem.get("stats") or {}
    cache = detail.get("total_inactive_file", detail.get("inactive_file", 0)) or 0
    used = usage - cache if cache < usage else usage
    return used, limit, round(used / limit * 100, 1) if limit else 0.0


def io_totals(stats: dict) -> tuple[int, int, int, int]:
    """Cumulative (received, sent, read, written) bytes: every network, every block device."""
    nets = (stats.get("networks") or {}).values()
    rx, tx = sum(n.get("rx_bytes", 0) for n in nets), sum(n.get("tx_bytes", 0) for n in nets)
    read = written = 0
    for entry in (stats.get("blkio_stats") or {}).get("io_service_bytes_recursive") or ():
        op = (entry.get("op") or "").lower()
        read += entry.get("value", 0) if op == "read" else 0
        written += entry.get("value", 0) if op == "write" else 0
    return rx, tx, read, written


def shown(value: float) -> int:
    """``value`` (bytes, or bytes per second) to what the page shows of it, 3 significant
    digits: a list is stored, and sent to every viewer, only when what they see changed."""
    value = int(round(value))
    digits = len(str(abs(value)))
    return round(value, -(digits - 3)) if digits > 3 else value
