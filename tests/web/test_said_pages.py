"""A sentence the server stored (app.domain.i18n.Text) reaches a page in the reader's language
and the JSON API in English, without its structured form; an old row shows as stored."""

import time

from app.domain import alerts
from app.domain.alerts import AlertRule, Evaluator
from app.live.jsonstream import payload
from tests.web.test_poll import settle


def test_pages_say_it_in_the_readers_language_and_json_in_english(make_app):
    app = make_app()
    client = app.test_client()  # not pytest-flask's: one g per request
    live = app.extensions["dashboard"]
    client.get("/")  # starts the tailer
    live.store.append("event", {"level": "info", "message": "Resolved: stored before",
                                "ts": time.time()})  # a row made before sentences were kept
    raised = alerts.raise_alert(live.store, name="deploy-stuck", level="warning",
                                message="<b>stuck</b>", source="ci")
    alerts.resolve(live.store, raised["id"])
    rule = AlertRule(metric="cpu_percent", op=">", value=90, name="cpu-high", for_=0)
    (fired,) = Evaluator([rule], live.settings.host_name).evaluate({"cpu_percent": 99.0}, 1.0)
    alerts.save(live.store, fired.alert)
    assert client.post("/simulator/host", json={"enabled": True}).status_code == 200
    settle(live, live.store.latest_id())

    chinese = client.get("/fragments/events?lang=zh_Hans").text
    assert "已恢复：deploy-stuck" in chinese and "Resolved: deploy-stuck" not in chinese
    assert "Resolved: stored before" in chinese  # as it was stored
    assert "&lt;b&gt;stuck&lt;/b&gt;" in chinese and "<b>" not in chinese  # a program's words
    assert "模拟主机已开启" in chinese and "simulated host" not in chinese
    english = client.get("/fragments/events?lang=en").text
    assert "Resolved: deploy-stuck" in english and "已恢复" not in english
    cards = client.get("/fragments/alerts?lang=zh_Hans").text
    assert "CPU 高于 90 % 持续 0 秒" in cards

    events = client.get("/api/v1/events", headers={"Accept-Language": "zh-CN"}).get_json()
    assert {"Resolved: deploy-stuck", "simulated host on"} <= {e["message"] for e in events}
    assert all("text" not in event for event in events)
    listed = client.get("/api/v1/alerts").get_json()
    (cpu,) = [alert for alert in listed if alert["name"] == "cpu-high"]
    assert cpu["message"] == "CPU above 90 % for 0 s" and "text" not in cpu
    items = live.store.find("alert", after_id=0, limit=50)
    assert items and all("text" not in payload(item) for item in items)
    assert any("text" in item.data for item in items)  # kept in the store, for pages
