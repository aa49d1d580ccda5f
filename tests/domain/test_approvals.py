"""Approvals in the domain: ask, answer once, expire, withdraw; each decision in the feed."""

import pytest

from app.domain import approvals

T0 = 1_800_000_000.0


def events(store):
    return [item.data for item in store.recent("event", 10)]


def test_ask_stores_a_pending_approval_as_state_and_log_item(store):
    a = approvals.ask(store, title="Deploy?", detail="v2", source="ci", timeout_seconds=60, now=T0)
    assert approvals.ID_PATTERN.match(a["id"])
    assert (a["state"], a["approved"], a["by"], a["answered_at"]) == ("pending", None, None, None)
    assert a["created_at"] == T0 and a["expires_at"] == T0 + 60
    assert approvals.get(store, a["id"]) == a
    [item] = store.since(0)
    assert item.kind == "approval" and item.data == a


def test_the_first_answer_wins_and_later_ones_see_it(store):
    a = approvals.ask(store, title="Deploy?", now=T0)
    done = approvals.answer(store, a["id"], approved=False, reason="not now", by="ann", now=T0 + 5)
    assert (done["state"], done["approved"], done["reason"], done["by"], done["answered_at"]) == (
        "denied", False, "not now", "ann", T0 + 5)
    with pytest.raises(approvals.AlreadyDecided) as caught:
        approvals.answer(store, a["id"], approved=True, reason=None, by="bob", now=T0 + 6)
    assert caught.value.approval == done
    assert approvals.get(store, a["id"]) == done
    assert events(store)[0]["message"] == "Denied: Deploy? (by ann): not now"
    assert events(store)[0]["level"] == "warning" and len(events(store)) == 1


def test_an_answer_after_the_deadline_expires_it(store):
    a = approvals.ask(store, title="Deploy?", timeout_seconds=10, now=T0)
    with pytest.raises(approvals.Expired) as caught:
        approvals.answer(store, a["id"], approved=True, reason=None, by="ann", now=T0 + 10)
    assert caught.value.approval["state"] == "expired"
    assert approvals.get(store, a["id"])["state"] == "expired"
    with pytest.raises(approvals.Expired):  # and stays expired
        approvals.answer(store, a["id"], approved=True, reason=None, by="ann", now=T0 + 11)
    assert [e["message"] for e in events(store)] == ["Expired: Deploy?"]


def test_expire_due_expires_only_pending_ones_past_their_deadline_once(store):
    due = approvals.ask(store, title="a", timeout_seconds=10, now=T0)
    later = approvals.ask(store, title="b", timeout_seconds=60, now=T0)
    done = approvals.ask(store, title="c", timeout_seconds=10, now=T0)
    approvals.answer(store, done["id"], approved=True, reason=None, by="x", now=T0 + 1)
    expired = approvals.expire_due(store, [due, later, done], now=T0 + 10)
    assert [a["id"] for a in expired] == [due["id"]] and expired[0]["answered_at"] == T0 + 10
    # A second process with the same (stale) view loses the compare-and-set: nothing written.
    latest = store.latest_id()
    assert approvals.expire_due(store, [due], now=T0 + 11) == []
    assert store.latest_id() == latest
    assert approvals.get(store, later["id"])["state"] == "pending"


def test_withdraw_a_pending_one_but_not_a_decided_one(store):
    a = approvals.ask(store, title="a", now=T0)
    gone = approvals.withdraw(store, a["id"], by="api", now=T0 + 1)
    assert gone["state"] == "withdrawn" and gone["approved"] is None
    with pytest.raises(approvals.AlreadyDecided):
        approvals.withdraw(store, a["id"], by="api", now=T0 + 2)
    with pytest.raises(approvals.AlreadyDecided):
        approvals.answer(store, a["id"], approved=True, reason=None, by="x", now=T0 + 2)
    with pytest.raises(approvals.Unknown):
        approvals.withdraw(store, "0" * 32, by="api")
    with pytest.raises(approvals.Unknown):
        approvals.answer(store, "../etc", approved=True, reason=None, by="x")


def test_listed_is_newest_first_filtered_and_bounded(store):
    made = [approvals.ask(store, title=str(n), now=T0 + n) for n in range(5)]
    approvals.answer(store, made[1]["id"], approved=True, reason=None, by="x", now=T0 + 9)
    assert [a["title"] for a in approvals.listed(store)] == ["4", "3", "2", "1", "0"]
    assert [a["title"] for a in approvals.listed(store, "pending", limit=2)] == ["4", "3"]
    assert [a["title"] for a in approvals.listed(store, "approved")] == ["1"]
