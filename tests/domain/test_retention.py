"""Retention: expired tasks, resolved alerts and silent hosts leave the store; caps bound the rest."""

import pytest

from app.domain import alerts, retention, silences, tasks
from app.domain.fleet import Fleet
from app.live import janitor

DAY = 86400.0
NOW = 1_800_000_000.0
KEEP = {"task_retention": 7 * DAY, "alert_retention": 7 * DAY, "host_retention": DAY,
        "home": "home"}


def task(store, task_id, updated_at, state="succeeded"):
    store.set_state(tasks.state_key(task_id), {"task_id": task_id, "state": state,
                                                "progress": 100, "updated_at": updated_at})


def alert(store, alert_id, state, started_at, ended_at=None):
    alerts.save(store, {"id": alert_id, "name": alert_id, "level": "warning", "state": state,
                        "started_at": started_at, "ended_at": ended_at})


def test_what_expired_goes_and_the_rest_stays(live):
    store = live.store
    task(store, "old-done", NOW - 8 * DAY)
    task(store, "old-forgotten", NOW - 8 * DAY, state="running")
    task(store, "recent", NOW - DAY, state="running")
    alert(store, "resolved-long-ago", "resolved", NOW - 9 * DAY, NOW - 8 * DAY)
    alert(store, "resolved-lately", "resolved", NOW - 9 * DAY, NOW - DAY)
    alert(store, "firing-for-long", "firing", NOW - 30 * DAY)
    for host, ts in {"home": NOW - 30 * DAY, "gone": NOW - 2 * DAY, "here": NOW - 60}.items():
        store.set_state(f"sample:{host}", {"host": host, "ts": ts})
    from app.domain import approvals
    old = approvals.ask(store, title="old", timeout_seconds=3600, now=NOW - 8 * DAY - 60)
    approvals.answer(store, old["id"], approved=True, reason=None, by="x", now=NOW - 8 * DAY)
    waiting = approvals.ask(store, title="waiting", timeout_seconds=60, now=NOW - 9 * DAY)
    silences.create(store, {"name": "old"}, ends_at=NOW - 2 * DAY, by="t", now=NOW - 3 * DAY)
    kept, _ = silences.create(store, {"name": "new"}, ends_at=NOW - DAY / 2, by="t", now=NOW - DAY)
    removed = retention.sweep(store, NOW, **KEEP)
    assert removed == {"tasks": 2, "alerts": 1, "approvals": 1, "silences": 1,
                       "hosts": 1}
    assert set(store.states("silence:")) == {f"silence:{kept['id']}"}
    assert set(store.states("approval:")) == {f"approval:{waiting['id']}"}  # pending stays
    assert set(store.states("task:")) == {"task:recent"}
    assert set(store.states("alert:")) == {"alert:resolved-lately", "alert:firing-for-long"}
    assert set(store.states("sample:")) == {"sample:home", "sample:here"}  # home never goes
    assert retention.sweep(store, NOW, **KEEP) == {"tasks": 0, "alerts": 0, "approvals": 0,
                                                   "silences": 0, "hosts": 0}


def test_past_the_caps_the_oldest_go_resolved_alerts_before_firing_ones(live, monkeypatch):
    monkeypatch.setattr(retention, "MAX_TASKS", 3)
    monkeypatch.setattr(retention, "MAX_ALERTS", 3)
    monkeypatch.setattr(retention, "MAX_HOSTS", 2)
    store = live.store
    for n in range(5):
        task(store, f"t{n}", NOW - n)
        store.set_state(f"sample:h{n}", {"host": f"h{n}", "ts": NOW - n})
    alert(store, "f-old", "firing", NOW - 50)
    alert(store, "f-new", "firing", NOW - 10)
    alert(store, "r-old", "resolved", NOW - 90, NOW - 40)
    alert(store, "r-new", "resolved", NOW - 90, NOW - 5)
    retention.sweep(store, NOW, **KEEP)
    assert set(store.states("task:")) == {"task:t0", "task:t1", "task:t2"}
    assert set(store.states("sample:")) == {"sample:h0", "sample:h1"}
    assert set(store.states("alert:")) == {"alert:f-old", "alert:f-new", "alert:r-new"}


def test_lists_are_chosen_before_they_are_sorted(live):
    store = live.store
    for n in range(30):
        task(store, f"t{n}", NOW + n)
    assert [t["task_id"] for t in tasks.list_tasks(store, 3)] == ["t29", "t28", "t27"]
    for n in range(5):
        alerts.raise_alert(store, name=f"a{n}", level="warning", message="m", source=None,
                           now=NOW + n)
    alerts.resolve(store, alerts.all_alerts(store)[-1]["id"], now=NOW + 10)
    listed = alerts.all_alerts(store, limit=3)
    assert [a["name"] for a in listed] == ["a4", "a3", "a2"]
    assert [a["name"] for a in alerts.all_alerts(store, limit=3, state="resolved")] == ["a0"]


def test_a_host_unseen_for_its_retention_leaves_the_fleet_row():
    now = [NOW]
    fleet = Fleet(stale_after=10, home="home", clock=lambda: now[0], forget_after=DAY)
    fleet.apply([_sample_item(1, "agent-1", NOW)])
    assert [c.name for c in fleet.cards()] == ["agent-1", "home"]
    now[0] = NOW + DAY + 1
    assert [c.name for c in fleet.cards()] == ["home"]


def _sample_item(item_id, host, ts):
    from app.store import Item
    return Item(item_id, "metrics", ts, {"host": host, "ts": ts})


def test_one_process_sweeps_about_once_a_minute(make_app, monkeypatch):
    import gevent

    monkeypatch.setattr(janitor, "JANITOR_INTERVAL", 0.05)
    app = make_app(TASK_RETENTION=1)
    live = app.extensions["dashboard"]
    task(live.store, "stale", 1.0)  # updated in 1970: long expired
    live.start()
    with gevent.Timeout(10):
        while live.store.states("task:"):
            gevent.sleep(0.02)
        # The lease lasts three intervals (0.15 s here), and a busy machine can pause this
        # process for longer: read until the janitor has renewed it.
        while live.store.holder("janitor") != live.owner:
            gevent.sleep(0.02)


@pytest.mark.parametrize("name", ["TASK_RETENTION", "ALERT_RETENTION", "HOST_RETENTION"])
def test_retentions_are_validated_at_start(make_app, name):
    from app.config import ConfigError

    with pytest.raises(ConfigError, match=f"DASHBOARD_{name}"):
        make_app(**{name: 0})


def test_a_host_whose_clock_is_behind_stays_while_the_store_hears_from_it(live):
    store = live.store
    store.append("metrics", {"host": "slow-clock", "ts": NOW - 30 * DAY},
                 state_key="sample:slow-clock")  # accepted now, by the store's clock
    import time
    assert retention.sweep(store, time.time(), **KEEP)["hosts"] == 0
    assert "sample:slow-clock" in store.states("sample:")


def test_a_host_gone_by_retention_is_forgotten_everywhere_and_its_alerts_resolve(live):
    """Without the ``host-forgotten`` item a silent host's firing alerts stayed firing for ever
    and the rule runner kept an evaluator for every host it had ever seen."""
    from types import SimpleNamespace

    from app.domain import hosts
    from app.domain.rules import AlertRule
    from app.live import rulerunner

    store = live.store
    settings = SimpleNamespace(alert_rules=[AlertRule(metric="cpu_percent", op=">", value=90,
                                                      name="cpu-high")])
    evaluators, cursor = rulerunner._take_over(store, settings, store.latest_id())
    for host in ("gone", "here"):
        sample = {"host": host, "ts": NOW - 2 * DAY if host == "gone" else NOW - 60,
                  "cpu_percent": 95.0}
        store.append("metrics", sample, state_key=f"sample:{host}")
    cursor = rulerunner._catch_up(store, evaluators, cursor, rulerunner._Lease(store, "me"))
    assert {a["host"] for a in alerts.all_alerts(store, state="firing")} == {"gone", "here"}

    # Accepted by the store long ago, too (the items above carry this machine's clock).
    assert retention.sweep(store, NOW + 400 * DAY, **KEEP)["hosts"] == 2
    assert [i.data["host"] for i in store.find(hosts.KIND, limit=10)] in (
        ["gone", "here"], ["here", "gone"])
    rulerunner._catch_up(store, evaluators, cursor, rulerunner._Lease(store, "me"))
    assert alerts.all_alerts(store, state="firing") == []
    assert evaluators._hosts == {}
