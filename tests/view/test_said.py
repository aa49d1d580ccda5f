"""Sentences the server makes and stores (app.domain.i18n.Text): kept as English ``message``
and structured ``text``, said in each reader's language; old rows show as they were stored."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import Environment

from app.domain import approvals, containers, messages
from app.domain.alerts import AlertRule, Evaluator
from app.domain.i18n import N_, TEXT, Text, public, said
from app.view.language import Languages

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def zh():
    languages = Languages(Environment(autoescape=True), ROOT / "translations", "en",
                          ZoneInfo("UTC"))
    return languages.get("zh_Hans")


def test_a_text_round_trips_through_its_stored_form():
    text = Text(N_("approval '%(id)s' was %(state)s by %(by)s already"), id="a1",
                state=Text("approved"), by="ann")
    assert Text.from_stored(text.stored()) == text
    assert str(text) == "approval 'a1' was approved by ann already"
    assert Text.from_stored(None) is None and Text.from_stored("Resolved: x") is None
    assert Text.from_stored({"message": 3}) is None
    assert Text("%(missing)s and more").say() == "%(missing)s and more"  # never raises


def test_an_old_row_shows_as_it_was_stored(zh):
    old = {"level": "info", "message": "Resolved: cpu-high", "ts": 1.0}
    assert said(old) == zh.said(old) == "Resolved: cpu-high"
    assert zh.said({"message": "x", TEXT: {"nonsense": 1}}) == "x"
    assert public(old) is old


def test_a_rule_resolution_is_said_in_each_language(zh):
    rule = AlertRule(metric="disk_percent:/var", op=">", value=90, name="disk-var", for_=0)
    evaluator = Evaluator([rule], "web-1")
    (fired,) = evaluator.evaluate({"disks": [{"mount": "/var", "percent": 95.0}]}, 10.0)
    assert fired.alert["message"] == "Disk /var above 90 % for 0 s"
    assert zh.said(fired.alert) == "磁盘 /var 高于 90 % 持续 0 秒"
    (resolved,) = evaluator.evaluate({"disks": [{"mount": "/var", "percent": 50.0}]}, 20.0)
    event = resolved.event
    assert event["message"] == "Resolved: Disk /var above 90 % for 0 s (now 50 %, peak 95 %)"
    assert zh.said(event) == "已恢复：磁盘 /var 高于 90 % 持续 0 秒（当前 50 %，峰值 95 %）"
    assert TEXT not in public(event) and public(event)["message"] == event["message"]
    # A notification in DASHBOARD_LANGUAGE says the condition in it too.
    body = messages.text(fired.alert, "firing", "", zh.gettext)
    assert body.splitlines()[0] == "警告: 磁盘 /var 高于 90 % 持续 0 秒", body


def test_container_and_approval_events_are_said_in_chinese(zh, live):
    died = containers.event_of({"name": "web", "action": "die", "exit_code": 137}, "h1")
    assert died["message"] == "web exited with code 137"
    assert zh.said(died) == "web 已退出，退出码 137"
    unhealthy = containers.event_of({"name": "db", "action": "health_status: unhealthy"}, "h1")
    assert (unhealthy["message"], zh.said(unhealthy)) == ("db is unhealthy", "db 状态：不健康")
    asked = approvals.ask(live.store, title="deploy <v2>", detail=None, source="ci",
                          asked_by="key:ci", timeout_seconds=60)
    approvals.answer(live.store, asked["id"], approved=False, reason="not now", by="ann")
    (event,) = [item.data for item in live.store.find("event", after_id=0, limit=10)
                if "deploy" in item.data.get("message", "")]
    assert event["message"] == "Denied: deploy <v2> (by ann): not now"
    assert zh.said(event) == "已拒绝：deploy <v2>（ann）：not now"
