"""Rules at run time (app.domain.rules) and silences (app.domain.silences)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydantic
import pytest

from app.domain import rules, silences
from app.domain.alerts import DEFAULT_RULES, AlertRule

HOT = {"metric": "cpu_percent", "op": ">", "value": 90, "level": "error", "name": "hot",
       "hosts": "web*"}
ROOT = Path(__file__).resolve().parents[2]


def sample(host, cpu, ts):
    return {"host": host, "ts": ts, "cpu_percent": cpu}


def test_parse_validates_as_the_setting_does():
    [rule] = rules.parse([HOT])
    assert rule.hosts == "web*" and rule.applies_to("web2") and not rule.applies_to("db1")
    with pytest.raises(ValueError, match="repeated: hot"):
        rules.parse([HOT, HOT])
    with pytest.raises(pydantic.ValidationError):
        rules.parse([{**HOT, "metric": "nope"}])
    assert rules.dump(rules.parse([HOT]))[0]["for"] == 0


def test_the_stored_list_is_read_back_as_it_was_written():
    assert rules.dump(DEFAULT_RULES)[0] == {"metric": "cpu_percent", "op": ">", "value": 90.0,
                                            "for": 30.0, "level": "warning", "name": "cpu-high",
                                            "hosts": "*"}
    assert rules.restore(rules.dump(DEFAULT_RULES)) == DEFAULT_RULES
    # Another version's list: what fits is taken, the rest is said by pydantic.
    assert rules.restore([{**HOT, "value": "90"}]) == rules.parse([HOT])
    with pytest.raises(pydantic.ValidationError, match="Extra inputs are not permitted"):
        rules.restore([{**HOT, "colour": "red"}])


_AT_REST = """
import sys
from app.domain import alerts, rules
from app.store import open_store
store = open_store({url!r}, log_size=100, poll_interval=0.05)
rules.seed(store, alerts.DEFAULT_RULES)
fleet = rules.FleetEvaluator(rules.load(store), firing=[])
sample = {{"host": "web1", "cpu_percent": 95.0, "mem_percent": 10.0, "disk_percent": 10.0}}
changes = fleet.evaluate(sample, now=100) + fleet.evaluate(sample, now=130)
print(rules.load(store) == alerts.DEFAULT_RULES, [c.alert["name"] for c in changes])
print(sorted(m for m in sys.modules if m.partition(".")[0] in ("pydantic", "pydantic_core")))
"""


def test_rules_are_seeded_loaded_and_evaluated_without_pydantic(tmp_path):
    """What a worker at rest (sampler on, nobody viewing, no API call) does with rules never
    imports pydantic (about 9 MB); in a process of its own, so that other tests' imports do not
    count."""
    code = _AT_REST.format(url=f"sqlite:///{tmp_path / 's.sqlite3'}")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=60).stdout
    evaluated, imported = out.strip().splitlines()[-2:]
    assert evaluated == "True ['cpu-high']"
    assert imported == "[]"


def test_every_host_gets_its_own_evaluation_and_patterns_limit_the_hosts():
    fleet = rules.FleetEvaluator(rules.parse([HOT]), firing=[])
    [fired] = fleet.evaluate(sample("web1", 95, 10), now=10)
    assert fired.alert["host"] == "web1" and fired.alert["state"] == "firing"
    assert fleet.evaluate(sample("db1", 95, 10), now=10) == []
    assert fleet.evaluate(sample("web2", 10, 10), now=10) == []
    [done] = fleet.evaluate(sample("web1", 20, 11), now=11)
    assert done.alert["state"] == "resolved" and done.alert["id"] == fired.alert["id"]


def test_a_takeover_resumes_firing_alerts_and_a_removed_rule_resolves_them():
    first = rules.FleetEvaluator(rules.parse([HOT]), firing=[])
    [fired] = first.evaluate(sample("web1", 95, 10), now=10)
    # Another process takes over with the alerts from the store.
    fleet = rules.FleetEvaluator(rules.parse([HOT]), firing=[fired.alert])
    assert fleet.evaluate(sample("web1", 96, 11), now=11)[0].alert["id"] == fired.alert["id"]
    kept = fleet.set_rules(rules.parse([{**HOT, "value": 50}]), now=12)
    assert kept == []  # same name: still firing, resolved by the new condition
    [gone] = fleet.set_rules([], now=13)
    assert gone.alert["state"] == "resolved" and gone.alert["id"] == fired.alert["id"]
    assert "rule removed" in gone.event["message"]


def test_forgetting_a_host_resolves_its_rule_alerts_once_and_it_starts_afresh():
    first = rules.FleetEvaluator(rules.parse([HOT]), firing=[])
    [fired] = first.evaluate(sample("web1", 95, 10), now=10)
    [other] = first.evaluate(sample("web2", 95, 10), now=10)
    # A takeover that has not seen web1 since: the stored alert is resolved all the same.
    fleet = rules.FleetEvaluator(rules.parse([HOT]), firing=[fired.alert, other.alert])
    [gone] = fleet.forget("web1", now=20)
    assert gone.alert["state"] == "resolved" and gone.alert["id"] == fired.alert["id"]
    assert gone.alert["ended_at"] == 20 and "host forgotten" in gone.event["message"]
    assert fleet.forget("web1", now=21) == []  # nothing left to resolve
    # Resolved by its own evaluator before the forget: nothing to resolve twice.
    assert fleet.evaluate(sample("web2", 10, 22), now=22)[0].alert["state"] == "resolved"
    assert fleet.forget("web2", now=23) == []
    # Back again: a new alert, not the old one.
    [again] = fleet.evaluate(sample("web1", 95, 30), now=30)
    assert again.alert["state"] == "firing" and again.alert["id"] != fired.alert["id"]


def test_silence_matchers():
    alert = {"name": "cpu[1]*", "host": "web1", "level": "warning"}
    silence = {"matchers": {"name": silences.literal("cpu[1]*"), "host": "web?"},
               "starts_at": 0, "ends_at": 100}
    assert silences.matches(silence, alert, now=50)
    assert not silences.matches(silence, {**alert, "name": "cpu1x"}, now=50)
    assert not silences.matches(silence, alert, now=100)  # ended
    assert not silences.matches({**silence, "matchers": {"level": "critical"}}, alert, now=50)
    later = {**silence, "ends_at": 200}
    assert silences.covering([silence, later], alert, now=50) is later


def test_rule_json_schema_lists_the_metrics_and_the_per_item_grammars():
    import re

    choices = pydantic.TypeAdapter(AlertRule).json_schema()["properties"]["metric"]["anyOf"]
    assert "cpu_percent" in choices[0]["enum"]
    patterns = [choice["pattern"] for choice in choices[1:]]
    for key in ("disk_percent:/var", "temperature:coretemp Core 0", "cpu_core:3",
                "interface_rx_bps:eth0"):
        assert any(re.fullmatch(p, key) for p in patterns), key
    assert not any(re.fullmatch(p, "cpu_core:x") for p in patterns)
