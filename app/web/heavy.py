"""History reads one client may have in progress at once: ``DASHBOARD_HISTORY_READS_PER_CLIENT``
(default 2) per client address in each process, over ``GET /api/v1/history`` and the compare
page and chart (``/fleet/compare``, ``/fleet/compare/chart``).

Each of those may read every reporting host's history (a compare render at 100 hosts over 24 h
is about a quarter of a second of this process's only thread) and yields between batches of
rows, so one client that sent a hundred at once would queue a hundred reads in front of every
other viewer's. With the bound, its next read waits until one of its own is done: the reads it
gets are its share, taken in turn with everyone else's. One more answers ``429`` with
``Retry-After: 1``. Cached compare charts cost nothing and are answered long before a second
request of the same client can arrive, so a browser's own polling never meets the bound.
The address is the one Flask sees: behind a proxy, set ``DASHBOARD_TRUSTED_PROXIES``.
"""

from __future__ import annotations

import functools
from collections import Counter

from flask import current_app, request
from werkzeug.exceptions import TooManyRequests


def bounded(view):
    """Wrap ``view`` so that it counts among the client's history reads in progress.

    :raise 429: the client address has ``DASHBOARD_HISTORY_READS_PER_CLIENT`` in progress
        already (``Retry-After: 1``).
    """
    @functools.wraps(view)
    def read(*args, **kwargs):
        busy: Counter[str] = current_app.extensions.setdefault("history_reads", Counter())
        per_client = current_app.config["SETTINGS"].history_reads_per_client
        address = request.remote_addr or ""
        if busy[address] >= per_client:
            raise TooManyRequests(
                f"this address has {per_client} history reads in progress already "
                "(DASHBOARD_HISTORY_READS_PER_CLIENT); retry when one is done", retry_after=1)
        busy[address] += 1
        try:
            return view(*args, **kwargs)
        finally:
            busy[address] -= 1
            if busy[address] <= 0:
                del busy[address]
    return read
