"""The fleet: hosts, their levels and order; the row drawn from it (a card per host, the
current one marked, stale by the store's accept time)."""

import re

import gevent
import pytest

from app.domain.fleet import FLEET_KEPT, LEVELS, Card, Fleet, by_attention, level, summary
from app.store import Item
from tests.sse_client import region
from tests.view.test_regions import sample


class Clock:
    """A settable Unix clock for the fleet."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def cards(html: str) -> list[str]:
    return re.findall(r'<li class="host[^"]*">.*?</li>', html, re.S)


@pytest.fixture
def clock(live):
    fake = Clock(1_000_000.0)
    live.fleet.clock = fake
    live.fleet.home = "a"
    live.view.host = "a"
    return fake


def fold(live, *items):
    live.fleet.apply(list(items))
    live.view.apply(list(items))
    return live.view.refresh("fleet")


def test_one_host_renders_an_empty_placeholder_with_its_id(live, clock):
    fold(live, Item(1, "metrics", clock.now, sample(host="a")))
    assert live.view.html["fleet"] == '<section id="fleet" hx-swap-oob="true" hidden></section>'


def test_two_hosts_render_two_linked_cards_the_current_one_marked(live, clock):
    assert fold(live, Item(1, "metrics", clock.now, sample(host="a", cpu_percent=12.5)),
                Item(2, "metrics", clock.now - 2, sample(host="b-2", cpu_percent=97.25,
                                                         mem_percent=40.0, load1=1.5)))
    html = live.view.html["fleet"]
    assert html.startswith('<section id="fleet" hx-swap-oob="true"') and "hidden" not in html
    b, a = cards(html)  # b-2 is critical (CPU 97 %): it comes first
    assert '<a href="/?host=a" aria-current="page">' in a and "aria-current" not in b
    assert '<a href="/?host=b-2">' in b
    assert '<span class="cpu">CPU 97 %</span>' in b  # whole percents: fewer changes to send
    assert '<span class="memory">mem 40 %</span>' in b and '<span class="load">load 1.50</span>' in b
    assert 'class="host level-critical"' in b and ">critical<" in b
    assert 'class="host level-ok"' in a and ">ok<" in a
    assert '<a href="/fleet">all 2 hosts</a>' in html
    assert not fold(live)  # nothing changed: the same HTML, nothing to send


def test_last_seen_ignores_the_hosts_own_clock(live, clock):
    ahead = sample(host="b", ts=clock.now + 3600)  # its clock runs an hour ahead
    fold(live, Item(1, "metrics", clock.now, sample(host="a")),
         Item(2, "metrics", clock.now - 60, ahead))
    # Last seen is the store's accept time (the item's ts), not the sample's own ts.
    [b, _] = cards(live.view.html["fleet"])  # stale before ok
    assert 'class="host level-stale"' in b and ">stale<" in b
    assert 'silent since <time datetime="1970-01-12T13:45:40+00:00">13:45:40</time>' in b


def test_a_host_turns_stale_after_stale_after_seconds_with_no_new_item(live, clock):
    live.fleet.stale_after = 10
    fold(live, Item(1, "metrics", clock.now, sample(host="a")),
         Item(2, "metrics", clock.now, sample(host="b")))
    clock.now += 10  # exactly at the bound: not yet
    assert not live.view.refresh("fleet")
    clock.now += 0.5
    assert live.view.refresh("fleet")
    a, b = cards(live.view.html["fleet"])
    assert 'class="host level-stale"' in a and 'class="host level-stale"' in b
    fold(live, Item(3, "metrics", clock.now, sample(host="b")))  # b reports again
    a, b = cards(live.view.html["fleet"])  # stale before ok
    assert 'class="host level-stale"' in a and 'class="host level-ok"' in b


def test_the_home_host_has_a_card_before_its_first_sample(live, clock):
    fold(live, Item(1, "metrics", clock.now, sample(host="agent-1")))
    home, agent = cards(live.view.html["fleet"])  # stale before ok
    assert '<a href="/?host=a" aria-current="page">' in home
    assert "level-stale" in home and "silent since start" in home
    assert '<span class="cpu">CPU – %</span>' in home
    assert "agent-1" in agent and "level-ok" in agent


def test_host_names_and_partial_samples_are_escaped_and_do_not_break_the_row(live, clock):
    fold(live, Item(1, "metrics", clock.now, {"host": "<b>x&y</b>", "cpu_percent": "lots"}),
         Item(2, "metrics", clock.now, sample(host="a")))
    html = live.view.html["fleet"]
    assert "<b>x" not in html and "&lt;b&gt;x&amp;y&lt;/b&gt;" in html
    assert 'href="/?host=%3Cb%3Ex%26y%3C/b%3E"' in html
    assert '<span class="cpu">CPU – %</span>' in html
    assert 'id="fc-&lt;b&gt;x&amp;y&lt;/b&gt;"' in html


def test_load_takes_every_sample_state_and_its_accept_time(live, clock):
    store = live.store
    store.append("metrics", sample(host="a"), state_key="sample:a")
    for n in range(3):  # b reported long before a, and many events came since
        store.append("metrics", sample(host="b", cpu_percent=float(n)), state_key="sample:b")
    for n in range(5):
        store.append("event", {"level": "info", "message": f"m{n}", "source": None, "ts": 0})
    store.append("metrics", sample(host="a"), state_key="sample:a")
    fleet = Fleet(10)
    fleet.load(store)
    assert set(fleet.hosts) == {"a", "b"}
    assert fleet.hosts["b"].sample["cpu_percent"] == 2.0
    [last_b] = store.find("metrics", limit=1, where={"host": "b"})
    assert fleet.hosts["b"].seen == last_b.ts


def test_load_finds_a_host_beyond_the_recent_scan(live, monkeypatch):
    import app.domain.fleet

    monkeypatch.setattr(app.domain.fleet, "_LOAD_SCAN", 2)
    store = live.store
    old = store.append("metrics", sample(host="old"), state_key="sample:old")
    for _ in range(3):
        store.append("metrics", sample(host="a"), state_key="sample:a")
    fleet = Fleet(10)
    fleet.load(store)
    assert fleet.hosts["old"].seen == store.since(old - 1, 1)[0].ts


def test_the_fleet_keeps_the_most_recently_seen_hosts(clock):
    fleet = Fleet(10)
    fleet.apply([Item(n, "metrics", float(n), sample(host=f"h{n}"))
                 for n in range(1, FLEET_KEPT + 6)])
    assert len(fleet) == FLEET_KEPT
    assert "h5" not in fleet and "h6" in fleet and f"h{FLEET_KEPT + 5}" in fleet


def test_the_tailer_sends_the_fleet_when_it_changes_and_when_a_host_turns_stale(client, live):
    # The real tailer: its once-a-second sweep re-renders the fleet; only changed HTML goes out.
    client.get("/")  # starts it
    fake = Clock(0.0)
    live.fleet.clock = fake
    live.fleet.stale_after = 5
    sub = live.hub.subscribe(b"snapshot")
    sub.queue.get_nowait()
    a = live.store.append("metrics", sample(host="web-1"), state_key="sample:web-1")
    live.store.append("metrics", sample(host="web-2"), state_key="sample:web-2")
    fake.now = live.store.since(a - 1, 1)[0].ts

    def next_fleet(timeout=3.0) -> str:
        with gevent.Timeout(timeout):
            while True:
                found = region(sub.queue.get().decode(), "fleet")
                if found:
                    return found

    shown = next_fleet()
    assert 'class="host level-ok"' in shown and len(cards(shown)) == 3  # home, web-1, web-2
    with pytest.raises(gevent.Timeout):  # unchanged: not sent again
        next_fleet(timeout=1.5)
    fake.now += 6
    stale = next_fleet()
    assert stale.count('class="host level-stale"') == 3
    live.hub.unsubscribe(sub)


# -- levels, order, summary (app.domain.fleet) --------------------------------------------------

THRESHOLDS = {"cpu_percent": (70.0, 90.0), "load_per_cpu": (1.0, 2.0)}


@pytest.mark.parametrize(("sample_values", "stale", "alert_levels", "expected"), [
    ({"cpu_percent": 10.0}, False, [], "ok"),
    ({"cpu_percent": 75.0}, False, [], "warning"),
    ({"cpu_percent": 90.0}, False, [], "critical"),  # at the bound: that level
    ({"load1": 9.0, "cpu_count": 4}, False, [], "critical"),  # 2.25 per CPU
    ({"load1": 9.0, "cpu_count": 8}, False, [], "warning"),
    ({"cpu_percent": 95.0}, True, [], "stale"),  # a stale host's figures are old
    ({"cpu_percent": 10.0}, True, ["warning"], "warning"),  # its alerts still count
    ({"cpu_percent": 10.0}, False, ["error"], "critical"),  # error counts as critical
    ({"cpu_percent": 75.0}, False, ["warning", "critical"], "critical"),
    ({"cpu_percent": "lots"}, False, [], "ok"),  # not a number: no reading
    ({}, True, [], "stale"),
])
def test_a_hosts_level_is_the_worst_of_its_alerts_and_fresh_figures(sample_values, stale,
                                                                     alert_levels, expected):
    assert level(sample_values, stale, alert_levels, THRESHOLDS) == expected


def card(name, lvl):
    return Card(name, {}, None, lvl == "stale", lvl, ())


def test_cards_are_ordered_critical_warning_stale_ok_then_by_name_and_counted():
    cards = [card("a", "ok"), card("b", "stale"), card("c", "critical"), card("d", "warning"),
             card("aa", "critical"), card("e", "ok")]
    assert [c.name for c in by_attention(cards)] == ["aa", "c", "d", "b", "a", "e"]
    assert summary(cards) == {"critical": 2, "warning": 1, "stale": 1, "ok": 2}
    assert list(summary([])) == list(LEVELS) and set(summary([]).values()) == {0}


def alert(alert_id, host, lvl="warning", state="firing", name=None):
    return {"id": alert_id, "name": name or f"rule-{alert_id}", "level": lvl, "state": state,
            "host": host, "started_at": 1.0, "ended_at": None if state == "firing" else 2.0}


def test_firing_alerts_of_a_host_set_its_level_until_resolved(clock):
    fleet = Fleet(10, clock=clock, thresholds=THRESHOLDS)
    fleet.apply([Item(1, "metrics", clock.now, sample(host="web", cpu_percent=5.0))])
    assert [c.level for c in fleet.cards()] == ["ok"]
    assert fleet.apply([Item(2, "alert", clock.now, alert("x", "web", "error", name="disk")),
                        Item(3, "alert", clock.now, alert("y", "web", "warning", name="cpu"))])
    [web] = fleet.cards()
    assert web.level == "critical" and web.alerts == ("disk", "cpu")  # worst first
    fleet.apply([Item(4, "alert", clock.now, alert("x", "web", state="resolved"))])
    [web] = fleet.cards()
    assert web.level == "warning" and web.alerts == ("cpu",)
    # An alert of no host (raised by a program) plays no part: nothing changed.
    assert not fleet.apply([Item(5, "alert", clock.now, alert("z", None, "critical"))])


def test_load_reads_the_firing_alerts_of_each_host(live, clock):
    live.store.append("metrics", sample(host="db"), state_key="sample:db")
    live.store.append("alert", alert("q", "db", "critical"), state_key="alert:q")
    live.store.append("alert", alert("r", "db", "critical", state="resolved"), state_key="alert:r")
    fleet = Fleet(1e9, thresholds=THRESHOLDS)
    fleet.load(live.store)
    [db] = fleet.cards()
    assert db.level == "critical" and db.alerts == ("rule-q",)


def test_cards_are_made_once_per_change_and_again_when_a_host_turns_stale(clock):
    fleet = Fleet(10, clock=clock)
    fleet.apply([Item(1, "metrics", clock.now, sample(host="a"))])
    first = fleet.cards()
    clock.now += 10
    assert fleet.cards() is first  # nothing changed, nobody turned stale yet
    clock.now += 0.5
    again = fleet.cards()
    assert again is not first and again[0].stale
    fleet.apply([Item(2, "metrics", clock.now, sample(host="a"))])
    assert not fleet.cards()[0].stale
    assert fleet.ranked() is fleet.ranked()


def test_cards_remade_for_the_changed_hosts_only_match_cards_made_whole(clock):
    """With many hosts reporting, only the changed hosts' cards are made again (issue 29); the
    list must be the one a whole remake gives, through new hosts, alerts (the home host's
    too), containers, hosts turning stale and hosts forgotten."""
    import random

    rnd = random.Random(29)
    kept, whole = (Fleet(10, home="home", clock=clock, forget_after=60, thresholds=THRESHOLDS)
                   for _ in range(2))
    names = [f"h{n}" for n in range(30)] + ["home"]
    for n in range(400):
        host = rnd.choice(names)
        kind = rnd.random()
        if kind < 0.7:
            item = Item(n, "metrics", clock.now, sample(host=host, cpu_percent=rnd.uniform(0, 99)))
        elif kind < 0.85:
            item = Item(n, "alert", clock.now, alert(f"a{rnd.randrange(5)}", host,
                                                     rnd.choice(["warning", "critical"]),
                                                     state=rnd.choice(["firing", "resolved"])))
        elif kind < 0.95:
            item = Item(n, "containers", clock.now, {"host": host, "ts": clock.now,
                        "engine": rnd.choice(["Docker", None]),
                        "containers": [{"id": "ab", "name": "c", "state": rnd.choice(
                            ["running", "exited"]), "health": "none"}]})
        else:
            item = Item(n, "host-forgotten", clock.now, {"host": host})
        for fleet in (kept, whole):
            fleet.apply([item])
        clock.now += rnd.choice([0.1, 0.5, 3.0, 12.0])
        whole._cards = None  # made whole every time
        assert kept.cards() == whole.cards(), n
    assert len(kept.cards()) > 5
