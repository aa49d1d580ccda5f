"""The approvals region's texts and bounds, and its minute-precision refresh."""

import pytest

from app.domain import approvals
from app.view.approvals import PENDING_KEPT, PendingApprovals, asked, left


@pytest.mark.parametrize(("seconds", "text"), [(0, "just now"), (59.9, "just now"),
                                               (60, "1 min ago"), (3725, "1 h 2 min ago")])
def test_asked(seconds, text):
    assert asked(seconds) == text


@pytest.mark.parametrize(("seconds", "text"), [(900, "15 min left"), (899, "14 min left"),
                                               (59, "under a minute left"), (0, "expiring"),
                                               (-3, "expiring")])
def test_left(seconds, text):
    assert left(seconds) == text


def pending(n, created_at):
    return {"id": f"{n:032x}", "title": str(n), "state": "pending", "created_at": created_at,
            "expires_at": created_at + 60}


def test_kept_newest_first_bounded_and_left_when_decided():
    kept = PendingApprovals()
    for n in range(PENDING_KEPT + 5):
        kept.fold(pending(n, 1000.0 + n))
    cards = kept.cards(now=1100.0)
    assert len(cards) == PENDING_KEPT and cards[0]["title"] == str(PENDING_KEPT + 4)
    assert cards[-1]["title"] == "5"  # the oldest went first
    kept.fold({**pending(PENDING_KEPT + 4, 0), "state": "denied"})
    assert kept.cards(now=1100.0)[0]["title"] == str(PENDING_KEPT + 3)
    assert [a["title"] for a in kept.due(now=1070.0)] == [str(n) for n in range(5, 11)]


def test_the_region_re_renders_only_when_its_minute_texts_change(live):
    now = [1_800_000_000.0]
    live.view.approvals.clock = lambda: now[0]
    a = approvals.ask(live.store, title="Deploy?", timeout_seconds=630, now=now[0])
    live.view.load(live.store)
    html = live.view.html["approvals"]
    assert a["id"] in html and "just now" in html and "10 min left" in html
    now[0] += 20
    assert not live.view.refresh("approvals")  # the same minutes: nothing to send
    now[0] += 15
    assert live.view.refresh("approvals") and "9 min left" in live.view.html["approvals"]
    now[0] += 30
    assert live.view.refresh("approvals") and "1 min ago" in live.view.html["approvals"]
    now[0] += 10
    assert not live.view.refresh("approvals")
