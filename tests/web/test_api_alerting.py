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
    ({"rules": [{**RULE, "value": True}]}, "rules.0.value"),  # strict: JSON true is no number
    ({"rules": [{**RULE, "for": "5"}]}, "rules.0.for"),
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


@pytest.mark.parametrize("body, field", [
    ({"matchers": {"name": "x", "host": None}, "duration": 60}, "matchers"),
    ({"matchers": {"name": "x"}, "duration": 60, "ends_at": None}, "(body)"),
    ({"matchers": {"name": "x"}, "duration": True}, "duration"),     # JSON true is no number
    ({"matchers": {"name": "x"}, "duration": "60"}, "duration"),
])
def test_nulls_and_booleans_the_document_forbids_are_refused(client, live, body, field):
    before = live.store.latest_id()
    response = client.post("/api/v1/silences", json=body)
    assert response.status_code == 422
    assert field in {d["field"].split(".")[0] for d in response.get_json()["details"]}
    assert live.store.latest_id() == before


def test_an_identical_silence_extends_the_one_that_stands(client, live):
    first = client.post("/api/v1/silences", json={"matchers": {"name": "disk"}, "duration": 60})
    again = client.post("/api/v1/silences", json={"matchers": {"name": "disk"}, "duration": 7200,
                                                  "comment": "longer"})
    shorter = client.post("/api/v1/silences", json={"matchers": {"name": "disk"}, "duration": 5})
    assert (first.status_code, again.status_code, shorter.status_code) == (201, 200, 200)
    assert first.get_json()["id"] == again.get_json()["id"] == shorter.get_json()["id"]
    assert shorter.get_json()["ends_at"] == again.get_json()["ends_at"] >= time.time() + 7000
    assert shorter.get_json()["comment"] == "longer"
    assert len(silences.active(live.store)) == 1
    assert [e["action"] for e in live.store.audit_query()][:2] == ["silence-extend"] * 2


def test_ends_at_is_capped_a_year_ahead_like_duration(client, live):
    made = client.post("/api/v1/silences", json={"matchers": {"name": "x"}, "ends_at": 2 ** 52})
    assert made.status_code == 201
    assert time.time() + 365 * 86400 < made.get_json()["ends_at"] <= time.time() + 366 * 86400


def test_one_creator_cannot_use_up_the_silences(client, live):
    # Before: 1,001 posts from one page gave 1,000 x 201, then a 500 for everyone for a day.
    statuses = [client.post("/api/v1/silences", json={"matchers": {"name": f"a{n}"},
                                                      "duration": 86400}).status_code
                for n in range(silences.MAX_PER_CREATOR + 1)]
    assert statuses == [201] * silences.MAX_PER_CREATOR + [422]
    refused = client.post("/api/v1/silences", json={"matchers": {"name": "more"}, "duration": 60})
    assert refused.status_code == 422 and "share" in refused.get_json()["error"]
    alert_id = raise_one(client)
    page = client.post(f"/ui/alerts/{alert_id}/silence", data={"hours": "1"},
                       headers={"HX-Request": "true", **ORIGIN})
    assert page.status_code == 422 and "share" in page.text
    # Somebody else still can.
    from app.domain import apikeys

    _, key = apikeys.add_key(live.store, "other", ["operate"], by="test")
    other = client.post("/api/v1/silences", json={"matchers": {"name": "more"}, "duration": 60},
                        headers={"Authorization": f"Bearer {key}"})
    assert other.status_code == 201 and other.get_json()["created_by"] == "key:other"
