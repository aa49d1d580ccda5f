"""The notifications outbox on both backends (SQLite and a real Redis): what one sender
accepted survives it, and the next holder of the lease finds exactly what is left to send."""

from __future__ import annotations

import time

from app.domain import outbox

# The fixtures (tests/store/conftest.py) run each test on SQLite and on a real Redis.


def firing(alert_id: str) -> dict:
    return {"id": alert_id, "name": "disk-full", "level": "critical", "state": "firing",
            "host": "db1", "started_at": 100.0, "ended_at": None}


def test_pending_notifications_survive_their_sender_and_go_to_the_next_holder(open_other):
    first, second = open_other(), open_other()
    assert first.lease("notifier", "first", 0.5)
    assert not second.lease("notifier", "second", 0.5)
    record = outbox.plan(firing("a1"), None, [], ["webhook-0", "apprise-0"], now=time.time(),
                         repeat=3600)
    outbox.write(first, record)
    # One entry sent, then the sender dies (nothing more written, its lease left to expire).
    record, _ = outbox.settle(record, "a1-firing-1-webhook-0", None, time.time(), base=1)
    outbox.write(first, record)
    first.close()

    deadline = time.monotonic() + 10
    while not second.lease("notifier", "second", 30):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    found = outbox.records(second)
    assert list(found) == ["a1"]
    assert [e["key"] for _, e in outbox.due(found, time.time())] == ["a1-firing-1-apprise-0"]
    assert found["a1"]["delivery"]["state"] == "sent" and found["a1"]["fired"] == 1
    # Planned again by the new holder: nothing new, so nothing is sent twice.
    assert outbox.plan(firing("a1"), found["a1"], [], ["webhook-0", "apprise-0"],
                       now=time.time(), repeat=3600) is None
    # Each write is logged too: every page's tailer sees the delivery state change.
    assert [i.data["alert"] for i in second.since(0) if i.kind == "notify"] == ["a1", "a1"]


def test_a_failed_attempt_is_stored_with_its_retry_time_and_forgotten_records_go(store):
    now = time.time()
    record = outbox.plan(firing("a2"), None, [], ["webhook-0"], now=now, repeat=3600)
    record, outcome = outbox.settle(record, "a2-firing-1-webhook-0", "HTTP 500", now, base=10)
    outbox.write(store, record)
    [entry] = outbox.records(store)["a2"]["pending"]
    assert outcome == "retrying" and entry["attempts"] == 1 and entry["error"] == "HTTP 500"
    assert now + 5 <= entry["next_at"] <= now + 10
    assert outbox.due(outbox.records(store), now) == []
    outbox.forget(store, "a2")
    assert outbox.records(store) == {}
