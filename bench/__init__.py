"""Benchmarks (docs/performance.md); what several of them share."""

import statistics
import time


def median_ms(action, runs: int = 20) -> float:
    """The median of ``runs`` calls of ``action()``, in milliseconds (``time.perf_counter``)."""
    spent = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        spent.append((time.perf_counter() - started) * 1000)
    return statistics.median(spent)
