"""The chart panel (app.view.panel) as a page's regions: per range, drawn when its step or tier
point comes, plots alone between two whole panels, custom metrics, and the real history tiers."""

import re
import time

from app.store import Item
from app.view.panel import ChartPanel
from app.view.ranges import LIVE_STEP, SPANS
from app.view.timeaxis import zone_of
from tests.view.test_regions import sample

UTC = zone_of("UTC")


def test_the_live_panel_has_every_chart_and_the_range_switcher(live):
    view = live.view
    now = time.time()
    view.apply([Item(n, "metrics", 0, sample(host=view.host, ts=now - 60 + n, cpu_percent=float(n)))
                for n in range(1, 60)])
    view.tick(live.store, now)
    html = view.html["charts"]
    for slug in ("cpu", "memory", "load", "network", "disk"):
        assert f'id="plot-{slug}"' in html
    assert html.count('<svg class="frame"') == 5 and html.count('<svg class="plot"') == 5
    assert '<a href="/?host=' in html and 'aria-current="page">live</a>' in html
    assert "&amp;range=24h" in html
    assert re.search(r'aria-label="CPU, last 5 minutes: latest 59.0 %; min 1.0 %, max 59.0 %"', html)
    assert "received" in html and "sent" in html  # the network legend
    # The plots region is the same plots, each swapped by id on its own.
    plots = view.html["plots"]
    assert plots.count('hx-swap-oob="true"') == 5 and '<svg class="frame"' not in plots


def test_live_sends_plots_every_step_and_the_panel_once_a_minute(live):
    view = live.view
    minute = (int(time.time()) // 60 + 1) * 60 + 60  # a whole minute ahead: times are ours
    view.apply([Item(1, "metrics", 0, sample(host=view.host, ts=minute - 30, cpu_percent=5.0))])
    assert view.tick(live.store, minute + 1) == ["charts"]  # a new minute: new frames
    assert view.tick(live.store, minute + 2) == []  # same step: nothing
    view.apply([Item(2, "metrics", 0, sample(host=view.host, ts=minute + 3, cpu_percent=50.0))])
    assert view.tick(live.store, minute + LIVE_STEP) == ["plots"]
    assert view.tick(live.store, minute + 60) == ["charts"]


def test_charts_drawn_at_a_step_are_not_drawn_again_by_the_sweep_within_its_grace():
    """A sample's figures draw the charts just after a step (no grace); the tailer's sweep a
    second later asks with its grace of 1.5 s, whose time falls before the step."""
    panel = ChartPanel("web-2", "live", UTC, custom_host="home")
    step = 1_800_000_000 // LIVE_STEP * LIVE_STEP
    panel.draw(None, step + 0.2)
    assert not panel.due(step + 1.2 - 1.5)
    assert not panel.due(step + LIVE_STEP - 0.1)
    assert panel.due(step + LIVE_STEP)
    assert panel.due(step - 3 * LIVE_STEP)  # the clock set back


def test_a_range_page_redraws_when_its_tier_point_completes():
    calls = []

    def fetch(store, host, keys, tier, start, end, step):
        calls.append((host, tier, end - start, step))
        return {key: [(end - 2 * step, 1.0, 2.0, 3.0, 60)] for key in keys}

    panel = ChartPanel("web-2", "24h", UTC, custom_host="home", fetch=fetch)
    hour = 1_800_000_000 // 3600 * 3600
    assert panel.due(hour + 10)
    assert panel.draw(None, hour + 10) is True  # no store: nothing read, empty charts
    assert calls == []
    panel.draw(object(), hour + 10)
    assert calls == [("web-2", "1m", 86400, 900)]
    assert not panel.due(hour + 59)  # the 1-minute tier's point is not complete yet
    assert panel.due(hour + 60 + 3)  # complete, and TIER_LAG seconds for its rollup
    week = ChartPanel("web-2", "7d", UTC, fetch=fetch)
    week.draw(object(), hour + 10)
    assert not week.due(hour + 1800) and week.due(hour + 3600 + 3)
    assert calls[-1] == ("web-2", "1h", 604800, 7200)
    assert "(min 1.0 %, max 3.0 %)" in week.drawn[0].plot
    assert 'class="band s0"' in week.drawn[0].plot


def test_custom_metrics_get_charts_with_escaped_names(live):
    evil = '<script>alert(1)</script>'
    now = time.time()
    reading = {"key": evil, "name": evil, "labels": {"q": evil}, "unit": "jobs", "value": 3.0,
               "type": "gauge", "ts": now}
    view = live.view
    view.apply([Item(1, "custom", 0, {"metrics": [reading], "ts": now})])
    view.tick(live.store, now + 60)
    html = view.html["charts"]
    assert "<script>" not in html and html.count('<svg class="plot"') == 6
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (q=&lt;script&gt;" in html
    assert "3.00 jobs" in html


def test_range_pages_read_the_real_history_tiers(live):
    """A week of samples folded into the store's tiers, read back by the 7-day panel."""
    store, host = live.store, live.view.host
    now = time.time()
    start = now - 7 * 86400
    rows = [(t, {"cpu_percent": (10.0, 30.0, 20.0 * 60, 60)}) for t in
            range(int(start) // 3600 * 3600, int(now) - 7200, 3600) if not 2 * 86400 < now - t < 3 * 86400]
    store.write_history(host, "1h", [(t, {k: (lo, hi, s * 60, n * 60)
                                          for k, (lo, hi, s, n) in v.items()}) for t, v in rows])
    view = live.view.sibling(host, "7d")
    view.load(store)
    plot = view.panel.drawn[0].plot
    line = re.search(r'class="line s0" d="([^"]+)"', plot).group(1)
    assert line.count("M") == 2  # the missing day is a gap, not a zero
    assert "(min 10.0 %, max 30.0 %)" in plot and "20.0 %" in plot
    assert SPANS["7d"].words in plot


def test_a_live_page_loads_its_last_minutes_from_the_raw_tier(live):
    """A page made or reloaded later draws the samples the history kept, not only new ones."""
    from app.domain import history

    now = time.time()
    host = live.view.host
    for n in range(120):
        history.record(live.store, sample(host=host, ts=now - 120 + n, cpu_percent=float(n % 50)))
    view = live.view.sibling(host)
    view.load(live.store)
    assert len(view.panel.samples) == 120
    assert "CPU, last 5 minutes: latest 19.0 %; min 0.0 %, max 49.0 %" in view.html["charts"]
