"""The janitor loop: one process of the deployment at a time (a lease in the store, like the
sampler's) applies the retention of tasks, alerts, approvals, silences and hosts
(:mod:`app.domain.retention`) and of the audit log (:func:`app.domain.audit.sweep`) every
:data:`JANITOR_INTERVAL` seconds, and trims the history
tiers of every host and custom series (``Store.trim_history``): writing a sample trims only what
it writes, so a host or a series that went quiet would keep its old points for ever."""

from __future__ import annotations

import logging
import time

import gevent

from app.domain import audit, retention
from app.store import Store, StoreUnavailable

log = logging.getLogger(__name__)

#: Seconds between two sweeps.
JANITOR_INTERVAL = 60.0


def run_janitor(store: Store, settings, owner: str) -> None:
    """Sweep forever while holding the lease ``janitor``; runs in its own greenlet, which
    ``Live.stop`` kills.

    :param settings: the validated :class:`~app.config.Settings` (``task_retention``,
        ``alert_retention``, ``host_retention`` in seconds, ``host_name``).
    :param owner: this process among all that share the store.
    """
    while True:
        try:
            if store.lease("janitor", owner, 3 * JANITOR_INTERVAL):
                removed = retention.sweep(
                    store, time.time(), task_retention=settings.task_retention,
                    alert_retention=settings.alert_retention,
                    host_retention=settings.host_retention, home=settings.host_name)
                if any(removed.values()):
                    log.info("retention: removed %(tasks)d tasks, %(alerts)d alerts, "
                             "%(approvals)d approvals, %(silences)d silences and %(hosts)d "
                             "hosts", removed)
                gone = audit.sweep(store, time.time(), retention=settings.audit_retention,
                                   keep=settings.audit_size)
                if gone:
                    log.info("retention: removed %d audit entries", gone)
                store.trim_history()
        except StoreUnavailable:
            pass  # the next sweep tries again
        except Exception:  # noqa: BLE001 - an odd stored value must not end the loop
            log.exception("retention sweep failed")
        gevent.sleep(JANITOR_INTERVAL)
