"""What a host costs in Redis, for ``bench.fleetload``: measured after the run, extrapolated to
a day and a year from the history tiers' layout as the store writes it.

- **per host after the run**: ``INFO used_memory`` growth over the run divided by the hosts
  (their latest samples, process and container lists, history, and their share of the log);
- **history of the run per host**: how much ``used_memory`` falls when every host's history
  is forgotten (``Store.forget_history``); the rest is the host's **fixed part**, which does
  not grow with time (its latest state and lists; the log is bounded by ``DASHBOARD_LOG_SIZE``
  items, shared by all hosts);
- **bytes per point of each tier** (:func:`tier_costs`): ``used_memory`` growth while
  ``Store.write_history`` writes :data:`POINTS` points of one probe host into that tier, with
  the keys an agent's sample records, divided by :data:`POINTS`;
- **a day and a year** (:func:`extrapolate`): the fixed part plus, per tier, the points it
  holds after that long (raw: one per sample for up to its retention; 1-minute and 1-hour
  buckets for up to theirs, ``Store.history_retention``) times its bytes per point. Whatever
  format the store moves to, the figures follow it, since every factor is measured.
- optionally (``--fill-year``) a check of the year figure: the growth while
  ``app.domain.history_fill.fill`` writes a whole year of the probe host (slow: 15-30 s).
"""

from __future__ import annotations

import time

import redis

from app.domain.history import HISTORY_KEYS
from app.domain.history_fill import fill
from app.store.tiers import TIERS

PROBE = "bench-fleet-probe"
#: Points written per tier to measure its bytes per point (beyond any small-set encoding).
POINTS = 2000
DAY, YEAR = 86400.0, 365 * 86400.0


def used(client: redis.Redis) -> int:
    """``INFO used_memory`` in bytes."""
    return int(client.info("memory")["used_memory"])


def tier_costs(store, client: redis.Redis, sample: dict) -> dict[str, float]:
    """Bytes per point of each tier (``{"raw": B, "1m": B, "1h": B}``) for points holding the
    history keys of ``sample`` (a sample as an agent sends it)."""
    values = {k: float(v) for k in HISTORY_KEYS
              if isinstance(v := sample.get(k), (int, float)) and not isinstance(v, bool)}
    now, costs = float(int(time.time())), {}
    for tier, step in TIERS.items():
        figure = (lambda v: v) if not step else (lambda v: (v, v, v * 60, 60))
        rows = [(now - (n + 1) * (step or 1), {k: figure(v) for k, v in values.items()})
                for n in range(POINTS)]
        store.forget_history(PROBE)
        before = used(client)
        store.write_history(PROBE, tier, rows)
        costs[tier] = (used(client) - before) / POINTS
        store.forget_history(PROBE)
    return costs


def extrapolate(costs: dict[str, float], retention, seconds: float, rate: float) -> float:
    """History bytes of one host after ``seconds`` of samples at ``rate`` per second, from each
    tier's bytes per point (``costs``) and how long it keeps points (``retention``, an
    ``app.store.tiers.Retention``)."""
    total = 0.0
    for tier, step in TIERS.items():
        kept = min(seconds, retention.of(tier))
        # The raw tier keeps one point per host and whole second (app.store.tiers.raw_stamp).
        total += costs[tier] * (kept * min(rate, 1.0) if not step else kept / step)
    return total


def year_by_fill(store, client: redis.Redis) -> tuple[int, float]:
    """(bytes of a year of one host's history written by ``history_fill.fill``, seconds the
    fill took); forgotten again."""
    store.forget_history(PROBE)
    before, started = used(client), time.monotonic()
    fill(store, PROBE, 365)
    grown, took = used(client) - before, time.monotonic() - started
    store.forget_history(PROBE)
    return grown, took


def measure(store, client: redis.Redis, hosts: list[str], before: int, samples: int,
            sample: dict, rate: float, fill_year: bool = False) -> dict:
    """Redis bytes per host: ``after_run`` (growth since ``before`` / hosts), ``history_run``,
    ``fixed``, ``per_sample`` (history bytes per sample of the run, ``samples`` per host),
    ``costs`` (:func:`tier_costs`), ``history_day``, ``history_year``, ``day``, ``year``, and
    with ``fill_year`` ``year_fill`` and ``year_fill_seconds``. Forgets the hosts' history."""
    after = used(client)
    per_host = (after - before) / max(len(hosts), 1)
    for host in hosts:
        store.forget_history(host)
    history_run = (after - used(client)) / max(len(hosts), 1)
    fixed = per_host - history_run
    costs = tier_costs(store, client, sample)
    keep = store.history_retention
    day, year = extrapolate(costs, keep, DAY, rate), extrapolate(costs, keep, YEAR, rate)
    found = {"after_run": per_host, "history_run": history_run, "fixed": fixed,
             "per_sample": history_run / max(samples, 1), "costs": costs,
             "history_day": day, "history_year": year, "day": fixed + day, "year": fixed + year}
    if fill_year:
        found["year_fill"], found["year_fill_seconds"] = year_by_fill(store, client)
    return found
