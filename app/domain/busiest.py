"""Which hosts were busiest by one metric over a time range: what ``/fleet/compare`` draws.

"Busiest" is the highest average over the range, weighted by the samples each point covers
(a host that reported for ten minutes of the hour is ranked by those ten minutes), ties by
name. Read from one history tier (``app.store.tiers``) with one read per host.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import NamedTuple

from app.store import Store
from app.store.tiers import Point

from .history import coarsen

#: Hosts drawn at most (one line each).
COMPARED = 10


class Ranked(NamedTuple):
    """One host's points (``step``-second buckets, oldest first) and its average over them,
    in the metric's unit."""

    host: str
    average: float
    points: list[Point]


def busiest(store: Store, hosts: Iterable[str], metric: str, tier: str, start: float,
            end: float, step: float, count: int = COMPARED) -> list[Ranked]:
    """The ``count`` hosts with the highest average of ``metric`` in ``tier`` over
    ``[start, end)`` (Unix seconds), busiest first; hosts without a point there are left out.

    :param metric: a history key (``app.domain.history.HISTORY_KEYS``).
    :param step: seconds per returned point (:func:`app.domain.history.coarsen`).
    :raise app.store.StoreUnavailable: the store could not be read.
    """
    ranked = []
    for host in hosts:
        # Under gevent (patched time.sleep) other greenlets run between two hosts' reads: a
        # hundred hosts over 24 hours is ~150,000 rows, a quarter of a second of SQLite.
        time.sleep(0)
        points = store.history(host, metric, tier, start, end)
        samples = sum(p[4] for p in points)
        if samples:
            average = sum(p[2] * p[4] for p in points) / samples
            ranked.append(Ranked(host, average, coarsen(points, step)))
    ranked.sort(key=lambda r: (-r.average, r.host))
    return ranked[:count]
