"""``POST /api/v1/samples``: host samples pushed by agents (``flask --app wsgi agent``) for
machines that run no dashboard.

Each sample becomes a ``metrics`` log item and the ``sample:<host>`` state, as if a dashboard's
own sampler had taken it, so the fleet row, that host's page (``/?host=NAME``) and
``GET /api/v1/metrics`` show it like any other host; and it is recorded in that host's history
(``app.domain.history``) by the one request that received it.

A host that a dashboard samples itself is refused with 409: its sampler holds the lease
``sampler:<host>`` in the store (``app.live.sampling``), or it is the receiving dashboard's own
``DASHBOARD_HOST_NAME`` while its sampler is on. Accepting both would interleave two sources
of one host's figures on its cards and charts. An agent runs under a name of its own, or for a
host whose dashboard stopped (its lease lapses ``app.live.sampling.SAMPLER_LEASE`` seconds later).
"""

from __future__ import annotations

import time

from flask import current_app, jsonify

from app.domain import containers, history, processes

from ..errors import error_response
from ..payload import parse_body
from ..access import needs

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


def sampled_by_a_dashboard(live, host: str) -> bool:
    """Whether a dashboard's own sampler reports ``host`` (see the module docstring).

    :raise app.store.StoreUnavailable: the lease could not be read.
    """
    settings = live.settings
    if settings.sampler and host == settings.host_name:
        return True
    return live.store.holder(f"sampler:{host}") is not None


@needs("ingest")
def post_samples():
    """Take ``{"samples": [{"host", "ts", "cpu_percent", ...}, ...]}`` (1 to 1000).

    A sample may carry ``processes`` (the agent's ``--processes``): the latest list of each
    host is stored apart (``app.domain.processes``), without command lines unless
    ``DASHBOARD_SHOW_CMDLINE`` is on; and ``containers`` (``--containers``), kept likewise
    (``app.domain.containers``).

    The samples, their history and the lists go to the store in one call
    (``Store.append_batch``: one round trip to Redis), which also checks that no dashboard
    holds a sampled host's lease.

    202 with ``{"ids": [...], "count": N}`` once every sample is stored, oldest first as sent.
    A 503 may follow a partial write: the client sends the batch again (at least once).

    :raise 409: a sample names a host that a dashboard samples itself; nothing is stored.
    :raise 415/400/422: a bad body (field paths in ``details``); nothing is stored.
    """
    from app.domain.hostsample import SamplesIn

    spec = parse_body(SamplesIn)
    live = current_app.extensions["dashboard"]
    hosts = sorted({sample.host for sample in spec.samples})
    # A sample keeps what the agent sent: an older agent's lacks the newer keys.
    data = [sample.model_dump(exclude_unset=True, exclude={"processes", "containers"})
            for sample in spec.samples]
    entries = [("metrics", d, f"sample:{d['host']}") for d in data]
    show_cmdline = live.settings.show_cmdline
    # An agent with --processes adds its list to some samples: the latest of each host counts.
    entries += [processes.entry(s.host, s.ts, [row.model_dump(exclude_none=True)
                                               for row in s.processes], show_cmdline)
                for s in {s.host: s for s in spec.samples if s.processes is not None}.values()]
    # And one with --containers its containers list: the latest of each host counts.
    entries += [containers.entry(s.host, s.ts,
                                 [row.model_dump(exclude_none=True, exclude={"uptime"})
                                  for row in s.containers.containers],
                                 s.containers.engine, show_cmdline)
                for s in {s.host: s for s in spec.samples if s.containers is not None}.values()]
    # A batch sent again after a 503 counts once in the history: the store keeps one value
    # per host, key and millisecond.
    now = time.time()
    rows = [found for d in data if (found := history.row(d, now)) is not None]
    ids = None
    if not (live.settings.sampler and live.settings.host_name in hosts):
        for _ in range(3):  # a lease that lapsed between the write and the look below: again
            ids = live.store.append_batch(entries, rows,
                                          unless_held=[f"sampler:{h}" for h in hosts])
            if ids is not None or any(sampled_by_a_dashboard(live, h) for h in hosts):
                break
    if ids is None:
        refused = [host for host in hosts if sampled_by_a_dashboard(live, host)]
        if not refused:  # a lease came and went at each of three tries: nothing was stored
            return error_response(503, "a host's sampler lease changed while storing; send the "
                                       "batch again")
        return error_response(
            409, f"a dashboard samples {', '.join(refused)} itself; run the agent under another "
                 "host name (--host)",
            details=[{"field": f"samples.{n}.host", "message": "sampled by a dashboard"}
                     for n, sample in enumerate(spec.samples) if sample.host in refused])
    ids = ids[:len(data)]
    return jsonify({"ids": ids, "count": len(ids)}), 202
