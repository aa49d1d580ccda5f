"""``GET /api/v1/history``: JSON and CSV, coarsening, its 400s; and every writer of samples
recording them in the history exactly once."""

import csv
import io
import json
import math
import re
import time

import pytest

from app.domain import history_fill
from app.domain.history import HISTORY_KEYS

HOST = "home-host"


@pytest.fixture
def app(make_app):
    return make_app(HOST_NAME=HOST)


def get(client, **params):
    return client.get("/api/v1/history", query_string=params)


def test_a_range_answers_json_oldest_first(client, live):
    now = time.time()
    for n in range(5):
        live.store.record_history(HOST, now - 50 + n, {"cpu_percent": 10.0 + n})
    response = get(client, metric="cpu_percent", range="5m")
    assert response.status_code == 200 and response.is_json
    body = response.get_json()
    assert (body["host"], body["metric"], body["step"]) == (HOST, "cpu_percent", None)
    assert [p["avg"] for p in body["points"]] == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert body["points"][0] == {"t": math.floor(now - 50), "min": 10.0,
                                 "avg": 10.0, "max": 10.0, "count": 1}
    assert "Accept" in response.headers["Vary"]


def test_from_and_to_and_step(client, live):
    now = math.floor(time.time())
    start = now - now % 3600 - 7200
    live.store.write_history(HOST, "1m", [(start + 60 * n, {"load1": (n, n, n, 1)})
                                          for n in range(120)])
    body = get(client, metric="load1", **{"from": start - 86400, "to": start + 3600},
               step=600).get_json()
    assert body["step"] == 600 and len(body["points"]) == 6
    assert body["points"][0] == {"t": start, "min": 0.0, "avg": 4.5, "max": 9.0, "count": 10}
    # 25 hours or so over 1,000 points: 2-minute buckets, from the minutes.
    assert get(client, metric="load1", **{"from": start - 86400}).get_json()["step"] == 120


def test_a_filled_week_comes_back_in_at_most_1000_points(client, live):
    history_fill.fill(live.store, HOST, 7)
    for range_, step in (("24h", 120), ("7d", 900), ("1h", 5), ("30d", 3600), ("1y", 43200)):
        body = get(client, metric="cpu_percent", range=range_).get_json()
        assert len(body["points"]) <= 1000 and body["step"] == step, range_
        assert body["points"], range_
        assert all(0 <= p["min"] <= p["avg"] <= p["max"] <= 100 for p in body["points"])
    week = get(client, metric="net_rx_bps", range="7d").get_json()["points"]
    # One hour down: a gap. The week's first minute is whole when the fill began on a minute.
    assert sum(p["count"] for p in week) <= 7 * 86400 - 3600


def test_csv_has_a_header_row_and_the_same_points(client, live):
    now = time.time()
    live.store.record_history(HOST, now - 10, {"mem_percent": 42.5})
    response = get(client, metric="mem_percent", range="5m")
    as_csv = client.get("/api/v1/history?metric=mem_percent&range=5m",
                        headers={"Accept": "text/csv"})
    assert as_csv.status_code == 200 and as_csv.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(as_csv.get_data(as_text=True))))
    assert rows[0] == ["t", "min", "avg", "max", "count"]
    assert [[float(x) for x in row] for row in rows[1:]] == [
        [p["t"], p["min"], p["avg"], p["max"], p["count"]]
        for p in response.get_json()["points"]]


def test_custom_metrics_are_charted_under_their_series_key(client, live):
    client.post("/api/v1/metrics", data=json.dumps({"metrics": [
        {"name": "queue_depth", "value": 7, "labels": {"queue": "mail"}}]}),
        content_type="application/json")
    body = get(client, metric='custom:queue_depth{queue="mail"}', range="1h").get_json()
    assert body["host"] == HOST and [p["avg"] for p in body["points"]] == [7.0]


def test_other_hosts_are_queried_by_name(client, live):
    history_fill.fill(live.store, "db-1", 1)
    live.store.append("metrics", history_fill.latest_sample("db-1"), state_key="sample:db-1")
    body = get(client, metric="disk_percent", range="24h", host="db-1").get_json()
    assert body["host"] == "db-1" and len(body["points"]) > 500


@pytest.mark.parametrize("params, field", [
    ({"metric": "nope", "range": "1h"}, "metric"),
    ({"metric": "uptime", "range": "1h"}, "metric"),
    ({"metric": "custom:never-pushed", "range": "1h"}, "metric"),
    ({"range": "1h"}, "metric"),
    ({"metric": "cpu_percent", "range": "2h"}, "range"),
    ({"metric": "cpu_percent", "range": "1h", "from": "1"}, "range"),
    ({"metric": "cpu_percent", "from": "200", "to": "100"}, "from"),
    ({"metric": "cpu_percent", "to": "100"}, "from"),
    ({"metric": "cpu_percent", "from": "yesterday"}, "from"),
    ({"metric": "cpu_percent", "host": "nobody"}, "host"),
    ({"metric": "cpu_percent", "host": "bad host!"}, "host"),
    ({"metric": "cpu_percent", "step": "0"}, "step"),
    ({"metric": "cpu_percent", "step": "-60"}, "step"),
    ({"metric": "cpu_percent", "bogus": "1"}, "bogus"),
])
def test_bad_parameters_are_400_naming_them(client, params, field):
    response = get(client, **params)
    assert response.status_code == 400 and response.is_json
    body = response.get_json()
    assert field in body["error"] and field in [d["field"] for d in body["details"]]


def test_reads_need_the_view_session(make_app):
    app = make_app(VIEW_TOKEN="v1ew-token-v1ew-token", SECRET_KEY="k" * 32)
    response = app.test_client().get("/api/v1/history?metric=cpu_percent")
    assert response.status_code == 401


# -- the made-up past ------------------------------------------------------------------------------

def test_the_command_fills_a_host_and_gives_it_a_latest_sample(app):
    result = app.test_cli_runner().invoke(args=["history-fill", "--host", "db-1", "--days", "1"])
    assert result.exit_code == 0, result.output
    assert re.match(r"db-1: 86400 raw samples, 144[01] one-minute and 2[45] one-hour points",
                    result.output)
    live = app.extensions["dashboard"]
    assert live.store.get_state("sample:db-1")["host"] == "db-1"
    assert len(live.store.history("db-1", "mem_used", "1m", 0, time.time() + 1)) in (1440, 1441)
    bad = app.test_cli_runner().invoke(args=["history-fill", "--host", "no host"])
    assert bad.exit_code == 2 and "--host" in bad.output


def test_the_simulator_scenario_fills_this_hosts_week(client, live):
    response = client.post("/simulator/scenarios/history")
    assert response.status_code == 202
    body = response.get_json()
    assert body["host"] == live.settings.host_name and body["points"]["1m"] in (7 * 1440 - 60, 7 * 1440 - 59)
    week = client.get("/api/v1/history", query_string={"metric": "cpu_percent", "range": "7d"})
    assert len(week.get_json()["points"]) > 600


# -- writers ------------------------------------------------------------------------------------

def agent_sample(ts, host="agent-1", cpu=12.5):
    return {"host": host, "ts": ts, "cpu_percent": cpu, "cpu_count": 4, "mem_percent": 40.0,
            "mem_used": 4 << 30, "mem_total": 8 << 30, "disk_percent": 50.0,
            "disk_used": 50 << 30, "disk_total": 100 << 30, "net_rx_bps": 1536.0,
            "net_tx_bps": 0.0, "load1": 0.5, "load5": 0.4, "load15": 0.3, "uptime": 93784,
            "temperature": None}


def test_agent_samples_are_recorded_once_even_when_sent_again(client, live):
    now = time.time()
    body = json.dumps({"samples": [agent_sample(now - 2, cpu=10.0), agent_sample(now - 1, cpu=30.0)]})
    for _ in range(2):  # the agent retries a batch whose answer it lost
        assert client.post("/api/v1/samples", data=body,
                           content_type="application/json").status_code == 202
    got = live.store.history_many("agent-1", HISTORY_KEYS, "1h", now - 7200, now + 1)
    assert {k: [p[4] for p in v] for k, v in got.items() if v} == {
        k: [2] for k in HISTORY_KEYS if k in agent_sample(0) and k != "temperature"}
    assert get(client, metric="cpu_percent", host="agent-1", range="5m").get_json()[
        "points"][-1]["avg"] == 30.0


def test_the_sampler_records_each_sample_once(make_app):
    import gevent

    app = make_app(HOST_NAME=HOST, SAMPLER=True, SAMPLE_INTERVAL=0.1)
    live = app.extensions["dashboard"]
    live.start()
    with gevent.Timeout(20):
        while len(live.store.recent("metrics", 10)) < 5:
            gevent.sleep(0.05)
    live.stop()
    samples = [i.data for i in live.store.find("metrics", limit=1000, where={"host": HOST})]
    points = live.store.history(HOST, "cpu_percent", "raw", 0, time.time() + 1)
    # Once each, by whole second (the raw tier keeps one a second).
    assert sorted({math.floor(s["ts"]) for s in samples}) == [p[0] for p in points]
    minutes = live.store.history(HOST, "mem_percent", "1m", 0, time.time() + 1)
    assert sum(p[4] for p in minutes) == len(points)


def test_one_client_has_at_most_its_share_of_history_reads_in_progress(app, monkeypatch):
    """A client that sends many history reads at once gets 429 past
    DASHBOARD_HISTORY_READS_PER_CLIENT (2) in progress; another client is not affected, and the
    first may read again once its reads are done (issue "Hardening, round two", 6 and 9)."""
    import gevent
    import gevent.event

    from app.domain import history
    from app.view import compare

    release = gevent.event.Event()
    real_query, real_draw = history.query, compare.draw

    def slow(real):
        def wait_then(*args, **kwargs):
            release.wait(30)
            return real(*args, **kwargs)
        return wait_then

    monkeypatch.setattr(history, "query", slow(real_query))
    monkeypatch.setattr(compare, "draw", slow(real_draw))
    one, other = ({"REMOTE_ADDR": address} for address in ("192.0.2.1", "192.0.2.2"))
    client = app.test_client()
    reads = [gevent.spawn(client.get, "/api/v1/history?metric=cpu_percent&range=1h", environ_base=one),
             gevent.spawn(client.get, "/fleet/compare/chart?range=6h", environ_base=one)]
    with gevent.Timeout(30):
        while sum(app.extensions.get("history_reads", {}).values()) < 2:
            gevent.sleep(0.01)
    for path in ("/api/v1/history?metric=cpu_percent&range=24h", "/fleet/compare?range=7d"):
        refused = client.get(path, environ_base=one, headers={"Accept": "application/json"})
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert "DASHBOARD_HISTORY_READS_PER_CLIENT" in refused.get_json()["error"]
    third = gevent.spawn(client.get, "/api/v1/history?metric=cpu_percent&range=24h", environ_base=other)
    release.set()
    gevent.joinall([*reads, third], timeout=30, raise_error=True)
    assert [read.value.status_code for read in (*reads, third)] == [200, 200, 200]
    assert app.extensions["history_reads"] == {}
    assert client.get("/api/v1/history?metric=cpu_percent&range=1h", environ_base=one).status_code == 200
