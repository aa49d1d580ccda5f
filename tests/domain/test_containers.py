"""A host's containers in the store: counts and level, order, feed events, and the rules on
containers (one container, or a pattern), which fire and resolve like every rule."""

from __future__ import annotations

import pytest

from app.domain import containers
from app.domain.alerts import AlertRule, Evaluator
from app.domain.i18n import Text, public
from app.domain.fleet import Fleet
from app.store import Item


def row(name, state="running", health="none", cpu=None, mem=None, started=100.0, **more):
    return {"id": f"{abs(hash(name)) % 16**12:012x}", "name": name, "image": "img",
            "state": state, "exit_code": None if state == "running" else 1, "oom_killed": False,
            "health": health, "started": started, "restarts": 0,
            **({"cpu_percent": cpu} if cpu is not None else {}),
            **({"mem_used": mem, "mem_percent": mem / 10} if mem is not None else {}), **more}


ROWS = [row("db", cpu=5.0, mem=900), row("web", cpu=50.0, mem=100, health="unhealthy"),
        row("job", state="exited", started=50.0), row("old", state="exited", started=10.0),
        row("cache", state="paused", cpu=0.0, mem=10)]


def test_counts_and_the_level_they_give_a_host():
    assert containers.counts(ROWS) == {"running": 3, "stopped": 2, "unhealthy": 1}
    assert containers.level({"engine": "Docker", "containers": ROWS}) == "critical"
    assert containers.level({"engine": "Docker", "containers": ROWS[:1] + ROWS[2:3]}) == "warning"
    assert containers.level({"engine": "Docker", "containers": ROWS[:1]}) == "ok"
    assert containers.level({"engine": None, "containers": []}) == "ok"


def test_running_first_by_cpu_or_memory_then_the_latest_to_stop():
    assert [r["name"] for r in containers.ranked(ROWS)] == ["web", "db", "cache", "job", "old"]
    assert [r["name"] for r in containers.ranked(ROWS, "memory")] == [
        "db", "web", "cache", "job", "old"]


def test_record_drops_commands_unless_asked(live):
    containers.record(live.store, "h", 1.0, [row("a", command="run --password x")], "Docker",
                      cmdline=False)
    assert "command" not in containers.latest(live.store, "h")["containers"][0]
    containers.record(live.store, "h", 2.0, [row("a", command="run")], "Docker", cmdline=True)
    assert containers.latest(live.store, "h")["containers"][0]["command"] == "run"


@pytest.mark.parametrize("event, level, message", [
    ({"action": "start", "name": "web"}, "info", "web started"),
    ({"action": "die", "name": "web", "exit_code": "0"}, "info", "web exited with code 0"),
    ({"action": "die", "name": "web", "exit_code": "137"}, "warning", "web exited with code 137"),
    ({"action": "oom", "name": "web"}, "error", "web ran out of memory (killed by the OOM killer)"),
    ({"action": "kill", "name": "web", "signal": "9"}, "warning", "web was sent signal 9"),
    ({"action": "health_status: unhealthy", "name": "web"}, "error", "web is unhealthy"),
    ({"action": "health_status: healthy", "name": "web"}, "info", "web is healthy"),
    ({"action": "restart", "name": "web"}, "warning", "web restarted"),
])
def test_engine_events_in_the_feed(event, level, message):
    found = containers.event_of(event, "h")
    assert public(found) == {"level": level, "message": message, "source": "h · containers"}
    assert str(Text.from_stored(found["text"])) == message  # for pages (tests/view/test_said.py)
    assert containers.event_of({"action": "exec_start: sh -c secret", "name": "w"}, "h") is None


def rule(metric, name="c", value=0, op=">"):
    return AlertRule(metric=metric, op=op, value=value, name=name)


def listing(rows):
    return containers.rule_sample({"host": "h", "ts": 1.0, "engine": "Docker", "containers": rows})


def test_a_state_rule_fires_for_a_stopped_container_and_resolves_when_it_runs():
    evaluator = Evaluator([rule("container_state:job")], "h")
    [fired] = evaluator.evaluate(listing(ROWS), 10.0, containers=True)
    assert fired.alert["state"] == "firing" and fired.event["message"] == (
        "Container job not running for 0 s")
    # Host samples leave the rules on containers alone.
    assert evaluator.evaluate({"host": "h", "cpu_percent": 1.0}, 11.0) == []
    [resolved] = evaluator.evaluate(listing([row("job")]), 12.0, containers=True)
    assert resolved.alert["state"] == "resolved"


def test_a_pattern_fires_per_container_and_a_removed_one_resolves():
    evaluator = Evaluator([rule("container_state:*", name="down"),
                           rule("container_health:w*", name="sick"),
                           rule("container_cpu:*", name="busy", value=40)], "h")
    changes = evaluator.evaluate(listing(ROWS), 10.0, containers=True)
    fired = sorted((c.alert["name"], c.alert["metric"]) for c in changes)
    assert fired == [("busy", "container_cpu:web"), ("down", "container_state:cache"),
                     ("down", "container_state:job"), ("down", "container_state:old"),
                     ("sick", "container_health:web")]
    assert evaluator.evaluate(listing(ROWS), 11.0, containers=True) == []
    # "old" is removed and "web" is healthy again: their alerts resolve, the others stay.
    rows = [r for r in ROWS if r["name"] != "old"]
    rows[1] = row("web", cpu=50.0)
    changes = evaluator.evaluate(listing(rows), 12.0, containers=True)
    assert sorted(c.alert["metric"] for c in changes) == [
        "container_health:web", "container_state:old"]
    assert all(c.alert["state"] == "resolved" for c in changes)
    # A restart resumes the firing alerts of a pattern rule, each on its container.
    again = Evaluator(evaluator.rules, "h")
    again.resume(evaluator.firing())
    assert again.evaluate(listing(rows), 13.0, containers=True) == []


def test_figures_not_read_yet_neither_fire_nor_resolve():
    evaluator = Evaluator([rule("container_memory:db", value=50)], "h")
    assert evaluator.evaluate(listing([row("db")]), 1.0, containers=True) == []


def test_the_fleet_counts_containers_in_a_host_level():
    fleet = Fleet(stale_after=10.0, clock=lambda: 100.0)
    fleet.apply([Item(1, "metrics", 99.0, {"host": "h", "cpu_percent": 1.0})])
    [card] = fleet.cards()
    assert (card.level, card.containers) == ("ok", None)
    found = {"host": "h", "ts": 99.0, "engine": "Docker", "containers": ROWS}
    assert fleet.apply([Item(2, "containers", 99.0, found)])
    [card] = fleet.cards()
    assert card.level == "critical"
    assert card.containers == {"running": 3, "stopped": 2, "unhealthy": 1}
    assert fleet.apply([Item(3, "containers", 99.0, {**found, "engine": None, "containers": []})])
    assert fleet.cards()[0].level == "ok"
