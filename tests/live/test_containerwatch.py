"""The containers reader with a stand-in engine: off said once and stored, picked up again
without a restart, statistics only while someone views the host, a history series cap, and the
region it feeds (hidden with no engine, engine text escaped)."""

from __future__ import annotations

import dataclasses

import logging
import time

import gevent
import gevent.event

from app.domain import containers
from app.live.containerwatch import RETRY, ContainerWatch
from app.sources.containers import EngineOff


class FakeEngine:
    """Answers like :class:`app.sources.containers.Engine`; ``up`` says whether it runs."""

    def __init__(self, rows):
        self.rows_now, self.up, self.client = rows, False, None
        self.environ, self.address, self.version = {}, "unix:///fake.sock", "Docker 99"
        self.stats_reads = 0
        self.feed = gevent.event.Event()  # set: the events stream ends (the engine went away)

    def connect(self):
        self.client = object() if self.up else None
        return self.up

    def close(self):
        self.client = None

    def rows(self, changed=frozenset()):
        if not self.up:
            raise EngineOff("gone")
        return [dict(r) for r in self.rows_now]

    def read_stats(self, rows):
        self.stats_reads += 1
        for row in rows:
            row.update(cpu_percent=1.5, mem_used=100, mem_limit=1000, mem_percent=10.0)

    def events(self):
        self.feed.wait()
        raise EngineOff("stream ended")
        yield  # a generator, like the real one


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def watch_of(live, rows, **settings):
    engine, clock = FakeEngine(rows), Clock()
    watch = ContainerWatch(live.store, dataclasses.replace(
        live.settings, host_name="h", container_interval=1.0, **settings), engine, clock)
    return watch, engine, clock


ROW = {"id": "abcdef012345", "name": "<b>web</b>", "image": "x\" onmouseover=\"y",
       "state": "running", "exit_code": None, "oom_killed": False, "health": "none",
       "started": 1.0, "restarts": 0}


def test_no_engine_is_said_once_then_picked_up_without_a_restart(live, caplog):
    watch, engine, clock = watch_of(live, [ROW])
    with caplog.at_level(logging.INFO, logger="app.live.containerwatch"):
        for _ in range(3):
            watch.tick()
            clock.now += RETRY
    offs = [r for r in caplog.records if "source is off" in r.getMessage()]
    assert len(offs) == 1
    assert containers.latest(live.store, "h") is None  # never on: nothing to take back
    engine.up = True
    watch.tick()
    found = containers.latest(live.store, "h")
    assert found["engine"] == "Docker 99" and found["containers"][0]["name"] == "<b>web</b>"
    # It goes away: said once more, and stored, so the page drops the region.
    engine.up = False
    engine.feed.set()
    gevent.sleep(0)  # the events reader ends
    clock.now += RETRY
    watch.tick()
    assert containers.latest(live.store, "h")["engine"] is None
    watch.close()


def test_statistics_only_while_someone_views_the_host(live):
    watch, engine, clock = watch_of(live, [ROW])
    engine.up = True
    watch.tick()
    for _ in range(3):
        clock.now += 2
        watch.tick()
    assert engine.stats_reads == 0
    assert "cpu_percent" not in containers.latest(live.store, "h")["containers"][0]
    live.store.set_state("viewers:other", {"count": 1, "ts": time.time(), "hosts": {"h": 1}})
    clock.now += 2
    watch.tick()
    gevent.sleep(0)  # the reading runs in a greenlet of its own; it wakes the loop
    assert engine.stats_reads == 1 and watch.wake.is_set()
    watch.tick()
    assert containers.latest(live.store, "h")["containers"][0]["cpu_percent"] == 1.5
    watch.close()


def test_history_keeps_at_most_the_configured_containers(live):
    rows = [{**ROW, "id": f"{n:012x}", "name": f"c{n}"} for n in range(5)]
    watch, engine, clock = watch_of(live, rows, container_series=2)
    engine.up = True
    recorded = []
    live.store.record_history = lambda host, ts, values: recorded.append(values)
    live.store.set_state("viewers:other", {"count": 1, "ts": time.time(), "hosts": {"h": 1}})
    watch.tick()
    gevent.sleep(0)  # the reading
    assert sorted(recorded[0]) == ["container_cpu:c0", "container_cpu:c1",
                                   "container_memory:c0", "container_memory:c1"]
    watch.close()


def test_the_region_is_hidden_without_an_engine_and_escapes_engine_text(live):
    view = live.view.sibling("h")
    containers.record(live.store, "h", 1.0, [], None, False)
    view.load(live.store)
    assert 'id="containers" class="panel containers" hx-swap-oob="true" hidden' in (
        view.html["containers"])
    assert "hidden" in view.html["container-counts"]
    containers.record(live.store, "h", 2.0, [ROW], "Docker <99>", False)
    view.load(live.store)
    html = view.html["containers"]
    assert "&lt;b&gt;web&lt;/b&gt;" in html and "<b>web" not in html
    assert 'x&#34; onmouseover' in html and "Docker &lt;99&gt;" in html
    assert "1</span> <span class=\"unit\">running" in view.html["container-counts"]


def test_the_history_panel_charts_the_busiest_containers(live):
    now = time.time()
    rows = [{**ROW, "id": f"{n:012x}", "name": f"c{n}<i>", "cpu_percent": float(n),
             "mem_used": 1000 * n, "mem_limit": 10**9, "mem_percent": 0.1} for n in range(7)]
    live.store.record_history("h", now - 30, {"container_cpu:c6<i>": 6.0,
                                              "container_memory:c6<i>": 6000.0})
    containers.record(live.store, "h", now, rows, "Docker 99", False)
    for range_name in ("live", "1h"):
        view = live.view.sibling("h", range_name)
        view.load(live.store)
        charts = view.html["charts"]
        assert "Containers: CPU" in charts and "Containers: memory" in charts
        assert "c6&lt;i&gt;" in charts and "c1&lt;i&gt;" not in charts  # the 5 busiest only
    # A later list folds in as it comes (live: its figures; every range: which are charted).
    view = live.view.sibling("h")
    view.load(live.store)
    later = [{**row, "cpu_percent": 50.0 if row["name"] == "c0<i>" else 0.0} for row in rows]
    containers.record(live.store, "h", now + 5, later, "Docker 99", False)
    view.apply(live.store.since(view.last_id))
    assert any(k.startswith("container_cpu:c0") for s in view.panel.container_specs
               for k, _ in s.keys)


def test_hosts_compared_by_a_containers_series(app, live):
    from app.view.compare import BadCompare, Comparisons, check
    from app.view.timeaxis import zone_of

    now = time.time()
    for host, cpu in (("a", 30.0), ("b", 70.0)):
        live.store.record_history(host, now - 30, {"container_cpu:web": cpu})
    assert check("container_cpu:web", "1h") == "1h"
    for bad in ("container_cpu:<b>", "container_disk:web"):
        try:
            check(bad, "1h")
        except BadCompare as exc:
            assert exc.param == "metric"
        else:
            raise AssertionError(f"{bad} was taken")
    rendered = Comparisons(app.jinja_env, zone_of("UTC")).get(
        live.store, ["a", "b"], "container_cpu:web", "live", now)
    assert "CPU of container web" in rendered.html
    assert rendered.html.index(">b<") < rendered.html.index(">a<")  # busiest first
