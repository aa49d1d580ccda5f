"""Hosts compared (app.view.compare, app.domain.busiest): the busiest hosts by their average,
ten lines with distinct classes, the legend, escaping of host names, gaps, and one render per
(metric, range) and tier point."""

import math
import re
import time

import pytest

from app.domain.busiest import busiest
from app.view.compare import BadCompare, Comparisons, check, draw, slot
from app.view.ranges import SPANS
from app.view.timeaxis import zone_of

UTC = zone_of("UTC")


@pytest.fixture
def store(live):
    return live.store


def now_minute():
    return (math.floor(time.time() / 60)) * 60


def fill(store, host, values, end, step=60):
    """One 1-minute point per value, the last one ending at ``end``; None leaves a gap."""
    start = end - step * len(values)
    for n, value in enumerate(values):
        if value is not None:
            store.record_history(host, start + n * step + 1, {"cpu_percent": value})


def test_busiest_ranks_by_the_average_weighted_by_samples(store):
    end = now_minute()
    store.record_history("a", end - 300, {"cpu_percent": 90.0})  # one sample at 90
    for n in range(9):
        store.record_history("a", end - 290 + n, {"cpu_percent": 10.0})  # nine at 10: avg 18
    store.record_history("b", end - 200, {"cpu_percent": 20.0})
    store.record_history("c", end - 200, {"cpu_percent": 20.0})  # a tie: by name
    ranked = busiest(store, ["a", "b", "c", "silent"], "cpu_percent", "raw", end - 3600, end, 60)
    assert [(r.host, round(r.average, 6)) for r in ranked] == [("b", 20.0), ("c", 20.0),
                                                              ("a", 18.0)]
    assert busiest(store, ["a", "b", "c"], "cpu_percent", "raw", 0, end, 60, count=1)[0].host == "b"


def test_ten_busiest_lines_with_a_legend_busiest_first(app, store):
    end = now_minute()
    hosts = [f"web-{n:02d}" for n in range(12)]
    for n, host in enumerate(hosts):
        fill(store, host, [float(n)] * 30, end)
    with app.app_context():
        html = Comparisons(app.extensions["languages"].get().env, UTC).get(store, hosts, "cpu_percent", "1h",
                                                   end + 30).html
    assert html.count('<path class="line s') == 10
    for n in range(10):
        assert f'class="line s{n}"' in html and f'class="key s{n}"' in html
    legend = re.findall(r'<a href="/\?host=([^&"]+)&amp;range=1h">', html)
    assert legend == [f"web-{n:02d}" for n in range(11, 1, -1)]  # the two idlest left out
    assert "The 10 busiest of 12 hosts by their average over the range" in html
    assert 'average 11.0 %' in html
    assert 'aria-label="CPU of the 10 busiest hosts, last hour: latest busiest web-11, average 11.0 %;' in html
    # One hover title per bucket, listing every host's average.
    titles = re.findall(r"<title>([^<]*)</title>", html)
    assert len(titles) == 30
    assert re.fullmatch(r"\d\d:\d\d–\d\d:\d\d: web-11 11\.0 %; web-10 10\.0 %; .*web-02 2\.0 %",
                        titles[-1])
    assert 'hx-get="/fleet/compare/chart?metric=cpu_percent&amp;range=1h"' in html
    assert 'hx-trigger="every 15s"' in html  # the 1-minute tier: polled every 15 s


def test_host_names_are_escaped_in_the_legend_titles_and_label(app, store):
    end = now_minute()
    evil = '<b onmouseover="x">&amp;'
    fill(store, evil, [50.0] * 5, end)
    with app.app_context():
        html = Comparisons(app.extensions["languages"].get().env, UTC).get(store, [evil], "cpu_percent", "1h",
                                                   end + 30).html
    assert "<b " not in html and 'onmouseover="x"' not in html
    assert "&lt;b onmouseover=&#34;x&#34;&gt;&amp;amp;" in html  # the legend's text
    assert "?host=%3Cb%20onmouseover%3D%22x%22%3E%26amp%3B" in html  # its link
    assert html.count("&lt;b onmouseover=") >= 7  # legend, label, five titles


def test_gaps_stay_gaps(store):
    end = now_minute()
    fill(store, "gappy", [10.0, 20.0, None, None, None, 30.0, 40.0], end)
    drawn = draw(store, ["gappy"], "cpu_percent", "1h", UTC, end + 30)
    line = re.search(r'class="line s0" d="([^"]*)"', str(drawn["plot"])).group(1)
    assert line.count("M") == 2


def test_no_data_says_so(app, store):
    with app.app_context():
        html = Comparisons(app.extensions["languages"].get().env, UTC).get(store, ["a", "b"], "load1", "24h",
                                                   time.time()).html
    assert "No host has load 1 min figures over the last 24 hours yet (2 hosts looked at)." in html
    assert "<svg" not in html


def test_one_render_per_tier_point(app, store):
    end = now_minute()
    fill(store, "a", [1.0], end)
    comparisons = Comparisons(app.extensions["languages"].get().env, UTC)
    with app.app_context():
        first = comparisons.get(store, ["a"], "cpu_percent", "1h", end + 10)
        assert comparisons.get(store, ["a"], "cpu_percent", "1h", end + 50) is first
        later = comparisons.get(store, ["a"], "cpu_percent", "1h", end + 65)
        # While another request renders the next point, the last render is served.
        import gevent.event

        comparisons._busy[("cpu_percent", "1h")] = gevent.event.Event()
        assert comparisons.get(store, ["a"], "cpu_percent", "1h", end + 125) is later
    assert later is not first and later.etag != first.etag
    assert slot("1h", end + 65) == slot("1h", end + 10) + 1
    assert slot("live", end + 5) == slot("live", end) + 1  # live: every 5 seconds


@pytest.mark.parametrize("metric, range_name, param", [
    ("bogus", "1h", "metric"), ("custom:queue", "1h", "metric"), ("uptime", "1h", "metric"),
    ("cpu_percent", "2h", "range"), ("cpu_percent", "", "range")])
def test_unknown_metrics_and_ranges_are_refused(metric, range_name, param):
    with pytest.raises(BadCompare) as caught:
        check(metric, range_name)
    assert caught.value.param == param


def test_every_host_page_range_and_5m_are_known():
    assert check("cpu_percent", "5m") == "live"
    for name in SPANS:
        assert check("net_rx_bps", name) == name


def test_byte_sizes_have_their_own_unit(store):
    end = now_minute()
    store.record_history("a", end - 30, {"mem_used": 3 * 2**30})
    drawn = draw(store, ["a"], "mem_used", "1h", UTC, end + 30)
    assert "GiB<" in str(drawn["frame"]) and "B/s" not in str(drawn["frame"])
    assert drawn["ranked"][0][1] == "3.0 GiB"


def test_a_missing_chart_is_drawn_once_for_everyone_asking_and_every_pair_is_kept(app, store,
                                                                                   monkeypatch):
    import gevent

    from app.view import compare

    drawn = []
    real = compare.draw

    def slow_draw(*args, **kwargs):
        drawn.append(args[2:4])
        gevent.sleep(0.05)  # a store read: other requests run meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(compare, "draw", slow_draw)
    end = now_minute()
    with app.app_context():
        charts = Comparisons(app.extensions["languages"].get().env, UTC)
        # Before: each of the concurrent requests for a chart not drawn yet drew it.
        asks = [gevent.spawn(charts.get, store, ["a"], "cpu_percent", "1h", end) for _ in range(5)]
        gevent.joinall(asks, raise_error=True)
        assert drawn == [("cpu_percent", "1h")] and len({a.value.html for a in asks}) == 1
        # Before: 91 pairs against 32 kept renders, so cycling through them drew every time.
        pairs = [(metric, span) for metric in compare.COMPARABLE for span in SPANS]
        for _ in range(2):
            for metric, span in pairs:
                charts.get(store, ["a"], metric, span, end)
    assert len(drawn) == len(pairs)
