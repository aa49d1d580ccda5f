"""The approval stream's generator: its three events, resume with Last-Event-ID, heartbeats,
expiry on a fake clock, and clean-up."""

import json

import gevent
import pytest

from app.domain import approvals
from app.live import approvals as stream_mod
from app.live.watchers import CLOSE, Watchers
from app.store import Item

T0 = 1_800_000_000.0


def parse(data: bytes) -> dict:
    fields = dict(line.split(": ", 1) for line in data.decode().strip().split("\n"))
    return {**fields, "data": json.loads(fields["data"])}


@pytest.fixture
def asked(live):
    return approvals.ask(live.store, title="Deploy?", timeout_seconds=60, now=T0)


def opened(live, approval, resumed=False, heartbeat=0.05, now=T0 + 1):
    return stream_mod.stream(live.approvals, live.store, live.view, approval["id"], heartbeat,
                             resumed=resumed, clock=lambda: now)


def item(item_id, approval):
    return Item(item_id, "approval", 0, approval)


def test_request_ping_then_response_and_the_end(live, asked):
    gen = opened(live, asked)
    first = parse(next(gen))
    assert first["event"] == "permission_request" and first["data"] == asked
    assert first["id"] == str(live.view.last_id)
    assert len(live.approvals) == 1
    assert next(gen) == b": ping\n\n"  # nothing within the heartbeat
    denied = {**asked, "state": "denied", "approved": False, "reason": "no", "by": "ann",
              "answered_at": T0 + 2}
    live.approvals.feed([item(5, asked),  # the pending state again (the ask's own item): skipped
                         item(6, {**denied, "id": "f" * 32}),  # another approval
                         item(7, denied)])
    last = parse(next(gen))
    assert (last["event"], last["id"]) == ("permission_response", "7")
    assert last["data"] == {"id": asked["id"], "state": "denied", "approved": False,
                            "reason": "no", "by": "ann", "at": T0 + 2}
    with pytest.raises(StopIteration):
        next(gen)
    assert len(live.approvals) == 0


@pytest.mark.parametrize("state", ["expired", "withdrawn"])
def test_cleared_for_expiry_and_withdrawal(live, asked, state):
    gen = opened(live, asked)
    next(gen)
    live.approvals.feed([item(9, {**asked, "state": state, "answered_at": T0 + 3})])
    last = parse(next(gen))
    assert last["event"] == "permission_cleared" and last["data"]["state"] == state
    assert last["data"]["approved"] is None


def test_a_resumed_client_is_not_sent_the_request_again(live, asked):
    gen = opened(live, asked, resumed=True)
    assert next(gen) == b": ping\n\n"
    live.approvals.feed([item(9, {**asked, "state": "approved", "approved": True,
                                  "by": "ann", "answered_at": T0 + 3})])
    assert parse(next(gen))["event"] == "permission_response"


def test_a_client_resuming_after_the_answer_gets_it_at_once(live, asked):
    approvals.answer(live.store, asked["id"], approved=True, reason="ok", by="ann", now=T0 + 2)
    gen = opened(live, asked, resumed=True)
    last = parse(next(gen))
    assert last["event"] == "permission_response" and last["data"]["reason"] == "ok"
    with pytest.raises(StopIteration):
        next(gen)
    fresh = opened(live, asked)  # a new client: the request (with the answer in it), then it
    assert [parse(m)["event"] for m in fresh] == ["permission_request", "permission_response"]


def test_the_stream_expires_its_approval_when_the_deadline_passes(live, asked):
    gen = opened(live, asked, now=asked["expires_at"] + 0.5)
    next(gen)
    assert next(gen) == b": ping\n\n"  # it asked for the expiry, then waited a heartbeat
    expired = live.store.get_state(approvals.state_key(asked["id"]))
    assert expired["state"] == "expired"
    [logged] = [i for i in live.store.since(0) if i.kind == "approval"][-1:]
    live.approvals.feed([logged])  # what the tailer does with it
    last = parse(next(gen))
    assert (last["event"], last["id"]) == ("permission_cleared", str(logged.id))


def test_close_unwatches_and_shutdown_ends_the_stream(live, asked):
    gen = opened(live, asked, heartbeat=5)
    next(gen)
    gen.close()
    assert len(live.approvals) == 0
    gen = opened(live, asked, heartbeat=5)
    next(gen)
    live.approvals.close_all()
    with pytest.raises(StopIteration):
        next(gen)
    assert len(live.approvals) == 0


def test_keyed_watchers_route_by_kind_and_key_and_end_a_slow_one():
    watchers = Watchers("approval", "id", queue_size=2)
    mine, other = watchers.watch("a"), watchers.watch("b")
    watchers.feed([Item(1, "task", 0, {"id": "a"}), Item(2, "approval", 0, {"id": "b"})])
    assert mine.empty() and other.get_nowait()[0].id == 2
    watchers.feed([Item(n, "approval", 0, {"id": "a"}) for n in range(3, 6)])
    assert mine.get_nowait() is CLOSE and len(watchers) == 1


def test_an_approval_stream_ends_after_its_lifetime(live, asked):
    import time

    gen = stream_mod.stream(live.approvals, live.store, live.view, asked["id"], 5,
                            lifetime=0.2)  # the real clock; the approval waits 15 min
    assert parse(next(gen))["event"] == "permission_request"
    with gevent.Timeout(3):  # the heartbeat (5 s) is not what ends it
        started = time.monotonic()
        assert list(gen) == []
        assert time.monotonic() - started < 2
    assert len(live.approvals) == 0
