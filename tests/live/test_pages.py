"""Another host's page: /?host=, /poll, /fragments and /stream, one view and hub per host."""

import dataclasses

import gevent
import pytest

from app.live import pages, tailer
from app.view.ranges import TIER_LAG
from app.live.delivery import page_messages as _messages
from tests.sse_client import number, region
from tests.web.test_poll import settle
from tests.view.test_regions import sample


@pytest.fixture
def fleet(client, live):
    """The app with samples of its own host and of ``web-2`` folded by the tailer."""
    client.get("/")  # starts the tailer
    live.store.append("metrics", sample(host=live.settings.host_name, cpu_percent=11.0),
                      state_key=f"sample:{live.settings.host_name}")
    settle(live, live.store.append("metrics", sample(host="web-2", cpu_percent=88.0),
                                   state_key="sample:web-2"))
    return live


def test_the_page_of_another_host_shows_its_cards_and_passes_the_host_on(client, fleet):
    html = client.get("/?host=web-2").get_data(as_text=True)
    assert "<h1>web-2</h1>" in html
    assert number(region(html, "cpu"), "cpu") == "88.0"
    assert 'hx-sse:connect="/stream?host=web-2"' in html
    assert 'hx-get="/poll?host=web-2"' in html
    assert 'href="?host=web-2&amp;transport=poll"' in html
    assert '<a href="/?host=web-2" aria-current="page">' in html
    assert 'id="simulator"' not in html  # the simulator acts on this dashboard's host only
    with gevent.Timeout(3):  # the tailer's next sweep (about once a second) shows the fleet
        while "web-2" not in fleet.view.html["fleet"]:
            gevent.sleep(0.05)
    own = client.get("/").get_data(as_text=True)
    assert number(region(own, "cpu"), "cpu") == "11.0"
    # The own host's page names its host too, so that any dashboard behind a balancer streams it.
    home = fleet.settings.host_name
    assert f'hx-sse:connect="/stream?host={home}"' in own
    assert f'href="?host={home}&amp;transport=poll"' in own
    assert f'<a href="/?host={fleet.settings.host_name}" aria-current="page">' in own


def test_poll_and_fragments_take_the_host(client, fleet):
    polled = client.get("/poll?host=web-2")
    assert polled.status_code == 200
    assert number(polled.get_data(as_text=True), "cpu") == "88.0"
    assert 'hx-get="/poll?host=web-2" hx-trigger="every 2s"' in polled.get_data(as_text=True)
    assert client.get("/poll?host=web-2",
                      headers={"If-None-Match": polled.headers["ETag"]}).status_code == 304
    cpu = client.get("/fragments/cpu?host=web-2").get_data(as_text=True)
    assert cpu.startswith('<div id="cpu"') and number(cpu, "cpu") == "88.0"
    assert number(client.get("/fragments/cpu").get_data(as_text=True), "cpu") == "11.0"
    assert client.get("/fragments/simulator?host=web-2").status_code == 404


@pytest.mark.parametrize("path", ["/", "/poll", "/fragments/cpu", "/stream"])
def test_an_unknown_host_is_404(client, fleet, path):
    response = client.get(f"{path}?host=nowhere", headers={"Accept": "application/json"})
    assert response.status_code == 404 and "nowhere" in response.get_json()["error"]
    assert client.get(f"{path}?host=").status_code == 404


def test_the_stream_of_another_host_gets_that_hosts_changes_only(client, fleet):
    gen = _messages(fleet, 60, None, "web-2")
    snapshot = next(gen).decode()
    assert number(snapshot, "cpu") == "88.0"
    page = fleet.page("web-2")
    assert len(page.hub) == 1 and len(fleet.hub) == 0
    fleet.store.append("metrics", sample(host=fleet.settings.host_name, cpu_percent=12.0),
                       state_key=f"sample:{fleet.settings.host_name}")
    settle(fleet, fleet.store.append("metrics", sample(host="web-2", cpu_percent=77.0),
                                     state_key="sample:web-2"))
    with gevent.Timeout(3):
        change = next(gen).decode()
    assert number(change, "cpu") == "77.0"
    assert fleet.view.sample["cpu_percent"] == 12.0  # the own view folded its own sample
    gen.close()
    assert len(page.hub) == 0


def test_charts_that_are_due_go_out_with_the_next_sample_in_one_message(client, fleet,
                                                                      monkeypatch):
    """Charts due when a sample comes ride along with its cards: one write per viewer, not
    two (the sweep's own draw, after a grace, is kept out of this test)."""
    gen = _messages(fleet, 60, None, "web-2")
    next(gen)
    view = fleet.page("web-2").view
    monkeypatch.setattr(view, "tick", lambda store, now, grace=0.0: [])
    view.panel._slot = None  # as if a new step had begun
    settle(fleet, fleet.store.append("metrics", sample(host="web-2", cpu_percent=66.0),
                                     state_key="sample:web-2"))
    with gevent.Timeout(3):
        change = next(gen).decode()
    assert number(change, "cpu") == "66.0"
    assert 'id="plot-cpu"' in change
    assert view.panel._slot is not None
    gen.close()


def test_each_host_has_one_view_and_hub_shared_by_its_viewers(fleet):
    first, second = _messages(fleet, 60, None, "web-2"), _messages(fleet, 60, None, "web-2")
    next(first), next(second)
    assert len(fleet.pages) == 2 and len(fleet.page("web-2").hub) == 2
    assert fleet.viewers_here() == 2
    first.close(), second.close()


def test_the_viewer_count_sums_every_hosts_hub(client, fleet):
    own, other = _messages(fleet, 60, None), _messages(fleet, 60, None, "web-2")
    next(own), next(other)
    with gevent.Timeout(5):
        while number(fleet.page("web-2").view.html["viewers"], "viewers") != "2":
            gevent.sleep(0.1)
    assert number(fleet.view.html["viewers"], "viewers") == "2"
    own.close(), other.close()


def test_pages_are_bounded_and_an_unwatched_one_makes_room(fleet, monkeypatch):
    monkeypatch.setattr(fleet.pages, "limit", 2)
    for host in ("web-3", "web-4"):
        settle(fleet, fleet.store.append("metrics", sample(host=host), state_key=f"sample:{host}"))
    watched = _messages(fleet, 60, None, "web-2")
    next(watched)
    with pytest.raises(pages.TooManyPages):
        fleet.page("web-3")  # the only other page is watched
    watched.close()
    assert fleet.page("web-3").host == "web-3"  # web-2's page, unwatched now, made room
    assert [p.host for p in fleet.pages] == [fleet.settings.host_name, "web-3"]
    fleet.page("web-4")
    assert fleet.page(None) is fleet.pages.default  # the own page is never dropped


def test_too_many_watched_hosts_is_503_with_retry_after(client, fleet, monkeypatch):
    monkeypatch.setattr(fleet.pages, "limit", 1)  # the own page only
    response = client.get("/?host=web-2", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "retry later" in response.get_json()["error"]


def test_a_page_made_after_the_tailers_cursor_folds_nothing_twice(fleet):
    # A page loads the store as it is now; items the tailer has not folded yet are in it.
    fleet.store.append("event", {"level": "info", "message": "once", "source": None, "ts": 0})
    page = fleet.page("web-2")
    assert sum(e.data["message"] == "once" for e in page.view.events) == 1
    settle(fleet, fleet.store.latest_id())
    gevent.sleep(0.2)
    assert sum(e.data["message"] == "once" for e in page.view.events) == 1


def test_each_host_and_range_is_one_page_shared_by_its_viewers(client, fleet):
    day = fleet.page("web-2", "24h")
    assert fleet.page("web-2", "24h") is day and day is not fleet.page("web-2")
    assert fleet.page(None, "5m") is fleet.page(None, "live") is fleet.pages.default
    html = client.get("/?host=web-2&range=24h").get_data(as_text=True)
    assert 'hx-sse:connect="/stream?host=web-2&amp;range=24h"' in html
    assert 'hx-get="/poll?host=web-2&amp;range=24h"' in html
    assert '<a href="/?host=web-2&amp;range=24h" aria-current="page">24 h</a>' in html
    assert number(region(html, "cpu"), "cpu") == "88.0"  # the figures are on every range
    first, second = _messages(fleet, 60, None, "web-2", range_name="24h"), \
        _messages(fleet, 60, None, "web-2", range_name="24h")
    assert next(first) is next(second)  # the very same snapshot bytes
    assert len(day.hub) == 2
    settle(fleet, fleet.store.append("metrics", sample(host="web-2", cpu_percent=66.0),
                                     state_key="sample:web-2"))
    with gevent.Timeout(3):
        a, b = next(first), next(second)
    assert a is b and number(a.decode(), "cpu") == "66.0"
    first.close()
    second.close()


def test_a_range_page_sends_its_charts_when_its_tier_point_completes(client, fleet, monkeypatch):
    """The tailer's sweep asks every page's view; a range page's panel is drawn from the store
    once per tier point, whatever the number of viewers."""
    page = fleet.page("web-2", "1h")
    draws, ticks = [], []
    panel, view = page.view.panel, page.view
    real_draw, real_tick = panel.draw, view.tick
    monkeypatch.setattr(panel, "draw",
                        lambda store, now: draws.append(now) or real_draw(store, now))
    monkeypatch.setattr(view, "tick", lambda store, now, grace=0.0: ticks.append(now)
                        or real_tick(store, now, grace))
    gen = _messages(fleet, 60, None, "web-2", range_name="1h")
    next(gen)
    panel._slot = None  # as if its minute had just completed
    with gevent.Timeout(10):  # the sweep asks about once a second
        while len(ticks) < 3:
            gevent.sleep(0.05)
    # Asked three times or more, drawn once per tier point: once, or twice if the clock
    # crossed a minute meanwhile, never twice for one minute.
    minutes = [int((t - TIER_LAG) // 60) for t in draws]
    assert 1 <= len(draws) <= 2 and len(set(minutes)) == len(minutes), (draws, len(ticks))
    gen.close()


def test_figures_wait_for_news_up_to_the_linger_and_news_go_at_once():
    page = pages.Page(None, None)
    assert page.ready([], 10.0, 0.5) == [] and page.send_by is None
    assert page.ready(["cpu", "plots"], 10.0, 0.5) == []  # figures alone wait...
    assert page.send_by == 10.5
    assert page.ready(["cpu", "viewers"], 10.2, 0.5) == []
    # ...for news
    assert page.ready(["events"], 10.3, 0.5) == ["cpu", "plots", "viewers", "events"]
    assert page.send_by is None
    assert page.ready(["memory"], 11.0, 0.5) == []
    assert page.ready([], 11.5, 0.5) == ["memory"]  # or for the linger at most
    assert page.ready(["alerts"], 12.0, 0.5) == ["alerts"]  # news alone go at once


def test_a_sample_held_back_goes_out_with_the_next_event_in_one_message(client, fleet,
                                                                       monkeypatch):
    # Figures may wait 30 s here: only the event can send them.
    monkeypatch.setattr(fleet, "settings",
                        dataclasses.replace(fleet.settings, sample_interval=60.0))
    monkeypatch.setattr(tailer, "_LINGER", 30.0)
    gen = _messages(fleet, 60, None, "web-2")
    next(gen)
    page = fleet.page("web-2")
    settle(fleet, fleet.store.append("metrics", sample(host="web-2", cpu_percent=55.0),
                                     state_key="sample:web-2"))
    with gevent.Timeout(3):  # folded, and held back
        while page.send_by is None:
            gevent.sleep(0.02)
    settle(fleet, fleet.store.append("event", {"level": "info", "message": "deploy done",
                                               "host": "web-2", "ts": 1.0}))
    with gevent.Timeout(3):
        change = next(gen).decode()
    assert number(change, "cpu") == "55.0" and "deploy done" in change
    gen.close()
