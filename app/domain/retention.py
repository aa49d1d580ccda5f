"""What the store keeps of tasks, alerts and hosts: without it every distinct task id, alert and
host name a writer ever sent would stay in the store, in every worker's memory and in every list
the API builds.

:func:`sweep` deletes, in the state (the log trims itself):

- tasks not updated for ``DASHBOARD_TASK_RETENTION`` seconds, finished or not;
- resolved alerts that ended ``DASHBOARD_ALERT_RETENTION`` seconds ago, and approvals decided
  (answered, expired or withdrawn) as long ago;
- silences that ended ``app.domain.silences.KEPT_AFTER_END`` seconds ago;
- the latest sample of hosts that sent none for ``DASHBOARD_HOST_RETENTION`` seconds, by the
  sample's time and the store's accept time of the host's newest item (never the dashboard's
  own host), with a ``host-forgotten`` log item each (``app.domain.hosts``), so that every
  process drops what it keeps of the host (its fleet card, its rule evaluator) and the rule
  runner resolves the host's firing alerts, which no sample would resolve any more; its
  history stays for the history's own retention;

and beyond that keeps at most :data:`MAX_TASKS`, :data:`MAX_ALERTS` (resolved ones go first),
:data:`MAX_APPROVALS` (decided ones go first) and :data:`MAX_HOSTS` of them, the most recent. One process of the deployment runs it about once a
minute (``app.live.janitor``).
"""

from __future__ import annotations

import heapq

from app.store import Store

from . import hosts as hosts_, silences

MAX_TASKS = 10_000
MAX_ALERTS = 2_000
MAX_HOSTS = 1_000
MAX_APPROVALS = 2_000


def sweep(store: Store, now: float, *, task_retention: float, alert_retention: float,
          host_retention: float, home: str) -> dict[str, int]:
    """Delete what has expired or is past the caps (module docstring); return how many
    ``{"tasks", "alerts", "approvals", "silences", "hosts"}`` went. ``now`` and the retentions
    are in (Unix) seconds.

    :raise app.store.StoreUnavailable: part may have been deleted; the next sweep goes on.
    """
    tasks = store.states("task:")
    gone_tasks = {k for k, t in tasks.items() if t["updated_at"] < now - task_retention}
    gone_tasks |= _oldest_beyond(tasks, gone_tasks, lambda t: t["updated_at"], MAX_TASKS)

    alerts = store.states("alert:")
    gone_alerts = {k for k, a in alerts.items()
                   if a["state"] != "firing" and (a.get("ended_at") or 0) < now - alert_retention}
    # Past the cap, resolved ones (by end) go before any firing one (by start).
    gone_alerts |= _oldest_beyond(alerts, gone_alerts, lambda a: (
        a["state"] == "firing", a.get("ended_at") or a["started_at"]), MAX_ALERTS)

    asked = store.states("approval:")
    gone_approvals = {k for k, a in asked.items()
                      if a["state"] != "pending" and (a.get("answered_at") or 0) < now - alert_retention}
    gone_approvals |= _oldest_beyond(asked, gone_approvals, lambda a: (
        a["state"] == "pending", a.get("answered_at") or a["created_at"]), MAX_APPROVALS)

    gone_silences = {k for k, s in store.states(silences.STATE_PREFIX).items()
                     if s["ends_at"] < now - silences.KEPT_AFTER_END}

    hosts = {k: s for k, s in store.states("sample:").items() if k != f"sample:{home}"}
    cutoff = now - host_retention
    # The sample's ts is the sender's clock: a host goes only if the store, too, accepted
    # nothing of it since (the accept time of its newest item still in the log).
    gone_hosts = {k for k, s in hosts.items()
                  if (s.get("ts") or 0) < cutoff and not _heard_since(store, k, cutoff)}
    gone_hosts |= _oldest_beyond(hosts, gone_hosts, lambda s: s.get("ts") or 0, MAX_HOSTS)

    gone_lists = {"processes:" + key.removeprefix("sample:") for key in gone_hosts}
    for key in gone_hosts:  # before the state goes, as app.domain.hosts.forget does
        store.append(hosts_.KIND, {"host": key.removeprefix("sample:"), "ts": now,
                                   "by": "retention"})
    for key in (*gone_tasks, *gone_alerts, *gone_approvals, *gone_silences, *gone_hosts,
                *gone_lists):
        store.set_state(key, None)
    return {"tasks": len(gone_tasks), "alerts": len(gone_alerts),
            "approvals": len(gone_approvals), "silences": len(gone_silences),
            "hosts": len(gone_hosts)}


def _heard_since(store: Store, key: str, since: float) -> bool:
    latest = store.find("metrics", limit=1, where={"host": key.removeprefix("sample:")})
    return bool(latest) and latest[0].ts >= since


def _oldest_beyond(states: dict[str, dict], gone: set[str], age, cap: int) -> set[str]:
    """The keys of ``states`` not in ``gone`` beyond the ``cap`` newest by ``age(value)``."""
    rest = [key for key in states if key not in gone]
    if len(rest) <= cap:
        return set()
    return set(rest) - set(heapq.nlargest(cap, rest, key=lambda key: age(states[key])))
