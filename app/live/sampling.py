"""The sampler loop: one per process, sampling this host only while it holds the lease.

Every worker (on every host sharing the store) runs :func:`run_sampler`, but only the holder of
the lease ``sampler:<host>`` reads the host with :class:`~app.sources.sampler.HostSampler`
every ``DASHBOARD_SAMPLE_INTERVAL`` seconds and appends the sample to the store with its row of
the host's history (:func:`app.domain.history.row`) in one call (``Store.append_batch``): the
lease makes that exactly once per sample, whatever the number of workers. It also scans the
processes while someone views the host (:class:`~app.live.procwatch.ProcessWatch`). The alert
rules are checked by :mod:`app.live.rulerunner`, for every host alike. If the holder dies,
another takes over within :data:`SAMPLER_LEASE` seconds.

While the simulator's host mode is on (state :data:`SIMULATED_HOST_KEY`), the readings come from
:class:`~app.sources.simhost.SimulatedHost` instead of psutil, and the simulator's overrides
(:func:`override_key`) replace single values for a while.
"""

from __future__ import annotations

import logging
import time

import gevent

from app.domain import history
from app.sources.sample import METRICS
from app.sources.sampler import HostSampler
from app.sources.simhost import SimulatedHost
from app.store import Store, StoreUnavailable

from .procwatch import ProcessWatch

log = logging.getLogger(__name__)

#: Seconds a sampler lease lasts unrenewed: how soon another worker samples when its holder dies.
SAMPLER_LEASE = 3.0
#: Seconds between priming psutil's CPU counters and the first sample: long enough for a
#: meaningful cpu_percent, short enough that a takeover leaves no visible gap.
_PRIME = 0.25
#: State key of the simulator's host mode, ``{"enabled": bool}``: in the store so every worker
#: (and whichever holds the sampler) agrees.
SIMULATED_HOST_KEY = "simulator:host"


def run_sampler(store: Store, settings, owner: str) -> None:
    """Sample this host forever while holding its lease (module docstring); runs in its own
    greenlet, which ``Live.stop`` kills.

    :param settings: the validated :class:`~app.config.Settings` (``host_name``,
        ``sample_interval``, ``disk_path``, ``simulator``).
    :param owner: this process among all that share the store, the lease holder's name.
    """
    lease = f"sampler:{settings.host_name}"
    ttl = max(SAMPLER_LEASE, 3 * settings.sample_interval)
    sampler: HostSampler | None = None
    simulated: SimulatedHost | None = None
    watch: ProcessWatch | None = None
    interval = settings.sample_interval
    next_at = time.monotonic()
    while True:
        gevent.sleep(max(next_at - time.monotonic(), 0))
        # Keep the schedule fixed (no drift), but never try to catch up on missed ticks.
        next_at = max(next_at + interval, time.monotonic())
        try:
            if not store.lease(lease, owner, ttl):
                sampler = watch = None
                continue
            if sampler is None:
                # Just took the lease: the constructor primes psutil's counters. The first
                # sample comes after _PRIME seconds, not a whole interval: on a takeover the
                # host has gone unsampled for a lease's length already.
                sampler = HostSampler(settings.host_name, settings.disk_path)
                watch = ProcessWatch(settings)
                next_at = time.monotonic() + min(interval, _PRIME)
                continue
            mode = store.get_state(SIMULATED_HOST_KEY) if settings.simulator else None
            if mode and mode.get("enabled"):
                simulated = simulated or SimulatedHost(settings.host_name)
                reading = simulated.sample()
            else:
                # Dropped when the mode ends, so the next run starts from calm values.
                simulated = None
                reading = sampler.sample()
            sample = apply_override(reading,
                                    store.get_state(override_key(settings.host_name)))
            # The item and its history in one store call (one MULTI on Redis): a worker
            # stopped between two calls would log a sample that its history lacks.
            found = history.row(sample)
            store.append_batch([("metrics", sample, f"sample:{settings.host_name}")],
                               [found] if found is not None else [])
            watch.tick(store, simulated)  # the process table, while someone views the host
        except StoreUnavailable:
            log.warning("sampler: store unavailable; sample dropped")
        except Exception:  # noqa: BLE001 - one bad reading must not stop sampling
            log.exception("sampler: sample failed")


def override_key(host: str) -> str:
    """State key under which the simulator keeps metric overrides for ``host``."""
    return f"override:{host}"


def apply_override(sample: dict, override: dict | None) -> dict:
    """Replace values of ``sample`` by the simulator's ``override`` while it has not expired.

    ``override`` is ``{"values": {metric key: number}, "until": unix seconds}``.
    """
    if not override or override.get("until", 0) < time.time():
        return sample
    values = {k: v for k, v in override.get("values", {}).items() if k in METRICS}
    return {**sample, **values}
