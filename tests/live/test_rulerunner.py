"""The rule runner evaluates what its tailer read, and reads the log itself only for what the
tailer's batches do not cover (app.live.rulerunner)."""

from types import SimpleNamespace

from app.domain import alerts
from app.domain.rules import AlertRule
from app.live import rulerunner

SETTINGS = SimpleNamespace(alert_rules=[AlertRule(metric="cpu_percent", op=">", value=90,
                                                  name="cpu-high")])


def hot(store, host):
    return store.append("metrics", {"host": host, "ts": 1_800_000_000.0, "cpu_percent": 95.0},
                        state_key=f"sample:{host}")


def firing(store):
    return sorted(a["host"] for a in alerts.all_alerts(store, state="firing"))


def test_batches_that_follow_on_are_evaluated_without_reading_the_log(live, monkeypatch):
    store = live.store
    fleet, cursor = rulerunner._take_over(store, SETTINGS, store.latest_id())
    inbox = rulerunner.Inbox()
    after = cursor
    for host in ("a", "b"):
        hot(store, host)
        store.append("event", {"level": "info", "message": "not for the rules"})
        items = store.since(after)
        inbox.put(after, items)
        after = items[-1].id
    assert inbox.due.is_set()
    reads = []
    since = store.since
    monkeypatch.setattr(store, "since", lambda *a, **k: reads.append(a) or since(*a, **k))

    cursor = rulerunner._catch_up(store, fleet, cursor, rulerunner._Lease(store, "me"),
                                  inbox.take())

    assert reads == []
    assert cursor == after == store.get_state(rulerunner.CURSOR_KEY)["id"]
    assert firing(store) == ["a", "b"]
    assert inbox.take() == []


def test_a_gap_before_the_batches_is_read_from_the_log_and_nothing_twice(live, monkeypatch):
    """The runner took over behind the tailer (or the inbox overflowed): the items between its
    cursor and the first batch come from the log, the batches' items already read are skipped,
    and the last batch's newer items are evaluated from the batch."""
    store = live.store
    fleet, cursor = rulerunner._take_over(store, SETTINGS, store.latest_id())
    hot(store, "missed")
    behind = store.latest_id()
    hot(store, "read-twice")
    inbox = rulerunner.Inbox()
    inbox.put(behind, store.since(behind))
    hot(store, "new")
    inbox.put(behind + 1, store.since(behind + 1))
    recorded = []
    record = alerts.record

    def counting(store_, change):
        recorded.append(change.alert["host"])
        record(store_, change)

    monkeypatch.setattr(rulerunner.alerts, "record", counting)
    cursor = rulerunner._catch_up(store, fleet, cursor, rulerunner._Lease(store, "me"),
                                  inbox.take())
    assert cursor == store.latest_id()
    assert sorted(recorded) == ["missed", "new", "read-twice"]
    assert firing(store) == ["missed", "new", "read-twice"]


def test_a_first_take_over_evaluates_what_came_after_the_process_started(live):
    """No cursor stored yet (a first start): samples appended after the process started and
    before its runner first held the lease are evaluated, not passed over."""
    store = live.store
    start = store.latest_id()
    hot(store, "early")
    fleet, cursor = rulerunner._take_over(store, SETTINGS, start)
    assert cursor == start
    rulerunner._catch_up(store, fleet, cursor, rulerunner._Lease(store, "me"))
    assert firing(store) == ["early"]
