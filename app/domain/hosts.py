"""Forgetting a host: ``DELETE /api/v1/hosts/<name>`` and the page's "Forget this host".

:func:`forget` drops what the store keeps of one host (its latest sample ``sample:<host>``,
its process list ``processes:<host>`` and its history tiers) and then logs a
:data:`KIND` item ``{"host", "ts"}``, so that every process that tails the log (every worker,
every dashboard on a shared store) drops the host's card from its fleet and tells the
viewers of that host's page (``app.domain.fleet.Fleet.apply``, ``app.view.regions``). Why a log
item rather than the state alone: a process learns of changes only from the log; a deleted
state key is not an event anyone sees.

A host that reports again afterwards simply reappears: its next sample is a new ``metrics``
item and a new ``sample:<host>`` state. Its log items from before stay in the log until it
trims them (they are history of what was said, like events).
"""

from __future__ import annotations

import time

from app.store import Store

from . import processes

#: The log kind that says a host was forgotten: ``{"host": name, "ts": Unix seconds}``.
KIND = "host-forgotten"


def known(store: Store, host: str) -> bool:
    """Whether the store holds a latest sample of ``host``.

    :raise app.store.StoreUnavailable: the store could not be read.
    """
    return store.get_state(f"sample:{host}") is not None


def forget(store: Store, host: str, now: float | None = None) -> bool:
    """Drop ``host``'s latest sample, process list and history, then log a :data:`KIND` item
    (module docstring); return False, changing nothing, if no sample of it is known.

    :param now: the item's ``ts`` (Unix seconds; default: this clock).
    :raise app.store.StoreUnavailable: part may have been dropped; calling it again finishes
        (each step is idempotent and the sample state, which makes the host known, goes last).
    """
    if not known(store, host):
        return False
    store.forget_history(host)
    store.set_state(processes.state_key(host), None)
    store.append(KIND, {"host": host, "ts": time.time() if now is None else now})
    store.set_state(f"sample:{host}", None)
    return True
