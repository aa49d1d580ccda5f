"""``GET /api/v1/hosts``, ``GET /api/v1/hosts/<name>``, ``DELETE /api/v1/hosts/<name>`` and the
page's "Forget this host" (``app.domain.hosts``)."""

import time

import gevent
import pytest

from app.domain import alerts, hosts
from tests.web.test_api_samples import agent_sample, post
from tests.web.test_auth import REMOTE, TOKEN
from tests.web.test_poll import settle

ORIGIN = {"Origin": "http://localhost"}


def report(client, live, host="agent-1", **values):
    """Post one sample of ``host`` and let the tailer fold it."""
    response = post(client, {"samples": [agent_sample(host, **{"ts": time.time(), **values})]})
    assert response.status_code == 202, response.text
    settle(live, response.get_json()["ids"][-1])


DISKS = [{"mount": "/", "device": "/dev/sda1", "fstype": "ext4", "percent": 61.0,
          "used": 61 << 30, "total": 100 << 30}]


def test_the_hosts_list_their_level_and_figures_worst_first(client, live):
    report(client, live, "agent-1", cpu_percent=12.5)
    report(client, live, "agent-2", cpu_percent=99.0)  # over the critical threshold
    before = time.time()
    rows = client.get("/api/v1/hosts").get_json()
    names = [row["name"] for row in rows]
    assert names.index("agent-2") < names.index("agent-1")
    [one] = [row for row in rows if row["name"] == "agent-1"]
    assert before - 10 < one.pop("last_seen") <= before
    assert one == {"name": "agent-1", "level": "ok", "stale": False, "cpu_percent": 12.5,
                   "mem_percent": 40.0, "disk_percent": 50.0, "load1": 0.5, "alerts": []}
    assert [row for row in rows if row["name"] == "agent-2"][0]["level"] == "critical"
    # This dashboard's own host is listed before its first sample, as never seen.
    [home] = [row for row in rows if row["name"] == live.settings.host_name]
    assert home["last_seen"] is None and home["stale"] and home["cpu_percent"] is None


def test_one_host_has_its_sample_and_firing_alerts(client, live):
    report(client, live, "agent-1", cpu_percent=95.0, disks=DISKS,
           processes=[{"pid": 1, "name": "init", "cpu_percent": 1.0, "mem_percent": 0.1,
                       "rss": 1024}])
    hot = alerts.save(live.store, {
        "id": "a1", "name": "hot", "level": "critical", "state": "firing", "message": "hot",
        "host": "agent-1", "metric": "cpu_percent", "source": "rule", "started_at": time.time(),
        "ended_at": None, "value": 95.0, "peak": 95.0, "acked_by": None, "acked_at": None})
    alerts.save(live.store, {**hot, "id": "a2", "host": "agent-2"})
    settle(live, live.store.latest_id())
    body = client.get("/api/v1/hosts/agent-1").get_json()
    assert body["name"] == "agent-1" and body["level"] == "critical"
    assert body["alerts"] == ["hot"] and body["firing"] == [hot]
    assert body["sample"]["cpu_percent"] == 95.0 and body["sample"]["disks"] == DISKS
    assert "processes" not in body["sample"]  # GET /api/v1/processes has them
    response = client.get("/api/v1/hosts/nobody")
    assert response.status_code == 404 and "unknown host 'nobody'" in response.get_json()["error"]


def test_reading_the_hosts_needs_the_read_scope(make_app):
    app = make_app()
    from app.domain import apikeys

    store = app.extensions["dashboard"].store
    _, reader = apikeys.add_key(store, "reader", ["read"], by="t")
    _, writer = apikeys.add_key(store, "writer", ["ingest"], by="t")
    client = app.test_client()
    for path in ("/api/v1/hosts", f"/api/v1/hosts/{app.config['SETTINGS'].host_name}"):
        assert client.get(path, headers={"Authorization": f"Bearer {reader}"}).status_code == 200
        refused = client.get(path, headers={"Authorization": f"Bearer {writer}"})
        assert refused.status_code == 403 and refused.get_json()["needs"] == ["read"]
        assert client.get(path, environ_base=REMOTE).status_code == 401


def test_delete_drops_the_host_everywhere(client, live):
    # No runtime: optional in an agent's rows (the table shows "–").
    report(client, live, "agent-1", processes=[{"pid": 1, "name": "init", "cpu_percent": 1.0,
                                                 "mem_percent": 0.1, "rss": 1024}])
    assert "<td>init<td>" in client.get("/fragments/processes?host=agent-1").text
    report(client, live, "agent-2")
    assert client.get("/fragments/cpu?host=agent-1").status_code == 200
    live.view.refresh("fleet")  # as the tailer's sweep does each second
    assert 'href="/?host=agent-1"' in live.view.html["fleet"]

    response = client.delete("/api/v1/hosts/agent-1")

    assert response.status_code == 204 and response.data == b""
    store = live.store
    assert store.get_state("sample:agent-1") is None
    assert store.get_state("processes:agent-1") is None
    assert store.history("agent-1", "cpu_percent", "raw", 0, time.time() + 9) == []
    assert store.history("agent-2", "cpu_percent", "raw", 0, time.time() + 9) != []
    settle(live, store.latest_id())
    assert "agent-1" not in live.fleet and "agent-2" in live.fleet
    live.view.refresh("fleet")
    assert 'href="/?host=agent-1"' not in live.view.html["fleet"]
    assert "agent-1" not in client.get("/api/v1/metrics").get_json()["hosts"]
    # Its page was open: it says the host is gone, with blank figures.
    page = client.get("/?host=agent-1")
    assert page.status_code == 200
    assert "agent-1 was forgotten." in page.text
    assert '<span class="number">12.5</span>' not in page.text
    # A page made afresh: no such host any more.
    assert client.get("/fragments/cpu?host=agent-1&range=1h").status_code == 404


def test_a_host_that_reports_again_reappears(client, live):
    report(client, live, "agent-1")
    assert client.delete("/api/v1/hosts/agent-1").status_code == 204
    report(client, live, "agent-1", cpu_percent=77.0)
    assert live.store.get_state("sample:agent-1")["cpu_percent"] == 77.0
    assert "agent-1" in live.fleet
    page = client.get("/?host=agent-1").text
    assert "was forgotten" not in page and '<span class="number">77.0</span>' in page


def test_forgetting_a_host_resolves_the_alerts_its_rules_raised(make_app):
    app = make_app(ALERT_RULES=[{"metric": "cpu_percent", "op": ">", "value": 90,
                                 "level": "critical", "name": "hot"}])
    client, live = app.test_client(), app.extensions["dashboard"]
    live.start()

    def hot_alerts():
        return [a for a in alerts.all_alerts(live.store) if a["name"] == "hot"]

    # Hot samples until the rule runner (which starts at the log's end when it takes its
    # lease) has seen one: wide bounds, on a shared machine.
    with gevent.Timeout(30):
        while not hot_alerts():
            report(client, live, "agent-1", cpu_percent=95.0)
            gevent.sleep(0.2)
    assert hot_alerts()[0]["state"] == "firing" and hot_alerts()[0]["host"] == "agent-1"

    assert client.delete("/api/v1/hosts/agent-1").status_code == 204
    with gevent.Timeout(30):
        while hot_alerts()[0]["state"] == "firing":
            gevent.sleep(0.05)
    [alert] = hot_alerts()
    assert alert["state"] == "resolved"
    events = [i.data["message"] for i in live.store.since(0) if i.kind == "event"]
    assert "Resolved: hot (host forgotten)" in events
    # Back again and still hot: a new alert fires, not the old one.
    with gevent.Timeout(30):
        while len(hot_alerts()) < 2:
            report(client, live, "agent-1", cpu_percent=96.0)
            gevent.sleep(0.2)
    assert {a["state"] for a in hot_alerts()} == {"firing", "resolved"}


def test_an_unknown_host_is_404_json(client, live):
    response = client.delete("/api/v1/hosts/nobody")
    assert response.status_code == 404 and response.is_json
    assert "nobody" in response.get_json()["error"]
    assert live.store.latest_id() == 0


def test_a_host_a_dashboard_samples_itself_is_409(make_app):
    app = make_app(HOST_NAME="self-host", SAMPLER=True)
    store = app.extensions["dashboard"].store
    store.set_state("sample:self-host", {"host": "self-host", "ts": 1.0})
    store.set_state("sample:other", {"host": "other", "ts": 1.0})
    assert store.lease("sampler:other", "another-dashboard", 60)
    client = app.test_client()
    for name in ("self-host", "other"):
        response = client.delete(f"/api/v1/hosts/{name}")
        assert response.status_code == 409 and "samples" in response.get_json()["error"]
        assert hosts.known(store, name)


def test_writes_rules_apply(make_app, client, live):
    report(client, live, "agent-1")
    # No token: loopback only.
    response = client.delete("/api/v1/hosts/agent-1", environ_base=REMOTE)
    assert response.status_code == 403 and "DASHBOARD_INGEST_TOKEN" in response.get_json()["error"]
    assert hosts.known(live.store, "agent-1")
    # With a token: 401 without it or with a wrong one, from loopback too.
    token_app = make_app(INGEST_TOKEN=TOKEN)
    token_app.extensions["dashboard"].store.set_state("sample:agent-1", {"host": "agent-1"})
    token_client = token_app.test_client()
    for headers in ({}, {"Authorization": "Bearer wrong-wrong-wrong-wrong"}):
        response = token_client.delete("/api/v1/hosts/agent-1", headers=headers)
        assert response.status_code == 401 and "WWW-Authenticate" in response.headers
    assert hosts.known(token_app.extensions["dashboard"].store, "agent-1")
    # The ingest token may not forget hosts (it is every agent's); an admin key may.
    response = token_client.delete("/api/v1/hosts/agent-1",
                                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 403 and "admin" in response.get_json()["error"]
    from app.domain import apikeys

    _, key = apikeys.add_key(token_app.extensions["dashboard"].store, "ops", ["admin"], by="t")
    response = token_client.delete("/api/v1/hosts/agent-1",
                                   headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 204
    assert not hosts.known(token_app.extensions["dashboard"].store, "agent-1")


# -- the page action ---------------------------------------------------------------------------

def test_another_hosts_page_offers_forget_behind_a_confirmation(client, live):
    report(client, live, "agent-1")
    page = client.get("/?host=agent-1").text
    assert "<details>" in page and "<summary>Forget this host…</summary>" in page
    assert '<form method="post" action="/ui/hosts/agent-1/forget">' in page
    # Not on this dashboard's own host's page.
    assert "Forget this host" not in client.get("/").text


def test_the_button_forgets_and_goes_back_to_the_own_page(client, live):
    report(client, live, "agent-1")
    response = client.post("/ui/hosts/agent-1/forget", headers=ORIGIN)
    assert response.status_code == 303 and response.location == "/?forgotten=agent-1"
    assert not hosts.known(live.store, "agent-1")
    settle(live, live.store.latest_id())
    page = client.get(response.location).text
    assert "agent-1 was forgotten: its card, sample and history are gone." in page
    # Only a host name is echoed.
    assert "was forgotten" not in client.get("/?forgotten=%3Cb%3Ex").text


@pytest.mark.parametrize("headers", [{}, {"Origin": "http://evil.example"}])
def test_the_button_needs_this_dashboards_origin(client, live, headers):
    report(client, live, "agent-1")
    response = client.post("/ui/hosts/agent-1/forget", headers=headers)
    assert response.status_code == 403
    assert hosts.known(live.store, "agent-1")


def test_the_button_on_an_unknown_host_is_404(client):
    assert client.post("/ui/hosts/nobody/forget", headers=ORIGIN).status_code == 404
