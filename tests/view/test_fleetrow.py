"""The fleet row (app.view.fleetrow): the cards that need attention most, their trends, and
what a change sends."""

import re

from app.domain import history
from app.store import Item
from app.view.fleetrow import ROW_SHOWN, TREND_STEP, Trends
from tests.view.test_regions import sample


def fold(live, *items):
    live.fleet.apply(list(items))
    live.view.apply(list(items))
    return live.view.refresh("fleet")


def test_beyond_twelve_hosts_the_row_shows_the_worst_and_links_to_all(live):
    live.fleet.thresholds = {"cpu_percent": (70.0, 90.0)}
    now = live.fleet.clock()
    fold(live, *[Item(n, "metrics", now, sample(host=f"h{n:02}", cpu_percent=95.0 if n > 15 else 5.0))
                 for n in range(1, 21)])
    html = live.view.html["fleet"]
    shown = re.findall(r'<strong class="name">([^<]+)</strong>', html)
    assert len(shown) == ROW_SHOWN
    assert shown[:5] == ["h16", "h17", "h18", "h19", "h20"]  # critical first, then by name
    assert '<a href="/fleet">all 21 hosts</a>' in html  # 20 and this dashboard's own


def test_a_change_of_figures_alone_sends_only_that_cards_figures(live):
    now = live.fleet.clock()
    fold(live, Item(1, "metrics", now, sample(host="a")), Item(2, "metrics", now, sample(host="b")))
    live.view.changes(["fleet"])
    assert fold(live, Item(3, "metrics", now, sample(host="b", cpu_percent=33.0)))
    sent = live.view.changes(["fleet"])
    assert sent.startswith('<span id="fc-b" hx-swap-oob="true"><span class="cpu">CPU 33 %</span>')
    assert 'id="fleet"' not in sent and "fc-a" not in sent and "fm-b" not in sent  # CPU alone


def test_trends_are_drawn_from_the_minute_tier_once_per_step(live):
    store = live.store
    now = 1_800_000_000.0
    for minute in range(5):
        history.record(store, sample(host="a", ts=now - 300 + minute * 60, cpu_percent=10.0 * minute),
                       now=now)
    trends = Trends()
    assert trends.due(["a", "b"], now)
    assert trends.draw(store, ["a", "b"], now)
    a = str(trends.svg["a"])
    assert a.startswith('<svg class="trend"') and 'aria-label="CPU, last 15 minutes: 0–40 %"' in a
    assert re.search(r'<path d="M[\d.]+ 16(L[\d.]+ [\d.]+){4}"/>', a)
    assert "no data" in trends.svg["b"]
    assert not trends.due(["a", "b"], now + 1)  # same step, same hosts
    assert trends.due(["a", "b", "c"], now + 1)  # a host new to the row
    assert trends.due(["a"], now + TREND_STEP)
