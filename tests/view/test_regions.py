"""Region fragments: values with units, levels from thresholds, the feed, and escaping."""

import time

from app.store import Item


def sample(**values):
    base = {"host": "h", "ts": time.time(), "cpu_percent": 12.5, "cpu_count": 2, "mem_percent": 40.0,
            "mem_used": 4 << 30, "mem_total": 8 << 30, "disk_percent": 50.0, "disk_used": 50 << 30,
            "disk_total": 100 << 30, "net_rx_bps": 1536.0, "net_tx_bps": 0.0, "load1": 0.5,
            "load5": 0.4, "load15": 0.3, "uptime": 93784, "temperature": None}
    return {**base, **values}


def view_with(live, *items):
    view = live.view
    view.host = "h"
    view.unwatched = False  # as while someone streams it: apply renders what changed
    return view, view.apply(list(items))


def test_metric_regions_show_values_units_and_levels(live):
    view, changed = view_with(live, Item(1, "metrics", 0, sample(cpu_percent=95.0, mem_percent=85)))
    assert set(changed) >= {"cpu", "memory", "disk", "network", "load", "uptime"}
    assert 'class="card level-critical"' in view.html["cpu"] and "95.0" in view.html["cpu"]
    assert "%" in view.html["cpu"]
    assert "level-warning" in view.html["memory"]
    assert "level-ok" in view.html["disk"]
    assert "1.5 KiB" in view.html["network"]
    assert "1 d 2 h 3 min" in view.html["uptime"]


def test_unchanged_values_do_not_rerender(live):
    view, _ = view_with(live, Item(1, "metrics", 0, sample()))
    _, changed = view_with(live, Item(2, "metrics", 0, sample(cpu_percent=13.0)))
    assert "cpu" in changed and "disk" not in changed


def test_samples_of_other_hosts_are_not_shown_here(live):
    _, changed = view_with(live, Item(1, "metrics", 0, sample(host="elsewhere")))
    assert changed == []


def test_feed_is_newest_first_bounded_and_shows_the_level(live):
    items = [Item(n, "event", 0, {"level": "error" if n % 2 else "info", "message": f"m{n}",
                                  "source": None, "ts": time.time()}) for n in range(1, 31)]
    view, changed = view_with(live, *items)
    assert changed == ["events"]
    html = view.html["events"]
    assert html.count("<li") == 20
    assert html.index("m30") < html.index("m29")
    assert "m10<" not in html
    assert 'class="event level-error"' in html and ">error<" in html


def test_user_text_is_escaped(live):
    evil = "<img src=x onerror=alert(1)>"
    view, _ = view_with(live, Item(1, "event", 0, {"level": "info", "message": evil,
                                                  "source": '"><script>', "ts": 0}))
    html = view.html["events"]
    assert evil not in html and "<script>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


class _Broken:
    def render(self, **_context):
        raise ValueError("a template bug")


def test_a_region_that_fails_to_render_keeps_its_html_and_the_rest_go_on(live, client, caplog):
    client.get("/healthz")  # starts the live view now, not at the scrape below
    view, _ = view_with(live, Item(1, "metrics", 0, sample(cpu_percent=10.0)))
    good_cpu = view.html["cpu"]
    view._templates["cpu"] = _Broken()
    with caplog.at_level("ERROR", logger="app.view.regions"):
        _, changed = view_with(live, Item(2, "metrics", 0, sample(cpu_percent=20.0, mem_percent=1)),
                               Item(3, "event", 0, {"level": "info", "message": "m", "ts": 1.0}))
        view.apply([Item(4, "metrics", 0, sample(cpu_percent=30.0))])
    assert "cpu" not in changed and {"memory", "events"} <= set(changed)
    assert view.html["cpu"] == good_cpu and view.out.failing == {"cpu"}
    assert len([r for r in caplog.records if "'cpu'" in r.getMessage()]) == 1  # once, not per sample
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'dashboard_render_errors_total{region="cpu"} 2.0' in metrics


def test_a_region_that_never_rendered_shows_a_placeholder_with_its_id(live):
    live.view._templates["tasks"] = _Broken()
    live.view.load(live.store)
    assert 'id="tasks"' in live.view.html["tasks"] and "could not be drawn" in live.view.html["tasks"]
    assert "cpu" in live.view.html  # the others rendered


def test_an_item_appended_while_a_view_loads_is_shown_once(live):
    store = live.store
    store.append("event", {"level": "info", "message": "before", "ts": 1.0})
    real_recent = store.recent

    def recent_after_a_write(kind, count):
        if kind == "event" and not getattr(store, "_raced", False):
            store._raced = True
            store.append("event", {"level": "info", "message": "during", "ts": 2.0})
        return real_recent(kind, count)

    store.recent = recent_after_a_write
    live.view.load(store)
    live.view.apply(store.since(live.view.last_id))
    assert [item.data["message"] for item in live.view.events] == ["during", "before"]


def test_a_card_whose_level_holds_sends_its_changed_figure_alone(live):
    view, _ = view_with(live, Item(1, "metrics", 0, sample(cpu_percent=12.5)))
    view.changes(["cpu"])
    _, changed = view_with(live, Item(2, "metrics", 0, sample(cpu_percent=13.5)))
    sent = view.changes(changed)
    assert '<p id="cpu-value" hx-swap-oob="true" class="value"><span class="number">13.5' in sent
    assert 'id="cpu"' not in sent and "cpu-note" not in sent and "\n" not in sent
    assert '<span class="number">13.5' in view.html["cpu"]  # the page and /poll: the whole card
    _, changed = view_with(live, Item(3, "metrics", 0, sample(cpu_percent=95.0)))
    sent = view.changes(changed)  # another level: the root's class changes, the card goes whole
    assert sent.startswith('<div id="cpu" class="card level-critical" hx-swap-oob="true">')


def test_the_live_badge_goes_with_a_change_at_most_every_15_seconds(live, monkeypatch):
    from app.view import parts

    now = [1000.0]
    monkeypatch.setattr(parts.time, "monotonic", lambda: now[0])
    view, _ = view_with(live, Item(1, "metrics", 0, sample()))
    sent = []
    for n in range(2, 40):  # a sample a second for 38 s
        now[0] += 1.0
        _, changed = view_with(live, Item(n, "metrics", 0, sample(cpu_percent=float(n))))
        sent.append('id="badge"' in view.changes(changed))
    assert [n for n, badge in enumerate(sent) if badge] == [0, 15, 30]
    assert 'id="badge"' in view.fragments(["cpu"], "live")  # a snapshot always has it
