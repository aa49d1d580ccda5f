"""Alert rules on a fake clock, the store side of alerts, and the alerts region."""

import time

import pytest

from app.domain import alerts
from app.domain.alerts import AlertRule, Evaluator
from app.domain.i18n import public

CPU_30 = AlertRule(metric="cpu_percent", op=">", value=90, for_=30, level="warning",
                   name="cpu-high")
MEM_LOW = AlertRule(metric="mem_percent", op="<=", value=5, level="error", name="mem-low")


def run(evaluator, values, start=1000.0, step=10.0, key="cpu_percent"):
    """Feed samples ``values`` at ``start``, ``start + step``, ...; return every change."""
    changes = []
    for n, value in enumerate(values):
        changes += evaluator.evaluate({"host": "h", key: value}, now=start + n * step)
    return changes


def test_fires_only_after_the_condition_held_for_its_duration():
    ev = Evaluator([CPU_30], "h")
    assert run(ev, [95, 96, 97]) == []          # held 0, 10, 20 s
    [change] = ev.evaluate({"cpu_percent": 95}, now=1030.0)  # held 30 s
    alert, event = change
    assert alert["state"] == "firing" and alert["name"] == "cpu-high"
    assert alert["started_at"] == 1000.0 and alert["host"] == "h" and alert["metric"] == "cpu_percent"
    # The peak counts from the moment it fires: the 97 while pending is not part of the alert.
    assert alert["level"] == "warning" and alert["value"] == 95 and alert["peak"] == 95
    assert public(event) == {"level": "warning", "message": "CPU above 90 % for 30 s",
                             "source": "h · cpu-high", "ts": 1030.0}


def test_a_dip_restarts_the_timer():
    ev = Evaluator([CPU_30], "h")
    assert run(ev, [95, 95, 95, 50, 95, 95, 95]) == []  # 20 s, dip, 20 s: never 30 s in a row
    assert len(run(ev, [95], start=1070.0)) == 1


def test_tracks_the_peak_and_resolves_with_an_event():
    ev = Evaluator([CPU_30], "h")
    [fired] = run(ev, [91, 91, 91, 91])
    peak_changes = run(ev, [99, 95, 99.5], start=1040.0)
    assert [c.alert["peak"] for c in peak_changes] == [99, 99.5]  # 95 is no new peak
    assert all(c.event is None for c in peak_changes)
    [resolved] = run(ev, [40], start=1070.0)
    assert resolved.alert["id"] == fired.alert["id"]
    assert resolved.alert["state"] == "resolved" and resolved.alert["ended_at"] == 1070.0
    assert resolved.alert["peak"] == 99.5 and resolved.alert["value"] == 40
    assert resolved.event["level"] == "info"
    assert "Resolved: CPU above 90 % for 30 s" in resolved.event["message"]
    assert "peak 99.5 %" in resolved.event["message"]
    assert run(ev, [40, 40], start=1080.0) == []  # resolved once


def test_below_rules_fire_at_once_with_for_zero_and_peak_is_the_lowest():
    ev = Evaluator([MEM_LOW], "h")
    [fired] = run(ev, [5], key="mem_percent")
    assert fired.alert["level"] == "error" and fired.event["message"] == "Memory at or below 5 % for 0 s"
    [lower] = run(ev, [6 - 3], start=2000, key="mem_percent")
    assert lower.alert["peak"] == 3


def test_a_missing_value_never_fires_and_resolves():
    rule = AlertRule(metric="temperature", op=">", value=80, level="critical", name="hot")
    ev = Evaluator([rule], "h")
    assert run(ev, [None, None], key="temperature") == []
    assert len(run(ev, [90], key="temperature")) == 1
    [resolved] = run(ev, [None], start=3000, key="temperature")
    assert resolved.alert["state"] == "resolved"
    assert "now no value" in resolved.event["message"]


def test_record_stores_alert_state_and_event(live):
    store = live.store
    ev = Evaluator([CPU_30], "h")
    [fired] = run(ev, [95, 95, 95, 95])
    alerts.record(store, fired)
    kinds = [i.kind for i in store.since(0)]
    assert kinds == ["alert", "event"]
    assert alerts.get(store, fired.alert["id"])["state"] == "firing"
    # An acknowledgement made meanwhile survives the evaluator's peak update.
    alerts.acknowledge(store, fired.alert["id"], "ops", now=5.0)
    [peak] = run(ev, [99], start=1040)
    alerts.record(store, peak)
    stored = alerts.get(store, fired.alert["id"])
    assert stored["peak"] == 99 and stored["acked_by"] == "ops" and stored["acked_at"] == 5.0


def test_an_alert_resolved_through_the_api_stays_resolved(live):
    store = live.store
    ev = Evaluator([CPU_30], "h")
    [fired] = run(ev, [95, 95, 95, 95])
    alerts.record(store, fired)
    alerts.resolve(store, fired.alert["id"], now=1035.0)
    latest = store.latest_id()
    assert alerts.record(store, run(ev, [99], start=1040)[0]) is None
    assert alerts.record(store, run(ev, [10], start=1050)[0]) is None
    assert store.latest_id() == latest
    assert alerts.get(store, fired.alert["id"])["ended_at"] == 1035.0


def test_resume_lets_an_alert_from_before_a_restart_resolve(live):
    ev = Evaluator([CPU_30], "h")
    [fired] = run(ev, [95, 95, 95, 95])
    alerts.record(live.store, fired)
    again = Evaluator([CPU_30], "h")
    again.resume(alerts.all_alerts(live.store))
    [resolved] = run(again, [10], start=2000)
    assert resolved.alert["id"] == fired.alert["id"] and resolved.alert["state"] == "resolved"


def test_alerts_list_firing_first_newest_first(live):
    store = live.store
    old = alerts.raise_alert(store, name="a", level="warning", message="m", source=None, now=1)
    new = alerts.raise_alert(store, name="b", level="error", message="m", source=None, now=2)
    done = alerts.raise_alert(store, name="c", level="critical", message="m", source=None, now=0)
    alerts.resolve(store, done["id"], now=3)
    assert [a["id"] for a in alerts.all_alerts(store)] == [new["id"], old["id"], done["id"]]


# -- the region ------------------------------------------------------------------------------

def test_region_lists_alerts_with_donut_and_ack_button(live):
    store = live.store
    firing = alerts.raise_alert(store, name="disk <full>", level="critical",
                                message="<img src=x onerror=alert(1)>", source="cron")
    done = alerts.raise_alert(store, name="old", level="warning", message="m", source=None)
    alerts.resolve(store, done["id"])
    changed = live.view.apply(store.since(0))
    assert "alerts" in changed and "events" in changed
    html = live.view.html["alerts"]
    assert 'id="alerts"' in html and 'hx-swap-oob="true"' in html
    assert 'aria-label="Alerts: 1 firing, 1 resolved"' in html
    assert html.index(firing["id"]) < html.index(done["id"])
    assert f'hx-post="/ui/alerts/{firing["id"]}/ack"' in html
    assert html.count("Acknowledge</button>") == 1  # none on the resolved alert
    assert "<img" not in html and "&lt;full&gt;" in html
    assert "hx-on" not in html

    alerts.acknowledge(store, firing["id"], "page")
    live.view.apply(store.since(live.view.last_id))
    html = live.view.html["alerts"]
    assert "Acknowledged by page at" in html and "Acknowledge</button>" not in html


def test_region_keeps_every_firing_alert_and_few_resolved(live):
    from app.view.catalog import RESOLVED_SHOWN

    store = live.store
    for n in range(RESOLVED_SHOWN + 5):
        alerts.resolve(store, alerts.raise_alert(store, name=f"r{n}", level="warning",
                                                 message="m", source=None)["id"])
    firing = [alerts.raise_alert(store, name=f"f{n}", level="error", message="m", source=None)
              for n in range(3)]
    live.view.apply(store.since(0))
    assert len(live.view.alerts) == RESOLVED_SHOWN + 3
    assert f'aria-label="Alerts: 3 firing, {RESOLVED_SHOWN} resolved"' in live.view.html["alerts"]
    # A fresh view (another worker, a restart) loads the same from the store.
    live.view.load(store)
    assert {a["id"] for a in firing} <= set(live.view.alerts)
    assert len(live.view.alerts) == RESOLVED_SHOWN + 3


def test_own_samples_are_evaluated_by_the_rule_runner(make_app, monkeypatch):
    """The sampler greenlet appends samples; the rule runner (app.live.rulerunner) evaluates
    each once and appends the alert after the samples that raised it, then its event."""
    import gevent

    from app.live import sampling

    readings = iter([95.0, 95.0, 95.0, 10.0] + [10.0] * 100)

    class FakeSampler:
        def __init__(self, host, disk_path):
            self.host = host

        def sample(self):
            import time
            return {"host": self.host, "ts": time.time(), "cpu_percent": next(readings)}

    monkeypatch.setattr(sampling, "HostSampler", FakeSampler)
    app = make_app(SAMPLER=True, SAMPLE_INTERVAL=0.05, HOST_NAME="h", ALERT_RULES=[
        {"metric": "cpu_percent", "op": ">", "value": 90, "for": 0.01, "level": "critical",
         "name": "cpu"}])
    live = app.extensions["dashboard"]
    live.start()
    try:
        deadline = time.monotonic() + 30
        # Until the rule resolved (the fourth reading is 10 %), or a generous deadline.
        while time.monotonic() < deadline and not any(
                i.kind == "alert" and i.data["state"] == "resolved" for i in live.store.since(0)):
            gevent.sleep(0.05)
    finally:
        live.stop()
    kinds = [i.kind for i in live.store.since(0) if i.kind in ("metrics", "alert", "event")]
    first = kinds.index("alert")
    assert kinds[:2] == ["metrics", "metrics"] and first >= 2 and kinds[first + 1] == "event"
    states = [i.data["state"] for i in live.store.since(0) if i.kind == "alert"]
    assert states[0] == "firing" and states[-1] == "resolved"
    assert [a["state"] for a in alerts.all_alerts(live.store)] == ["resolved"]


@pytest.mark.parametrize("bad", [
    {"metric": "cpu_percent", "op": ">", "value": 1},                       # no name
    {"metric": "cpu_count", "op": ">", "value": 1, "name": "x"},            # not a rule metric
    {"metric": "cpu_percent", "op": "==", "value": 1, "name": "x"},
    {"metric": "cpu_percent", "op": ">", "value": 1, "name": "x", "for": -1},
    {"metric": "cpu_percent", "op": ">", "value": 1, "name": "x", "level": "info"},
    {"metric": "cpu_percent", "op": ">", "value": 1, "name": "x", "colour": "red"},
])
def test_rule_validation(bad):
    from pydantic import TypeAdapter, ValidationError

    with pytest.raises(ValidationError):
        TypeAdapter(AlertRule).validate_python(bad)
