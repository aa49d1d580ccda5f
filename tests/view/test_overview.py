"""The fleet page's regions (app.view.overview): rows, sorting, filtering, summary, and what a
redraw sends."""

import re

import pytest

from app.domain.fleet import Fleet
from app.store import Item
from app.view import overview
from app.view.overview import BadFleetQuery, FleetTable, check_query, fullest_disk
from tests.view.test_regions import sample

NOW = 1_000_000.0


@pytest.fixture
def fleet():
    fleet = Fleet(10, clock=lambda: NOW, thresholds={"cpu_percent": (70.0, 90.0)})
    fleet.apply([
        Item(1, "metrics", NOW, sample(host="web-2", cpu_percent=95.0, mem_percent=20.0)),
        Item(2, "metrics", NOW, sample(host="web-10", cpu_percent=30.4, mem_percent=90.0,
                                       disks=[{"mount": "/", "percent": 40.0},
                                              {"mount": "/var", "percent": 97.0}])),
        Item(3, "metrics", NOW - 60, sample(host="db-1", cpu_percent=50.0)),
        Item(4, "alert", NOW, {"id": "x", "name": "<disk>", "level": "warning",
                               "state": "firing", "host": "web-10"}),
    ])
    return fleet


def table(app, fleet, sort="level", q=""):
    t = FleetTable(app.extensions["languages"].get().env, fleet, sort, q)
    t.draw(0, 0.0)
    return t


def names(html):
    return re.findall(r'<tr id="h-([^"]+)"', html)


def test_rows_are_in_level_order_by_default_and_show_every_column(app, fleet):
    html = table(app, fleet).html["fleet-table"]
    assert names(html) == ["web-2", "web-10", "db-1"]  # critical, warning (alert), stale
    web10 = re.search(r'<tr id="h-web-10".*?</tr>', html).group()
    assert '<a href="/?host=web-10">web-10</a>' in web10 and ">reporting<" in web10
    assert "<td>30 %</td><td>90 %</td><td>97 % <small>/var</small></td>" in web10
    assert "<td>0.25</td>" in web10  # load 0.5 over 2 CPUs
    assert "<td>&lt;disk&gt;</td>" in web10  # an alert name is user text: escaped
    assert 'class="level-warning"' in web10
    db = re.search(r'<tr id="h-db-1".*?</tr>', html).group()
    assert "silent since 13:45:40" in db and 'class="level-stale"' in db


@pytest.mark.parametrize(("sort", "order"), [
    ("name", ["db-1", "web-10", "web-2"]),
    ("cpu", ["web-2", "db-1", "web-10"]),
    ("memory", ["web-10", "db-1", "web-2"]),  # 90, then 40 and 20
    ("disk", ["web-10", "db-1", "web-2"]),  # the fullest mount, 97 %
    ("alerts", ["web-10", "db-1", "web-2"]),
    ("seen", ["db-1", "web-10", "web-2"]),  # silent longest first
    ("state", ["db-1", "web-10", "web-2"]),
])
def test_every_sort_orders_rows_ties_by_name(app, fleet, sort, order):
    html = table(app, fleet, sort).html["fleet-table"]
    assert names(html) == order
    assert '<th scope="col" aria-sort=' in html and f'href="/fleet?sort={sort}"' in html


def test_the_filter_keeps_names_with_the_prefix_and_the_summary_counts_the_whole_fleet(app, fleet):
    t = table(app, fleet, "name", "WEB")
    assert names(t.html["fleet-table"]) == ["web-10", "web-2"]
    assert 'href="/fleet?sort=cpu&amp;q=WEB"' in t.html["fleet-table"]
    summary = t.html["fleet-summary"]
    assert re.findall(r"<strong>(\d+)</strong> <span class=\"state-word\">(\w+)", summary) == [
        ("1", "critical"), ("1", "warning"), ("1", "stale"), ("0", "ok")]
    assert "of 3 hosts" in summary
    none = table(app, fleet, "name", "<b>")
    assert "No host name starts with “&lt;b&gt;”." in none.html["fleet-table"]


def test_a_redraw_sends_only_changed_rows_while_the_order_holds(app, fleet):
    t = table(app, fleet, "name")
    t.changes(["fleet-table", "fleet-summary"])
    fleet.apply([Item(5, "metrics", NOW, sample(host="web-2", cpu_percent=96.0,
                                                 mem_percent=20.0))])
    assert t.draw(5, 10.0) == ["fleet-table"]
    sent = t.changes(["fleet-table"])
    assert names(sent) == ["web-2"] and '<tr id="h-web-2" hx-swap-oob="true"' in sent
    assert sent.endswith("</tr>")  # the LIVE badge went with the first change, just before
    fleet.apply([Item(6, "metrics", NOW, sample(host="aa"))])  # a new row: the whole table
    t.draw(6, 20.0)
    assert t.changes(["fleet-table", "fleet-summary"]).startswith('<div id="fleet-table"')


def test_a_redraw_draws_again_only_the_rows_whose_host_changed(app, fleet):
    t = table(app, fleet, "name")
    drawn = []
    put = t._rows.put
    t._rows.put = lambda card, html: drawn.append(card.name) or put(card, html)
    fleet.apply([Item(5, "metrics", NOW, sample(host="web-2", cpu_percent=96.0,
                                                 mem_percent=20.0))])
    t.draw(5, 10.0)
    assert drawn == ["web-2"]
    html = t.html["fleet-table"]
    assert names(html) == ["db-1", "web-10", "web-2"] and "<td>96 %</td>" in html
    assert "<small>/var</small>" in html  # web-10's row, kept from the first draw


def test_a_draw_nobody_streams_keeps_no_change_and_the_step_gates_redraws(app, fleet):
    t = table(app, fleet, "name")
    step = overview.TABLE_STEP
    assert not t.due(step * 0.99) and t.due(step)
    fleet.apply([Item(5, "metrics", NOW, sample(host="web-2", cpu_percent=5.0))])
    t.draw(5, 10.0, send=False)
    fleet.apply([Item(6, "metrics", NOW, sample(host="web-2", cpu_percent=6.0))])
    t.draw(6, 20.0)
    assert names(t.changes(["fleet-table"])) == ["web-2"]


def test_the_table_shows_the_first_rows_only_and_says_how_to_reach_the_others(
        app, fleet, monkeypatch):
    monkeypatch.setattr(overview, "MAX_ROWS", 2)
    t = table(app, fleet, "name")
    html = t.html["fleet-table"]
    assert names(html) == ["db-1", "web-10"]
    assert "The first 2 of 3 hosts in this order: filter by host name" in html
    assert "of 3 hosts" in t.html["fleet-summary"]  # the summary still counts every host
    assert names(table(app, fleet, "cpu").html["fleet-table"]) == ["web-2", "db-1"]
    # A row that changes beyond the first ones sends nothing; one among them sends its row.
    t.changes(["fleet-table", "fleet-summary"])
    fleet.apply([Item(5, "metrics", NOW, sample(host="web-2", cpu_percent=96.0))])
    assert t.draw(5, 10.0) == []  # its level held: the summary too
    fleet.apply([Item(6, "metrics", NOW, sample(host="web-10", cpu_percent=1.0))])
    assert t.draw(6, 20.0) == ["fleet-table"]
    assert names(t.changes(["fleet-table"])) == ["web-10"]
    filtered = table(app, fleet, "name", "web")
    assert names(filtered.html["fleet-table"]) == ["web-10", "web-2"]
    assert "fleet-more" not in filtered.html["fleet-table"]  # every match is shown


def test_queries_are_checked():
    assert check_query(None, None) == ("level", "")
    assert check_query("cpu", "  web ") == ("cpu", "web")
    with pytest.raises(BadFleetQuery, match="unknown sort 'bogus'"):
        check_query("bogus", "")
    with pytest.raises(BadFleetQuery):
        check_query("name", "x" * 254)


def test_the_fullest_disk_falls_back_to_the_watched_one():
    assert fullest_disk({"disk_percent": 12.0}) == (None, 12.0)
    assert fullest_disk({"disks": [{"mount": "/a", "percent": 3}, {"mount": "/b", "percent": 9}]}
                        ) == ("/b", 9.0)
