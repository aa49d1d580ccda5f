"""The top processes of this host: one psutil scan, the union of the top by CPU and by memory.

A :class:`ProcessScanner` lives in the one greenlet that samples the host and scans only when
asked (the dashboard asks while someone views the host, the agent with ``--processes``).
``psutil.process_iter`` caches its Process objects between calls, so a process's ``cpu_percent``
is meaningful from its second scan on: the first scan after a pause only primes.
"""

from __future__ import annotations

import time

import psutil

#: What one scan reads of each process (``psutil.Process.as_dict`` names). Not
#: ``memory_percent``: it reads the machine's memory total once per process; :meth:`scan`
#: divides by it once per scan.
ATTRS = ["pid", "name", "username", "cpu_percent", "memory_info", "status", "create_time"]
#: psutil's errors for a process that exited mid-scan or that this user may not read.
SKIPPED = (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess)


def _row(info: dict, now: float, total: int) -> dict | None:
    """One process as the dashboard keeps it, or None if psutil could not read the essentials."""
    memory = info.get("memory_info")
    if info.get("cpu_percent") is None or memory is None:
        return None  # AccessDenied on an attribute leaves it None: nothing to rank it by
    created = info.get("create_time")
    return {
        "pid": info["pid"],
        "name": (info.get("name") or "?")[:100],
        "user": (info.get("username") or "")[:100],
        "cpu_percent": round(info["cpu_percent"], 1),
        "mem_percent": round(min(memory.rss / total * 100, 100.0), 1),
        "rss": memory.rss,
        "state": (info.get("status") or "")[:20],
        "runtime": max(int(now - created), 0) if created else None,
    }


def top(rows: list[dict], count: int) -> list[dict]:
    """The union of the ``count`` highest by ``cpu_percent`` and by ``rss``, by CPU first."""
    by_cpu = sorted(rows, key=lambda r: (-r["cpu_percent"], -r["rss"]))
    by_mem = sorted(rows, key=lambda r: -r["rss"])
    chosen = {r["pid"]: r for r in by_cpu[:count]}
    for row in by_mem[:count]:
        chosen.setdefault(row["pid"], row)
    return sorted(chosen.values(), key=lambda r: (-r["cpu_percent"], -r["rss"]))


class ProcessScanner:
    """Scan the process table with psutil; call from one greenlet only.

    :param count: processes kept of each ranking (the list holds up to twice as many).
    :param cmdline: also read each kept process's command line (``DASHBOARD_SHOW_CMDLINE``);
        command lines often hold secrets, so by default they are never read.
    :param iterate: ``psutil.process_iter`` (tests pass a fake).
    """

    def __init__(self, count: int = 15, cmdline: bool = False, iterate=None) -> None:
        self.count = count
        self.cmdline = cmdline
        self._iterate = iterate or psutil.process_iter
        self.primed = False

    def reset(self) -> None:
        """Forget the CPU baselines (nobody looks): the next :meth:`scan` primes again."""
        self.primed = False
        cache = getattr(psutil.process_iter, "cache_clear", None)
        if cache is not None and self._iterate is psutil.process_iter:
            cache()  # drops psutil's cached Process objects, and their memory

    def scan(self) -> list[dict] | None:
        """Read every process once; return the top ones (:func:`top`), or None for a priming scan.

        Each row: ``pid``, ``name``, ``user``, ``cpu_percent`` (percent of one CPU, so up to
        100 x CPUs), ``mem_percent`` (of physical memory), ``rss`` (bytes), ``state`` (psutil's
        status word), ``runtime`` (seconds since it started), and ``cmdline`` when asked for.
        A process that exits mid-scan or that may not be read is skipped, never an error.
        """
        now = time.time()
        total = psutil.virtual_memory().total or 1
        rows = []
        for proc in self._iterate(attrs=ATTRS, ad_value=None):
            try:
                row = _row(proc.info, now, total)
            except SKIPPED:
                continue
            if row is not None:
                row["_proc"] = proc
                rows.append(row)
        if not self.primed:
            self.primed = True
            return None
        chosen = top(rows, self.count)
        for row in chosen:
            proc = row.pop("_proc")
            if self.cmdline:
                try:
                    row["cmdline"] = " ".join(proc.cmdline())[:500]
                except SKIPPED:
                    row["cmdline"] = ""
        return [{k: v for k, v in row.items() if k != "_proc"} for row in chosen]
