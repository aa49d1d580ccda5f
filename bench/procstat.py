"""CPU time and memory of a process, read from ``/proc/<pid>/stat``, ``statm`` and
``smaps_rollup``."""

from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process has used (``utime`` + ``stime``)."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name (field 2) may hold spaces; everything after its ")" is fixed.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def rss_bytes(pid: int) -> int:
    """Resident set size in bytes (``/proc/<pid>/statm``, second field, in pages)."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def pss_bytes(pid: int) -> int:
    """Proportional set size in bytes (``/proc/<pid>/smaps_rollup``, ``Pss:``): each page
    shared by n processes counts 1/n, so the PSS of gunicorn's arbiter and workers add up to
    what they hold together (their RSS counts the pages they share once in each)."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


def children(pid: int) -> list[int]:
    """Direct child PIDs (gunicorn's workers, for the arbiter's PID)."""
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            found.extend(int(c) for c in f.read().split())
    return found


def tree(pid: int) -> list[int]:
    """``pid`` and its direct children: gunicorn's arbiter and its workers."""
    return [pid, *children(pid)]


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and its direct children (the arbiter and every worker)."""
    return sum(cpu_seconds(p) for p in tree(pid))


def tree_rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` and its direct children added up, in bytes."""
    return sum(rss_bytes(p) for p in tree(pid))


def tree_pss_bytes(pid: int) -> int:
    """Proportional set size of ``pid`` and its direct children added up, in bytes."""
    return sum(pss_bytes(p) for p in tree(pid))


def sockets(pid: int) -> int:
    """Open sockets of ``pid`` (``/proc/<pid>/fd`` links to ``socket:``): a worker's streams."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            pass  # closed meanwhile
    return count


def tree_run_wait(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of the main threads of ``pid``
    and its direct children, from ``/proc/<pid>/schedstat``: a large wait says the machine's
    CPUs were busy with other processes."""
    run = wait = 0
    for each in tree(pid):
        with open(f"/proc/{each}/schedstat") as f:
            ran, waited, _slices = f.read().split()
        run, wait = run + int(ran), wait + int(waited)
    return run / 1e9, wait / 1e9
