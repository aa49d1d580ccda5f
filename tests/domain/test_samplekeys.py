"""Rule keys that name one item of a sample's lists: ``disk_percent:/var``, ``temperature:<label>``."""

import pytest
from pydantic import ValidationError

from app.domain.alerts import AlertRule, Evaluator
from app.domain.rules import parse
from app.domain.samplekeys import metric_of, valid_key, value_of
from app.sources.simhost import SimulatedHost

SAMPLE = {"host": "h", "cpu_percent": 12.5, "swap_percent": 40.0, "temperature": None,
          "cpu_cores": [10, 95],
          "disks": [{"mount": "/", "percent": 50.0}, {"mount": "/var", "percent": 97.5}],
          "sensors": [{"label": "coretemp Core 0", "celsius": 88.0}],
          "interfaces": [{"name": "eth0", "rx_bps": 1000.0, "tx_bps": 5.0}]}


@pytest.mark.parametrize(("key", "value"), [
    ("cpu_percent", 12.5), ("swap_percent", 40.0), ("temperature", None),
    ("disk_percent:/var", 97.5), ("disk_percent:/", 50.0), ("disk_percent:/srv", None),
    ("temperature:coretemp Core 0", 88.0), ("temperature:acpitz", None),
    ("cpu_core:1", 95.0), ("cpu_core:7", None),
    ("interface_rx_bps:eth0", 1000.0), ("interface_tx_bps:eth0", 5.0),
])
def test_value_of(key, value):
    assert valid_key(key)
    assert value_of(SAMPLE, key) == value


def test_a_sample_without_the_lists_has_no_value():
    assert value_of({"host": "h", "cpu_percent": 1.0}, "disk_percent:/var") is None


@pytest.mark.parametrize("key", ["cpu_count", "nope", "disk_percent:var",
                                 "disk_percent:", "temperature:", "cpu_core:x", "cpu_core:-1",
                                 "swap_percent:/", "temperature:a\nb", "temperature:a\n"])
def test_invalid_keys(key):
    assert not valid_key(key)
    with pytest.raises(ValidationError, match="unknown metric"):  # a rule from outside
        parse([{"metric": key, "op": ">", "value": 1, "name": "r"}])
    with pytest.raises(ValueError, match="unknown metric"):  # one built in Python
        AlertRule(metric=key, op=">", value=1, name="r")


def test_labels_and_units():
    assert metric_of("disk_percent:/var").label == "Disk /var"
    assert metric_of("temperature:coretemp Core 0").unit == "°C"
    assert metric_of("swap_percent").label == "Swap"


def test_rules_on_items_fire_and_resolve():
    rules = [AlertRule(metric="disk_percent:/var", op=">", value=95, level="critical", name="var"),
             AlertRule(metric="temperature:coretemp Core 0", op=">=", value=85, name="hot"),
             AlertRule(metric="swap_percent", op=">", value=30, name="swap")]
    ev = Evaluator(rules, "h")
    fired = ev.evaluate(SAMPLE, now=1.0)
    assert {c.alert["name"] for c in fired} == {"var", "hot", "swap"}
    var = next(c for c in fired if c.alert["name"] == "var")
    assert var.event["message"] == "Disk /var above 95 % for 0 s"
    assert var.alert["metric"] == "disk_percent:/var" and var.alert["value"] == 97.5
    # /var unmounted: no value, so the alert resolves (as a missing sensor does).
    gone = {**SAMPLE, "disks": [{"mount": "/", "percent": 50.0}]}
    [resolved] = [c for c in ev.evaluate(gone, now=2.0) if c.alert["name"] == "var"]
    assert resolved.alert["state"] == "resolved" and "now no value" in resolved.event["message"]


def test_every_simulated_item_can_be_named():
    sample = SimulatedHost("sim", seed=1).sample()
    keys = ([f"disk_percent:{d['mount']}" for d in sample["disks"]]
            + [f"temperature:{s['label']}" for s in sample["sensors"]]
            + [f"interface_rx_bps:{n['name']}" for n in sample["interfaces"]])
    assert all(valid_key(k) and value_of(sample, k) is not None for k in keys)
