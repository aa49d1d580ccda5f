"""Notifications from a real gunicorn to a real HTTP receiver on 127.0.0.1, configured as an
Apprise ``json://`` URL and as two Alertmanager webhooks (one of which fails three times)."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from tests.receiver import FAILURES, Receiver
from tests.servers import Server, free_port

pytestmark = pytest.mark.server

PUBLIC = "http://dash.example"
#: A webhook path that is a secret (as Slack's are): never in a log line or on the page.
FLAKY = "/flaky/T0KEN-s3cr3t-path"
REPEAT = 3.0


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("notify")
    port = free_port()
    with Receiver(port, tmp / "posts.jsonl") as receiver, Server(free_port(), {
            "DASHBOARD_STORE_URL": f"sqlite:///{tmp / 'store.sqlite3'}",
            "DASHBOARD_ALERT_RULES": "[]",
            "DASHBOARD_NOTIFY_URLS": f"json://127.0.0.1:{port}/apprise",
            "DASHBOARD_WEBHOOK_URLS": f"{receiver.url}/webhook {receiver.url}{FLAKY}",
            "DASHBOARD_NOTIFY_REPEAT": str(REPEAT),
            "DASHBOARD_NOTIFY_BACKOFF": "0.2",
            "DASHBOARD_PUBLIC_URL": PUBLIC}) as server:
        yield server, receiver


def raise_alert(server, name: str, level: str = "critical") -> str:
    response = httpx.post(server.url + "/api/v1/alerts", json={
        "name": name, "level": level, "message": f"{name} needs a look", "source": "test"})
    assert response.status_code == 201
    return response.json()["id"]


def of(posts, alert_id: str, path: str | None = None) -> list[dict]:
    """The posts about ``alert_id`` (to ``path``), by their idempotency key."""
    return [p for p in posts if p["key"] and p["key"].startswith(alert_id + "-")
            and (path is None or p["path"] == path)]


def keys(posts) -> list[str]:
    return [p["key"].split("-", 1)[1] for p in posts]


def test_one_notification_per_firing_and_per_resolve_with_the_fields(setup):
    server, receiver = setup
    alert_id = raise_alert(server, "disk-check")
    # Acknowledged at once: an acknowledged alert gets no repeats, so exactly one firing.
    assert httpx.post(f"{server.url}/api/v1/alerts/{alert_id}/ack").status_code == 200
    receiver.wait_for(lambda got: len(of(got, alert_id, "/webhook")) == 1
                      and len(of(got, alert_id, "/apprise")) == 1, timeout=30)
    assert httpx.post(f"{server.url}/api/v1/alerts/{alert_id}/resolve").status_code == 200
    # A later alert through the same single sender: once it has arrived, nothing about the
    # first is still on its way.
    later = raise_alert(server, "later")
    httpx.post(f"{server.url}/api/v1/alerts/{later}/resolve")
    got = receiver.wait_for(lambda got: len(of(got, later, "/webhook")) == 2
                            and len(of(got, alert_id, "/apprise")) == 2, timeout=30)
    for path in ("/webhook", "/apprise"):
        assert keys(of(got, alert_id, path)) == [
            f"firing-1-{'webhook-0' if path == '/webhook' else 'apprise-0'}",
            f"resolved-{'webhook-0' if path == '/webhook' else 'apprise-0'}"]

    firing, resolved = (p["body"] for p in of(got, alert_id, "/webhook"))
    assert firing["version"] == "4" and firing["status"] == "firing"
    assert firing["receiver"] == "dashboard" and firing["truncatedAlerts"] == 0
    assert firing["groupKey"] == '{}:{alertname="disk-check"}'
    assert firing["groupLabels"] == {"alertname": "disk-check"}
    assert firing["commonLabels"]["severity"] == "critical"
    assert firing["externalURL"] == PUBLIC
    [one] = firing["alerts"]
    assert one["labels"]["alertname"] == "disk-check" and one["fingerprint"] == alert_id
    assert one["annotations"]["description"] == "disk-check needs a look"
    assert one["endsAt"] == "0001-01-01T00:00:00Z"
    assert one["generatorURL"] == f"{PUBLIC}/#alert-{alert_id}"
    started = datetime.fromisoformat(one["startsAt"].replace("Z", "+00:00"))
    [done] = resolved["alerts"]
    assert resolved["status"] == done["status"] == "resolved"
    assert done["fingerprint"] == alert_id and done["startsAt"] == one["startsAt"]
    assert datetime.fromisoformat(done["endsAt"].replace("Z", "+00:00")) >= started

    fired, ended = (p["body"] for p in of(got, alert_id, "/apprise"))
    assert fired["title"] == "[FIRING] disk-check" and fired["type"] == "failure"
    assert "critical: disk-check needs a look" in fired["message"]
    assert "Since: " in fired["message"] and f"{PUBLIC}/#alert-{alert_id}" in fired["message"]
    assert ended["title"] == "[RESOLVED] disk-check" and ended["type"] == "success"
    assert "Resolved: " in ended["message"]


def test_a_firing_alert_is_notified_again_after_the_repeat_interval(setup):
    server, receiver = setup
    alert_id = raise_alert(server, "keeps-firing", level="warning")
    try:
        got = receiver.wait_for(lambda got: len(of(got, alert_id, "/webhook")) >= 2, timeout=40)
        assert keys(of(got, alert_id, "/webhook"))[:2] == ["firing-1-webhook-0",
                                                         "firing-2-webhook-0"]
    finally:
        httpx.post(f"{server.url}/api/v1/alerts/{alert_id}/ack")
        httpx.post(f"{server.url}/api/v1/alerts/{alert_id}/resolve")


def test_a_receiver_that_fails_three_times_gets_it_on_the_fourth_try(setup):
    server, receiver = setup
    alert_id = raise_alert(server, "flaky-path")
    httpx.post(f"{server.url}/api/v1/alerts/{alert_id}/ack")
    got = receiver.wait_for(lambda got: any(p["status"] == 200
                                            for p in of(got, alert_id, FLAKY)), timeout=40)
    tries = of(got, alert_id, FLAKY)
    assert [p["status"] for p in tries] == [500] * FAILURES + [200]
    assert len({p["key"] for p in tries}) == 1  # the same idempotency key each time
    assert tries[0]["body"] == tries[-1]["body"]
    metrics = httpx.get(server.url + "/metrics").text
    retried = re.search(r'dashboard_notifications_total\{outcome="retrying"\} (\S+)', metrics)
    assert retried and float(retried.group(1)) >= FAILURES
    sent = re.search(r'dashboard_notifications_total\{outcome="sent"\} (\S+)', metrics)
    assert sent and float(sent.group(1)) >= 1
    # The card says it was sent in the end.
    deadline_html = _wait_fragment(server, lambda html: f'id="alert-{alert_id}"' in html
                                   and "Notification sent" in _card(html, alert_id))
    assert "delivery-sent" in _card(deadline_html, alert_id)
    # The failures were logged, with the receiver's address redacted.
    assert "HTTP 500 from http://…" in server.log
    assert "s3cr3t" not in server.log and "s3cr3t" not in deadline_html
    httpx.post(f"{server.url}/api/v1/alerts/{alert_id}/resolve")


def test_a_silenced_alert_sends_nothing_until_the_silence_ends(setup):
    server, receiver = setup
    silence = httpx.post(server.url + "/api/v1/silences", json={
        "matchers": {"name": "quiet-*"}, "duration": 600, "comment": "maintenance"})
    assert silence.status_code == 201
    quiet = raise_alert(server, "quiet-1")
    loud = raise_alert(server, "loud-1")  # planned in the same or a later pass than quiet-1
    got = receiver.wait_for(lambda got: len(of(got, loud, "/webhook")) >= 1, timeout=30)
    assert of(got, quiet) == []
    html = _wait_fragment(server, lambda html: "Silenced by local" in _card(html, quiet))
    assert "Silence 1 h" not in _card(html, quiet) and "Silence 1 h" in _card(html, loud)
    listed = httpx.get(server.url + "/api/v1/silences").json()
    assert [s["id"] for s in listed] == [silence.json()["id"]]

    # Ended through the API: the alert still fires, so now it is notified.
    ended = httpx.delete(f"{server.url}/api/v1/silences/{silence.json()['id']}")
    assert ended.status_code == 200 and httpx.get(server.url + "/api/v1/silences").json() == []
    got = receiver.wait_for(lambda got: len(of(got, quiet, "/webhook")) == 1, timeout=30)
    for alert_id in (quiet, loud):
        httpx.post(f"{server.url}/api/v1/alerts/{alert_id}/ack")
        httpx.post(f"{server.url}/api/v1/alerts/{alert_id}/resolve")
    assert httpx.delete(f"{server.url}/api/v1/silences/nope").status_code == 404


def _card(html: str, alert_id: str) -> str:
    match = re.search(rf'<li id="alert-{alert_id}".*?</li>', html, re.S)
    return match.group(0) if match else ""


def _wait_fragment(server, condition, timeout: float = 20.0) -> str:
    import time

    deadline = time.monotonic() + timeout
    while True:
        html = httpx.get(server.url + "/fragments/alerts").text
        if condition(html):
            return html
        assert time.monotonic() < deadline, html
        time.sleep(0.2)
