"""GET /api/v1/audit: the audit log for admins, filtered and paged, newest first."""

import pytest

from app.domain import accounts, audit
from app.domain import apikeys

DAY = 86400.0


@pytest.fixture
def site(make_app):
    """The app (not ``app``: see tests/web/test_admin.py), with ten entries: by ann and by
    key:bot in turn, a day apart from day 1, every third one a key-add."""
    made = make_app()
    store = made.extensions["dashboard"].store
    for n in range(10):
        audit.record(store, who="ann" if n % 2 == 0 else "key:bot", role="admin",
                     action="key-add" if n % 3 == 0 else "account-add", target=f"t{n}",
                     address="203.0.113.7", detail={"n": n}, now=DAY * (n + 1))
    return made


@pytest.fixture
def admin(site):
    """A client with a key of the admin scope (the store has an account, so no loopback)."""
    store = site.extensions["dashboard"].store
    accounts.add(store, "ann", "admin", "password-123456")
    _record, key = apikeys.add_key(store, "auditor", ["admin"], by="test")
    client = site.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client


def targets(answer) -> list[str]:
    return [e["target"] for e in answer["entries"]]


def test_newest_first_with_every_field(admin):
    answer = admin.get("/api/v1/audit").get_json()
    assert targets(answer) == [f"t{n}" for n in range(9, -1, -1)]
    assert answer["next"] is None
    assert answer["entries"][0] == {"id": 10, "ts": DAY * 10, "who": "key:bot", "role": "admin",
                                    "action": "key-add", "target": "t9",
                                    "address": "203.0.113.7", "detail": {"n": 9}}


@pytest.mark.parametrize(("query", "expected"), [
    ("who=ann", ["t8", "t6", "t4", "t2", "t0"]),
    ("who=key:bot&action=key-add", ["t9", "t3"]),
    ("action=key-add", ["t9", "t6", "t3", "t0"]),
    (f"since={DAY * 3}&until={DAY * 5}", ["t3", "t2"]),  # since inclusive, until exclusive
    (f"until={DAY * 2}", ["t0"]),
    ("who=nobody", []),
])
def test_filters(admin, query, expected):
    assert targets(admin.get(f"/api/v1/audit?{query}").get_json()) == expected


def test_pages_follow_next_until_null(admin):
    seen, before, pages = [], None, 0
    while True:
        query = "limit=4&action=account-add" + (f"&before={before}" if before else "")
        answer = admin.get(f"/api/v1/audit?{query}").get_json()
        seen += targets(answer)
        pages += 1
        before = answer["next"]
        if before is None:
            break
        assert before == answer["entries"][-1]["id"]
    assert pages == 2 and seen == ["t8", "t7", "t5", "t4", "t2", "t1"]


def test_a_full_last_page_says_no_next(admin):
    answer = admin.get("/api/v1/audit?limit=10").get_json()
    assert len(answer["entries"]) == 10 and answer["next"] is None


@pytest.mark.parametrize(("query", "named"), [
    ("limit=0", "limit"), ("limit=501", "limit"), ("limit=x", "limit"),
    ("action=reboot", "action"), ("since=yesterday", "since"), ("until=-1", "until"),
    ("since=100&until=50", "until"), ("before=0", "before"), ("before=abc", "before"),
    ("who=", "who"), ("sort=ts", "sort"),
])
def test_a_bad_parameter_is_a_400_naming_it(admin, query, named):
    response = admin.get(f"/api/v1/audit?{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert named in body["error"] and body["details"][0]["field"] == named


def test_only_admins_read_it(site, admin):
    store = site.extensions["dashboard"].store
    _record, reader = apikeys.add_key(store, "reader", ["read", "operate"], by="test")
    refused = site.test_client().get("/api/v1/audit",
                                     headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and "admin scope" in refused.get_json()["error"]
    assert site.test_client().get("/api/v1/audit").status_code == 401


def test_it_is_documented_with_its_query(admin):
    document = admin.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/audit"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {
        "who", "action", "since", "until", "before", "limit"}
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
