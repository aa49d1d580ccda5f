"""History tiers (issue 10): what recording costs per sample, and what a year of a host takes.

``.venv/bin/python -m bench.history`` prints, for SQLite and for a throw-away Redis:

- rollup cost per sample: ``app.domain.history.record`` (raw point, 1-minute and 1-hour folds,
  trimming) in milliseconds, beside the baseline measured in the same run: ``store.append`` of
  the very same sample with its state key (what the sampler already does per sample); and the
  ratio of the two;
- stored bytes per host for the default retention after a simulated year (``history_fill``
  for 365 days: 24 h raw at 1 Hz, 30 days of 1-minute points, a year of 1-hour points):
  the SQLite file's growth (target: at most 64 MB), and Redis' ``MEMORY USAGE`` summed over
  the host's keys and its ``INFO used_memory`` growth;
- the same with three containers on the host, their CPU and memory series recorded every
  ``DASHBOARD_CONTAINER_INTERVAL`` (10 s) all year, as if someone watched the host all along
  (the most the container watcher records at the default settings);
- how long the fill takes; ``history.query`` of six keys over 30 days (what a 30-day chart
  set reads), and, for comparison, reading those 30 days of the 1-minute tier whole.

Figures on a shared machine are noisy: compare the ratio, not the milliseconds.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time

import redis

from app.domain import history
from app.domain.history_fill import fill
from app.store import open_store
from tests.redis_server import RedisServer
from tests.servers import free_port

SAMPLES = 3000
HOST = "bench-host"
MB = 1e6
CONTAINERS = 3
CONTAINER_INTERVAL = 10
DAY = 86400
CHART_KEYS = ["cpu_percent", "mem_percent", "load1", "net_rx_bps", "net_tx_bps", "disk_percent"]


def _samples(n: int) -> list[dict]:
    """``n`` host samples one second apart ending now, every key of a real one."""
    rnd, now = random.Random(1), time.time()
    return [{"host": HOST, "ts": now - n + i, "cpu_percent": rnd.uniform(0, 100), "cpu_count": 8,
             "mem_percent": rnd.uniform(30, 60), "mem_used": rnd.uniform(4e9, 8e9),
             "mem_total": 16e9, "disk_percent": 61.5, "disk_used": 3.1e11, "disk_total": 5e11,
             "net_rx_bps": rnd.uniform(0, 1e6), "net_tx_bps": rnd.uniform(0, 1e5),
             "load1": rnd.uniform(0, 4), "load5": 1.5, "load15": 1.2, "uptime": 1000.0 + i,
             "temperature": None} for i in range(n)]


def rollup_cost(store) -> tuple[float, float]:
    """(append ms, record ms) per sample, each the median of three passes."""
    samples = _samples(SAMPLES)
    appends, records = [], []
    for _ in range(3):
        began = time.perf_counter()
        for sample in samples:
            store.append("metrics", sample, state_key=f"sample:{HOST}")
        appends.append((time.perf_counter() - began) / len(samples) * 1000)
        store.forget_history(HOST)
        began = time.perf_counter()
        for sample in samples:
            history.record(store, sample)
        records.append((time.perf_counter() - began) / len(samples) * 1000)
    return sorted(appends)[1], sorted(records)[1]


def year(store) -> tuple[float, float, float]:
    """Fill a year of ``HOST``; (fill seconds, seconds of ``history.query`` of six keys over
    30 days, seconds to read those 30 days of the minute tier whole)."""
    store.forget_history(HOST)
    began = time.perf_counter()
    fill(store, HOST, 365)
    filled = time.perf_counter() - began
    now = time.time()
    began = time.perf_counter()
    for key in CHART_KEYS:
        assert len(history.query(store, HOST, key, now - 30 * 86400, now)["points"]) > 700
    queried = time.perf_counter() - began
    began = time.perf_counter()
    got = store.history_many(HOST, CHART_KEYS, "1m", now - 30 * 86400, now)
    read = time.perf_counter() - began
    assert len(got["cpu_percent"]) > 40_000
    return filled, queried, read


def fill_containers(store, host: str, n: int = CONTAINERS) -> None:
    """Write a year of ``n`` containers' ``container_cpu:<name>`` and ``container_memory:<name>``
    (one value every :data:`CONTAINER_INTERVAL` seconds) straight into the tiers: raw for the
    raw retention, minute buckets for the minute one, hour buckets for a year."""
    rnd, now, keep = random.Random(2), int(time.time()), store.history_retention
    keys = [f"{family}:app-{i}" for i in range(n) for family in ("container_cpu",
                                                                  "container_memory")]
    per_minute, per_hour = 60 // CONTAINER_INTERVAL, 3600 // CONTAINER_INTERVAL

    def value(key: str) -> float:
        return rnd.uniform(0, 200) if "cpu" in key else rnd.uniform(5e7, 9e8)

    def agg(key: str, count: int) -> tuple:
        low, high = sorted((value(key), value(key)))
        return (low, high, (low + high) / 2 * count, count)

    raw_from = now - int(keep.raw)
    store.write_history(host, "raw", ((t, {k: value(k) for k in keys})
                                      for t in range(raw_from, now, CONTAINER_INTERVAL)))
    minute_from = now - int(keep.minute)
    store.write_history(host, "1m", ((t, {k: agg(k, per_minute) for k in keys})
                                     for t in range(minute_from - minute_from % 60, now, 60)))
    hour_from = now - 365 * DAY
    store.write_history(host, "1h", ((t, {k: agg(k, per_hour) for k in keys})
                                     for t in range(hour_from - hour_from % 3600, now, 3600)))


def _year_line(name: str, size: str, filled: float, queried: float, read: float) -> None:
    print(f"  {name:7} a year of one host: {size}; fill {filled:.1f} s; 30 days of 6 keys: "
          f"query {queried * 1000:.0f} ms (hour tier), the minute tier read whole "
          f"{read * 1000:.0f} ms")


def _line(name: str, append_ms: float, record_ms: float) -> None:
    print(f"  {name:7} record {record_ms:.3f} ms/sample, append (baseline) "
          f"{append_ms:.3f} ms/sample, ratio {record_ms / append_ms:.2f}")


def bench_sqlite(folder: str) -> None:
    path = os.path.join(folder, "history.sqlite3")
    store = open_store(f"sqlite:///{path}", log_size=10_000, poll_interval=0.1)
    try:
        _line("SQLite", *rollup_cost(store))
        store.forget_history(HOST)
        store._db.execute("VACUUM")  # noqa: SLF001 - a bench measures the file
        empty = os.path.getsize(path)
        timings = year(store)
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # noqa: SLF001
        size = os.path.getsize(path) - empty
        _year_line("SQLite", f"{size / MB:.1f} MB (target <= 64 MB)", *timings)
        fill_containers(store, HOST)
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # noqa: SLF001
        more = os.path.getsize(path) - empty
        print(f"  SQLite  with {CONTAINERS} containers: {more / MB:.1f} MB")
    finally:
        store.close()


def _usage(client) -> int:
    """``MEMORY USAGE`` summed over ``HOST``'s history keys (both formats), every member
    counted (``SAMPLES 0``: chunks differ in size, a sample of five would guess)."""
    return sum(client.memory_usage(key, samples=0) or 0
               for key in client.scan_iter(match=f"dashboard:hist*:{HOST}:*"))


def bench_redis() -> None:
    if shutil.which("redis-server") is None:
        print("  Redis   skipped: redis-server is not installed (scripts/setup --test)")
        return
    with RedisServer(free_port()) as server:
        url = server.url + "/0"
        store = open_store(url, log_size=10_000, poll_interval=0.1)
        client = redis.Redis.from_url(url)
        try:
            _line("Redis", *rollup_cost(store))
            store.forget_history(HOST)
            before = client.info("memory")["used_memory"]
            timings = year(store)
            grown = client.info("memory")["used_memory"] - before
            _year_line("Redis", f"MEMORY USAGE {_usage(client) / MB:.1f} MB, used_memory "
                       f"+{grown / MB:.1f} MB (target <= 16 MB)", *timings)
            fill_containers(store, HOST)
            grown = client.info("memory")["used_memory"] - before
            print(f"  Redis   with {CONTAINERS} containers: MEMORY USAGE "
                  f"{_usage(client) / MB:.1f} MB, used_memory +{grown / MB:.1f} MB")
        finally:
            client.close()
            store.close()


def main() -> None:
    print(f"history: {SAMPLES} samples per pass, 13 history keys each; a year = history-fill "
          "--days 365")
    with tempfile.TemporaryDirectory(prefix="bench-history-") as folder:
        bench_sqlite(folder)
    bench_redis()


if __name__ == "__main__":
    main()
