"""The notification sender: one process of the whole deployment (the lease ``notifier``) plans
and sends alert notifications from the outbox in the store (``app.domain.outbox``).

Every process runs :func:`run_notifier` when notifications are configured; the holder of the
lease looks at the alerts about once a second (at once when its tailer saw an alert or silence
change), plans what they need, and sends what is due, one entry at a time, renewing the lease
before each send. A send that fails is retried with capped exponential backoff and jitter for
an hour. When the holder dies (even ``kill -9``), another process takes the lease within
:data:`NOTIFY_LEASE` seconds and sends what the records still hold pending; only an entry whose
send was under way when its sender died can reach a receiver twice, with the same
``Idempotency-Key``.
"""

from __future__ import annotations

import logging
import time

import gevent
import gevent.event

from app.domain import alerts, outbox, silences
from app.domain.i18n import Say, source
from app.store import Store, StoreUnavailable

from . import receivers as receivers_mod

log = logging.getLogger(__name__)

#: Seconds the lease lasts unrenewed: longer than one send can take (the webhook's timeouts,
#: Apprise's own), so a slow send never lets a second sender in.
NOTIFY_LEASE = 30.0
_LOOK = 1.0  # seconds between two looks for due retries (in memory)
#: Seconds between two plans with no alert or silence change to wake the sender: how late a
#: repeat or the end of a silence may be noticed. Each plan reads every alert, record and
#: silence from the store, so not every second.
PLAN_EVERY = 5.0


def configured(settings) -> bool:
    """Whether any notification URL is set (else :func:`run_notifier` is not started)."""
    return bool(settings.notify_urls.get_secret_value().split()
                or settings.webhook_urls.get_secret_value().split())


def run_notifier(store: Store, settings, owner: str, wake: gevent.event.Event,
                 on_outcome=None, say: Say = source) -> None:
    """Plan and send notifications forever while holding the lease (module docstring); runs in
    its own greenlet, which ``Live.stop`` kills.

    :param settings: ``notify_urls``, ``webhook_urls``, ``notify_repeat``, ``notify_backoff``,
        ``public_url``.
    :param wake: set by the tailer when an ``alert`` or ``silence`` item arrives.
    :param on_outcome: called with ``"sent"``, ``"retrying"`` or ``"failed"`` per attempt
        (``/metrics`` counts them).
    :param say: the words of the messages, in ``DASHBOARD_LANGUAGE`` (``app.domain.i18n``).
    """
    sender: _Sender | None = None
    while True:
        woken = wake.wait(_LOOK)
        wake.clear()
        try:
            if not store.lease("notifier", owner, NOTIFY_LEASE):
                sender = None
                continue
            if sender is None:  # just took the lease: only now load Apprise
                sender = _Sender(store, settings, owner, on_outcome, say)
            sender.tick(time.time(), replan=bool(woken))
        except StoreUnavailable:
            pass  # the next look tries again; the records keep what is pending
        except Exception:  # noqa: BLE001 - one odd alert must not stop every notification
            log.exception("notifier: a pass failed")


class _Sender:
    """What the lease holder does each pass: plan (when something changed, or every
    :data:`PLAN_EVERY` seconds), then send what is due. While it holds the lease it is the only
    writer of the records, so its copy of them is the store's."""

    def __init__(self, store: Store, settings, owner: str, on_outcome, say: Say) -> None:
        self.store, self.settings, self.owner = store, settings, owner
        self.on_outcome = on_outcome or (lambda outcome: None)
        self.receivers = {r.name: r for r in receivers_mod.load(
            settings.notify_urls.get_secret_value(), settings.webhook_urls.get_secret_value(),
            say)}
        log.info("notifier: this process sends notifications to %s",
                 ", ".join(r.shown for r in self.receivers.values()) or "nobody (no valid URL)")
        self.records: dict[str, dict] = {}
        self.planned_at: float | None = None

    def tick(self, now: float, replan: bool) -> None:
        if replan or self.planned_at is None or now - self.planned_at >= PLAN_EVERY:
            self.records = self._plan(now)
            self.planned_at = now
        records = self.records
        for alert_id, entry in outbox.due(records, now):
            # Renewed before each send: a holder that lost the lease must not send on.
            if not self.store.lease("notifier", self.owner, NOTIFY_LEASE):
                return
            records[alert_id] = self._send(records[alert_id], entry)

    def _plan(self, now: float) -> dict[str, dict]:
        records = outbox.records(self.store)
        active = silences.active(self.store, now)
        names = list(self.receivers)
        stored = {a["id"]: a for a in alerts.all_alerts(self.store)}
        for alert_id, alert in stored.items():
            record = outbox.plan(alert, records.get(alert_id), active, names, now,
                                 self.settings.notify_repeat)
            if record is not None:
                outbox.write(self.store, record)
                records[alert_id] = record
        for alert_id in records.keys() - stored.keys():
            if not records[alert_id]["pending"]:  # removed by retention, and nothing to send
                outbox.forget(self.store, alert_id)
                del records[alert_id]
        return records

    def _send(self, record: dict, entry: dict) -> dict:
        receiver = self.receivers.get(entry["receiver"])
        error = None
        if receiver is None:
            error = "this receiver is no longer configured"
        else:
            try:
                receiver.send(entry, self.settings.public_url)
            except receivers_mod.SendFailed as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a plugin's bug is one failed attempt
                error = receivers_mod.scrub(f"{type(exc).__name__}: {exc}", receiver.url)
        now = time.time()
        record, outcome = outbox.settle(record, entry["key"], error, now,
                                        self.settings.notify_backoff)
        if error is not None:
            log.warning("notifier: %s of %s to %s: %s (%s)", entry["status"],
                        entry["alert"]["name"], receiver.shown if receiver else entry["receiver"],
                        error, outcome)
        outbox.write(self.store, record)
        self.on_outcome(outcome)
        return record
