"""The notifications outbox: what each alert has been told to whom, and what is still to send.

One record per alert, the state ``notify:<alert id>``, written as a ``notify`` log item (so the
alert cards show the delivery state at once)::

    {"alert": "3f2a...", "fired": 1, "fired_at": unix s|None, "resolved": false,
     "pending": [entry, ...],
     "delivery": {"state": "sent"|"retrying"|"failed", "error": str|None, "at": unix s}|None}

    entry = {"key": "3f2a...-firing-1-webhook-0", "receiver": "webhook-0",
             "status": "firing"|"resolved", "alert": {the alert as it was},
             "attempts": 0, "first_at": unix s, "next_at": unix s, "error": str|None}

``key`` is the idempotency key: the same for every attempt of one transition to one receiver,
so a receiver that sees it twice (the sender died between its send and the record's write)
can tell. Only the process holding the ``notifier`` lease writes records
(``app.live.notifier``): :func:`plan` turns the alerts' current state into entries (level-
triggered, so nothing is lost when a process dies between a transition and its planning), and
:func:`settle` records each attempt's outcome.
"""

from __future__ import annotations

import random

from app.store import Store

from . import silences as silences_mod

STATE_PREFIX = "notify:"
#: Seconds a failing notification is retried for before it counts as failed.
RETRY_FOR = 3600.0
#: Longest wait between two attempts, in seconds.
BACKOFF_CAP = 600.0
#: Seconds: a resolved alert the outbox never saw firing (it fired and resolved between two
#: looks, or while no process sent) is notified, firing then resolved, if it ended this
#: recently; older ones (a store from before notifications were configured) are not.
RECENT = 300.0


def blank(alert_id: str) -> dict:
    """The record of an alert nothing was planned for yet."""
    return {"alert": alert_id, "fired": 0, "fired_at": None, "resolved": False, "pending": [],
            "delivery": None}


def plan(alert: dict, record: dict | None, silences: list[dict], receivers: list[str],
         now: float, repeat: float) -> dict | None:
    """The record ``alert`` needs at Unix time ``now``, or None when ``record`` stands.

    Firing and not silenced: notified once, then again every ``repeat`` seconds while nobody
    acknowledged it. Silenced: nothing; when the silence ends and it still fires, it is
    notified. Resolved: notified if its firing was. Each notification is one entry per name in
    ``receivers``.
    """
    new = blank(alert["id"]) if record is None else {**record, "pending": list(record["pending"])}
    silenced = silences_mod.covering(silences, alert, now) is not None
    sends: list[tuple[str, dict]] = []
    if alert["state"] == "firing":
        if silenced:
            return new if record is None else None  # remembered as seen: not notified later
        waiting = any(e["status"] == "firing" for e in new["pending"])
        if not (new["fired"] == 0 or (not alert.get("acked_by") and not waiting
                                      and now - new["fired_at"] >= repeat)):
            return None
        sends.append(("firing", alert))
    elif not new["resolved"]:
        if record is None and not silenced and (alert.get("ended_at") or 0) >= now - RECENT:
            sends.append(("firing", {**alert, "state": "firing", "ended_at": None}))
        if new["fired"] or sends:
            sends.append(("resolved", alert))
        new["resolved"] = True
    else:
        return None
    for status, snapshot in sends:
        if status == "firing":
            new["fired"] += 1
            new["fired_at"] = now
        tag = f"firing-{new['fired']}" if status == "firing" else "resolved"
        new["pending"] += [{"key": f"{alert['id']}-{tag}-{name}", "receiver": name,
                            "status": status, "alert": snapshot, "attempts": 0,
                            "first_at": now, "next_at": now, "error": None}
                           for name in receivers]
    return new


def due(records: dict[str, dict], now: float) -> list[tuple[str, dict]]:
    """``(alert id, entry)`` of every entry whose time came, the longest waiting first.

    An entry waits while an earlier one of its alert to the same receiver is pending (a
    firing being retried): a receiver never hears of a resolution before the firing.
    """
    found = []
    for record in records.values():
        ahead: set[str] = set()
        for entry in record["pending"]:
            if entry["next_at"] <= now and entry["receiver"] not in ahead:
                found.append((record["alert"], entry))
            ahead.add(entry["receiver"])
    return sorted(found, key=lambda pair: pair[1]["next_at"])


def backoff(attempts: int, base: float, rand: float) -> float:
    """Seconds to wait after the ``attempts``-th failure: ``base`` doubled each time, capped at
    :data:`BACKOFF_CAP`, times a jitter factor in [0.5, 1) (``rand`` in [0, 1)), so that many
    failing sends do not retry in step."""
    return min(base * 2 ** (attempts - 1), BACKOFF_CAP) * (0.5 + rand / 2)


def settle(record: dict, key: str, error: str | None, now: float, base: float,
           rand: float | None = None) -> tuple[dict, str]:
    """Record one attempt of entry ``key``: sent (``error`` None) or failed with ``error``
    (already free of secrets). Return the new record and the outcome: ``sent``, ``retrying``
    or ``failed`` (retried for :data:`RETRY_FOR` seconds already: given up)."""
    pending, outcome = [], "sent"
    for entry in record["pending"]:
        if entry["key"] != key:
            pending.append(entry)
        elif error is not None:
            attempts = entry["attempts"] + 1
            if now - entry["first_at"] >= RETRY_FOR:
                outcome = "failed"
            else:
                outcome = "retrying"
                wait = backoff(attempts, base, random.random() if rand is None else rand)
                pending.append({**entry, "attempts": attempts, "error": error,
                                "next_at": now + wait})
    if outcome == "sent":
        # Sent here, but another receiver may still be failing: the card says so.
        failing = [e["error"] for e in pending if e["error"]]
        delivery = {"state": "retrying" if failing else "sent",
                    "error": failing[0] if failing else None, "at": now}
    else:
        delivery = {"state": outcome, "error": error, "at": now}
    return {**record, "pending": pending, "delivery": delivery}, outcome


def records(store: Store) -> dict[str, dict]:
    """Every record, by alert id."""
    return {key.removeprefix(STATE_PREFIX): value
            for key, value in store.states(STATE_PREFIX).items()}


def write(store: Store, record: dict) -> None:
    """Store ``record`` and log it (the cards show its delivery state).

    :raise StoreUnavailable: nothing was written.
    """
    store.append("notify", record, state_key=STATE_PREFIX + record["alert"])


def forget(store: Store, alert_id: str) -> None:
    """Drop the record of an alert the store no longer has (retention removed it)."""
    store.set_state(STATE_PREFIX + alert_id, None)
