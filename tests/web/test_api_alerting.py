"""``/api/v1/silences``, ``/api/v1/rules`` and the page's Silence buttons: stored when valid,
4xx and nothing stored when not."""

from __future__ import annotations

import time

import gevent
import pytest

from app.domain import rules, silences

ORIGIN = {"Origin": "http://localhost"}
RULE = {"metric": "mem_percent", "op": ">=", "value": 80, "for": 5, "level": "critical",
        "name": "mem", "hosts": "db*"}


def raise_one(client) -> str:
    return client.post("/api/v1/alerts", json={"name": "cpu*high", "level": "error",
                                               "message": "hot", "source": "t"}).get_json()["id"]


def test_rules_are_read_replaced_and_shown(client, live):
    assert client.get("/api/v1/rules").get_json()["by"] == "DASHBOARD_ALERT_RULES"
    response = client.put("/api/v1/rules", json={"rules": [RULE]})
    assert response.status_code == 200
    assert rules.load(live.store)[0].hosts == "db*"
    got = client.get("/api/v1/rules").get_json()
    assert got["rules"] == [RULE] and got["by"] == "local"
    live.start()  # the tailer folds the change into the page's rules region
    deadline = time.monotonic() + 10
    while "<code>db*</code>" not in client.get("/fragments/rules").text:
        assert time.monotonic() < deadline
        gevent.sleep(0.05)


@pytest.mark.parametrize("body, field", [
    ({"rules": [RULE, RULE]}, "rules"),                             # names repeat
    ({"rules": [{**RULE, "metric": "cpu_count"}]}, "rules.0.metric"),
    ({"rules": [{**RULE, "hosts": ""}]}, "rules.0.hosts"),
    ({"rules": [{**RULE, "bogus": 1}]}, "rules.0.bogus"),
    ({"rules": {"mem": RULE}}, "rules"),
])
def test_bad_rules_are_refused_and_change_nothing(client, live, body, field):
    before = live.store.latest_id()
    response = client.put("/api/v1/rules", json=body)
    assert response.status_code == 422
    assert field in {d["field"] for d in response.get_json()["details"]}
    assert live.store.latest_id() == before


def test_silences_are_made_listed_and_ended(client, live):
    ends = time.time() + 3600
    made = client.post("/api/v1/silences", json={
        "matchers": {"host": "web*", "level": "warning"}, "ends_at": ends, "comment": "deploy"})
    assert made.status_code == 201
    silence = made.get_json()
    assert silence["matchers"] == {"host": "web*", "level": "warning"}
    assert silence["ends_at"] == ends and silence["created_by"] == "local"
    assert client.get("/api/v1/silences").get_json() == [silence]
    ended = client.delete(f"/api/v1/silences/{silence['id']}")
    assert ended.status_code == 200 and ended.get_json()["ends_at"] <= time.time()
    assert client.get("/api/v1/silences").get_json() == []
    assert client.delete("/api/v1/silences/nosuch").status_code == 404


@pytest.mark.parametrize("body", [
    {"matchers": {}, "duration": 60},                                 # no matcher
    {"matchers": {"name": "x"}},                                      # no end
    {"matchers": {"name": "x"}, "duration": 60, "ends_at": 2e9},      # both
    {"matchers": {"name": "x"}, "ends_at": 1000},                     # in the past
    {"matchers": {"name": "x"}, "duration": 0.5},
    {"matchers": {"level": "info"}, "duration": 60},
])
def test_bad_silences_are_refused_and_store_nothing(client, live, body):
    before = live.store.latest_id()
    assert client.post("/api/v1/silences", json=body).status_code == 422
    assert live.store.latest_id() == before


def test_the_page_silences_one_alert_exactly_for_the_hours_chosen(client, live):
    alert_id = raise_one(client)
    response = client.post(f"/ui/alerts/{alert_id}/silence", data={"hours": "4"},
                           headers={"HX-Request": "true", **ORIGIN})
    assert response.status_code == 204
    [silence] = silences.active(live.store)
    assert silence["created_by"] == "local"
    assert silence["matchers"] == {"name": "cpu[*]high"}  # literally, not as a pattern
    assert 4 * 3600 - 60 < silence["ends_at"] - silence["starts_at"] <= 4 * 3600
    # Without JavaScript the form posts natively and goes back to the page.
    native = client.post(f"/ui/alerts/{alert_id}/silence", data={"hours": "1"},
                         headers={**ORIGIN, "Referer": "http://localhost/?host=x"})
    assert native.status_code == 303 and native.headers["Location"] == "/?host=x"


@pytest.mark.parametrize("headers, form, status", [
    ({}, {"hours": "4"}, 403),                                         # no Origin
    ({"Origin": "http://evil.example"}, {"hours": "4"}, 403),
    (ORIGIN, {"hours": "5"}, 422),
])
def test_page_silences_refused(client, live, headers, form, status):
    alert_id = raise_one(client)
    before = live.store.latest_id()
    response = client.post(f"/ui/alerts/{alert_id}/silence", data=form, headers=headers)
    assert response.status_code == status
    assert live.store.latest_id() == before


def test_page_silence_of_an_unknown_alert_is_404(client, live):
    response = client.post("/ui/alerts/nosuch/silence", data={"hours": "1"}, headers=ORIGIN)
    assert response.status_code == 404 and live.store.latest_id() == 0
