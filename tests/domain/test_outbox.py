"""The outbox's planning and retry book-keeping (app.domain.outbox), with a fake clock."""

from __future__ import annotations

import pytest

from app.domain import outbox

RECEIVERS = ["webhook-0", "apprise-0"]
REPEAT = 100.0


def alert(state="firing", **more) -> dict:
    return {"id": "a1", "name": "cpu-high", "level": "warning", "state": state, "host": "web1",
            "started_at": 1000.0, "ended_at": None if state == "firing" else 1050.0, **more}


def test_a_firing_alert_is_planned_once_per_receiver_then_repeated_unless_acknowledged():
    record = outbox.plan(alert(), None, [], RECEIVERS, now=1001, repeat=REPEAT)
    assert [e["key"] for e in record["pending"]] == ["a1-firing-1-webhook-0", "a1-firing-1-apprise-0"]
    assert outbox.plan(alert(), record, [], RECEIVERS, now=1002, repeat=REPEAT) is None
    for entry in list(record["pending"]):
        record, outcome = outbox.settle(record, entry["key"], None, 1003, base=1)
        assert outcome == "sent"
    assert record["pending"] == [] and record["delivery"]["state"] == "sent"
    assert outbox.plan(alert(), record, [], RECEIVERS, now=1100, repeat=REPEAT) is None
    again = outbox.plan(alert(), record, [], RECEIVERS, now=1101, repeat=REPEAT)
    assert [e["key"] for e in again["pending"]] == ["a1-firing-2-webhook-0", "a1-firing-2-apprise-0"]
    acked = alert(acked_by="ann")
    assert outbox.plan(acked, record, [], RECEIVERS, now=5000, repeat=REPEAT) is None


def test_resolved_is_notified_only_after_a_firing_was():
    record = outbox.plan(alert(), None, [], ["webhook-0"], now=1001, repeat=REPEAT)
    record = outbox.plan(alert("resolved"), record, [], ["webhook-0"], now=1051, repeat=REPEAT)
    assert [e["key"] for e in record["pending"]] == ["a1-firing-1-webhook-0", "a1-resolved-webhook-0"]
    assert outbox.plan(alert("resolved"), record, [], ["webhook-0"], now=1052, repeat=REPEAT) is None
    # Fired and resolved between two looks: both are told, firing first.
    quick = outbox.plan(alert("resolved"), None, [], ["webhook-0"], now=1051, repeat=REPEAT)
    assert [e["status"] for e in quick["pending"]] == ["firing", "resolved"]
    assert quick["pending"][0]["alert"]["state"] == "firing"
    # A resolved alert from long before notifications were set up is not told at all.
    old = outbox.plan(alert("resolved"), None, [], ["webhook-0"], now=1050 + outbox.RECENT + 1,
                      repeat=REPEAT)
    assert old["pending"] == [] and old["resolved"]


def test_silenced_alerts_send_nothing_and_notify_when_the_silence_ends():
    silence = {"id": "s", "matchers": {"name": "cpu-*"}, "starts_at": 0, "ends_at": 2000,
               "created_by": "ann", "comment": None}
    record = outbox.plan(alert(), None, [silence], ["webhook-0"], now=1001, repeat=REPEAT)
    assert record["pending"] == [] and record["fired"] == 0  # seen, not told
    assert outbox.plan(alert(), record, [silence], ["webhook-0"], now=1500, repeat=REPEAT) is None
    after = outbox.plan(alert(), record, [silence], ["webhook-0"], now=2000, repeat=REPEAT)
    assert [e["key"] for e in after["pending"]] == ["a1-firing-1-webhook-0"]
    # Resolved while silenced without ever being told: nothing to tell.
    quiet = outbox.plan(alert("resolved"), record, [silence], ["webhook-0"], now=1600,
                        repeat=REPEAT)
    assert quiet["pending"] == [] and quiet["resolved"]


def test_failures_back_off_exponentially_with_jitter_and_give_up_after_an_hour():
    record = outbox.plan(alert(), None, [], ["webhook-0"], now=0, repeat=REPEAT)
    key = record["pending"][0]["key"]
    waits, now = [], 0.0
    while True:
        record, outcome = outbox.settle(record, key, "HTTP 500", now, base=10, rand=0.999)
        if outcome == "failed":
            break
        assert outcome == "retrying" and record["delivery"]["error"] == "HTTP 500"
        entry = record["pending"][0]
        waits.append(entry["next_at"] - now)
        now = entry["next_at"]
    assert now >= outbox.RETRY_FOR and record["pending"] == []
    assert record["delivery"]["state"] == "failed"
    assert waits[:4] == pytest.approx([10, 20, 40, 80], rel=0.01)
    assert max(waits) == pytest.approx(outbox.BACKOFF_CAP, rel=0.01)
    assert outbox.backoff(1, 10, rand=0.0) == 5.0  # the jitter halves at most


def test_due_lists_the_longest_waiting_first_and_keeps_each_receivers_order():
    a = {"alert": "a", "pending": [{"key": "a-1", "receiver": "r0", "next_at": 5},
                                   {"key": "a-2", "receiver": "r1", "next_at": 50}]}
    b = {"alert": "b", "pending": [{"key": "b-1", "receiver": "r0", "next_at": 1}]}
    assert [e["key"] for _, e in outbox.due({"a": a, "b": b}, now=10)] == ["b-1", "a-1"]
    # The firing to r0 is being retried: its resolution waits, r1's goes.
    c = {"alert": "c", "pending": [{"key": "c-f", "receiver": "r0", "next_at": 30},
                                   {"key": "c-r", "receiver": "r0", "next_at": 2},
                                   {"key": "c-r1", "receiver": "r1", "next_at": 2}]}
    assert [e["key"] for _, e in outbox.due({"c": c}, now=10)] == ["c-r1"]
