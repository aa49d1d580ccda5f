"""The /audit page: the newest entries live, a filter form, older pages, escaped text."""

from datetime import datetime, timezone

import pytest

from app.domain import audit
from app.view.audit import PAGE


def day(text: str, hour: int = 12) -> float:
    return datetime.fromisoformat(text).replace(hour=hour, tzinfo=timezone.utc).timestamp()


@pytest.fixture
def page(make_app):
    """A local client (no account: an admin) and the store, with three entries."""
    app = make_app(TIMEZONE="UTC")  # the dates below are UTC days
    store = app.extensions["dashboard"].store
    audit.record(store, who="ann", role="admin", action="account-add", target="bob",
                 detail={"role": "viewer"}, now=day("2025-03-01"))
    audit.record(store, who="key:bot", role="key", action="key-revoke", target="<img src=x>",
                 address="203.0.113.7", now=day("2025-03-02"))
    audit.record(store, who="ann", role="admin", action="key-add", target="deploy",
                 detail={"id": "0123456789ab", "scopes": ["read"]}, now=day("2025-03-03"))
    return app.test_client(), store


def rows(html: str) -> list[str]:
    return [line for line in html.splitlines() if line.startswith('<tr id="audit-')]


def test_the_unfiltered_page_is_live_and_escapes_every_text(page):
    client, _store = page
    html = client.get("/audit").get_data(as_text=True)
    assert 'hx-sse:connect="/audit/stream" hx-trigger="load, every 15s" hx-sync="drop" ' \
           'hx-swap="none"' in html
    assert '<noscript><meta http-equiv="refresh" content="15"></noscript>' in html
    found = rows(html)
    assert len(found) == 3 and "deploy" in found[0] and "bob" in found[2]
    assert "<td>2025-03-03 12:00:00</td>" not in html  # in a <time>
    assert '<time datetime="2025-03-03T12:00:00+00:00">2025-03-03 12:00:00</time>' in found[0]
    assert "&lt;img src=x&gt;" in html and "<img" not in html
    assert "<td>203.0.113.7</td>" in found[1] and "role: viewer" in found[2]
    for action in audit.ACTIONS:
        assert f'<option value="{action}">' in html


@pytest.mark.parametrize(("query", "expected"), [
    ("who=ann", ["deploy", "bob"]),
    ("action=key-revoke", ["&lt;img src=x&gt;"]),
    ("since=2025-03-02", ["deploy", "&lt;img src=x&gt;"]),
    ("until=2025-03-02", ["&lt;img src=x&gt;", "bob"]),  # the whole day
    ("since=2025-03-02&until=2025-03-02", ["&lt;img src=x&gt;"]),
    ("who=ann&action=key-add&since=&until=", ["deploy"]),
])
def test_a_filtered_page_is_read_once_and_keeps_its_fields(page, query, expected):
    client, _store = page
    html = client.get(f"/audit?{query}").get_data(as_text=True)
    assert "hx-sse:connect" not in html and "<noscript>" not in html
    found = rows(html)
    assert len(found) == len(expected)
    for row, target in zip(found, expected):
        assert f"<td>{target}</td>" in row
    if "who=ann" in query:
        assert 'name="who" type="text" value="ann"' in html
    if "action=key-add" in query:
        assert '<option value="key-add" selected>' in html


def test_older_pages_link_on_with_the_filter(page):
    client, store = page
    for n in range(PAGE + 3):
        audit.record(store, who="ann", role="admin", action="account-role", target=f"r{n}")
    first = client.get("/audit?who=ann").get_data(as_text=True)
    assert len(rows(first)) == PAGE
    last_id = int(rows(first)[-1].split('"')[1].removeprefix("audit-"))
    link = f'href="/audit?who=ann&amp;before={last_id}"'
    assert link in first
    second = client.get(f"/audit?who=ann&before={last_id}").get_data(as_text=True)
    assert len(rows(second)) == 5 and "before=" not in second.split('id="audit-rows"')[1]
    assert 'href="/audit">newest, live</a>' in second


@pytest.mark.parametrize("query", ["since=2025-13-01", "until=yesterday", "action=reboot",
                                   "before=x", "since=2025-03-05&until=2025-03-01"])
def test_a_bad_filter_is_a_400(page, query):
    client, _store = page
    response = client.get(f"/audit?{query}", headers={"Accept": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(("zone", "query", "expected"), [
    # 20:00 UTC on 1 March is 04:00 on 2 March in Shanghai (UTC+8); 16:00 UTC on 2 March is
    # midnight starting 3 March there.
    ("Asia/Shanghai", "since=2025-03-02&until=2025-03-02", ["late", "early"]),
    ("UTC", "since=2025-03-02&until=2025-03-02", ["next", "late"]),
    ("Asia/Shanghai", "until=2025-03-01", []),
    # Berlin's 30 March 2025 has 23 hours (CET to CEST): it ends at 22:00 UTC.
    ("Europe/Berlin", "since=2025-03-30&until=2025-03-30", ["dst-last"]),
])
def test_dates_are_whole_days_in_the_dashboards_zone(make_app, zone, query, expected):
    app = make_app(TIMEZONE=zone)
    store = app.extensions["dashboard"].store
    for target, when in (("early", "2025-03-01T20:00"), ("late", "2025-03-02T15:30"),
                         ("next", "2025-03-02T16:00"), ("dst-first", "2025-03-29T22:59"),
                         ("dst-last", "2025-03-30T21:59"), ("dst-after", "2025-03-30T22:00")):
        audit.record(store, who="ann", role="admin", action="key-add", target=target,
                     now=utc(when))
    html = app.test_client().get(f"/audit?{query}").get_data(as_text=True)
    targets = ("early", "late", "next", "dst-first", "dst-last", "dst-after")
    found = [target for row in rows(html) for target in targets if f">{target}<" in row]
    assert found == expected
    zone_name = {"Asia/Shanghai": "CST", "UTC": "UTC", "Europe/Berlin": "CE"}[zone]
    assert "dates filter whole days in " + zone_name in html
