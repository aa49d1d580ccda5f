"""The fleet page (/fleet, /fleet/poll, /fleet/stream): one table per (sort, filter) shared by its
viewers, drawn at its step, live over the real tailer."""

import gevent
import pytest

from app.live.delivery import overview_messages
from app.live.pages import TooManyPages
from app.view import overview
from tests.sse_client import region
from tests.view.test_regions import sample
from tests.web.test_poll import settle


@pytest.fixture
def fleet(client, live):
    """The app with samples of ``web-1`` and ``web-2`` folded by the tailer."""
    client.get("/")  # starts the tailer
    live.store.append("metrics", sample(host="web-1", cpu_percent=11.0), state_key="sample:web-1")
    settle(live, live.store.append("metrics", sample(host="web-2", cpu_percent=95.0),
                                   state_key="sample:web-2"))
    return live


def test_the_page_lists_every_host_with_its_links_form_and_stream(client, fleet):
    html = client.get("/fleet?sort=cpu&q=web").get_data(as_text=True)
    assert '<a href="/?host=web-2">web-2</a>' in html and '<a href="/?host=web-1">' in html
    assert html.index("h-web-2") < html.index("h-web-1")  # by CPU
    assert 'hx-sse:connect="/fleet/stream?sort=cpu&amp;q=web"' in html
    assert 'hx-get="/fleet/poll?sort=cpu&amp;q=web"' in html  # the badge's fallback
    assert '<input type="hidden" name="sort" value="cpu">' in html and 'value="web"' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    polling = client.get("/fleet?transport=poll").get_data(as_text=True)
    assert "hx-sse:connect" not in polling and "POLLING" in polling


def test_an_unknown_sort_or_a_long_filter_is_a_400_json_error(client, fleet):
    for query in ("sort=bogus", "q=" + "x" * 300):
        for path in ("/fleet", "/fleet/poll", "/fleet/stream"):
            response = client.get(f"{path}?{query}", headers={"Accept": "application/json"})
            assert response.status_code == 400, path
            assert "sort" in response.get_json()["error"] or "filter" in response.get_json()["error"]


def test_the_poll_has_an_etag_and_an_unchanged_one_is_a_304(client, fleet):
    first = client.get("/fleet/poll?sort=name")
    assert first.status_code == 200 and 'id="fleet-table"' in first.get_data(as_text=True)
    assert "POLLING" in first.get_data(as_text=True)
    again = client.get("/fleet/poll?sort=name", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_one_table_per_sort_and_filter_shared_by_its_viewers_and_redrawn_at_its_step(
        fleet, monkeypatch):
    monkeypatch.setattr(overview, "TABLE_STEP", 0.5)
    first = overview_messages(fleet, 60, None, "name", "")
    second = overview_messages(fleet, 60, None, "name", "")
    snapshot = next(first).decode()
    assert next(second).decode() == snapshot
    assert region(snapshot, "fleet-table") and region(snapshot, "fleet-summary")
    assert len(fleet.overviews) == 1 and fleet.viewers_here() == 2
    settle(fleet, fleet.store.append("metrics", sample(host="web-1", cpu_percent=42.0),
                                     state_key="sample:web-1"))
    with gevent.Timeout(5):
        change = next(first).decode()
        while change.startswith(":"):  # a heartbeat
            change = next(first).decode()
    # Only web-1's row, as an out-of-band swap: the order by name held.
    assert '<tr id="h-web-1" hx-swap-oob="true">' in change and "h-web-2" not in change
    assert "<td>42 %</td>" in change and 'id="fleet-table"' not in change
    first.close(), second.close()
    assert fleet.viewers_here() == 0


def test_filtered_fleet_pages_are_bounded_and_an_unwatched_one_makes_room(fleet, monkeypatch):
    monkeypatch.setattr(fleet.overviews, "limit", 1)
    watched = overview_messages(fleet, 60, None, "name", "web-1")
    next(watched)
    with pytest.raises(TooManyPages):
        fleet.overviews.get("name", "web-2")
    # Before: 16 streams with different filters made every other fleet view a 503. Sorts
    # without a filter take no slot.
    for sort in ("level", "name", "cpu", "memory"):
        assert fleet.overviews.get(sort, "").key == (sort, "")
    watched.close()
    assert fleet.overviews.get("name", "web-2").key == ("name", "web-2")
    assert sorted(k for k in (p.key for p in fleet.overviews) if k[1]) == [("name", "web-2")]
