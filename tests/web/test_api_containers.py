"""``GET /api/v1/containers?host=`` and an agent's ``--containers`` list through
``POST /api/v1/samples``."""

from __future__ import annotations

from app.domain import accounts
from app.sources.containers import EngineOff, with_containers
from tests.web.test_api_samples import agent_sample, post

ROWS = [{"id": "0a", "name": "db", "image": "postgres:17", "state": "running",
         "health": "healthy", "started": 1_700_000_000.0, "restarts": 0, "cpu_percent": 3.0,
         "mem_used": 900.0, "mem_limit": 1000.0, "mem_percent": 90.0, "command": "postgres"},
        {"id": "0b", "name": "web", "image": "nginx", "state": "running", "health": "none",
         "started": 1_700_000_000.0, "restarts": 2, "cpu_percent": 30.0, "mem_used": 10.0,
         "mem_limit": 1000.0, "mem_percent": 1.0},
        {"id": "0c", "name": "job", "image": "busybox", "state": "exited", "exit_code": 1,
         "started": 1_600_000_000.0, "restarts": 0}]


def test_an_agents_list_is_kept_and_read_back_running_first(client, live):
    body = {"samples": [agent_sample(containers={"engine": "Docker 27", "containers": ROWS})]}
    assert post(client, body).status_code == 202
    assert [i.kind for i in live.store.since(0)] == ["metrics", "containers"]
    assert "containers" not in live.store.get_state("sample:agent-1")
    listed = client.get("/api/v1/containers?host=agent-1").get_json()
    assert listed["engine"] == "Docker 27"
    assert [r["name"] for r in listed["containers"]] == ["web", "db", "job"]
    assert listed["containers"][0]["uptime"] > 0 and listed["containers"][2]["uptime"] is None
    assert all("command" not in r for r in listed["containers"])  # DASHBOARD_SHOW_CMDLINE off
    by_memory = client.get("/api/v1/containers?host=agent-1&sort=memory").get_json()
    assert [r["name"] for r in by_memory["containers"]] == ["db", "web", "job"]


def test_unknown_hosts_and_bad_queries(client):
    answer = client.get("/api/v1/containers?host=nobody")
    assert answer.status_code == 404 and "no container list" in answer.get_json()["error"]
    assert client.get("/api/v1/containers?sort=name").status_code == 400
    bad = {"samples": [agent_sample(containers={"engine": "x", "containers": [
        {**ROWS[0], "health": "sick"}]})]}
    assert post(client, bad).status_code == 422


def test_a_viewer_may_read_it(make_app):
    app = make_app(SECRET_KEY="s" * 32)
    store = app.extensions["dashboard"].store
    accounts.add(store, "vera", "viewer", "correct-horse-battery")
    viewer = app.test_client()
    viewer.post("/login", data={"name": "vera", "password": "correct-horse-battery"})
    assert viewer.get("/api/v1/containers?host=x").status_code == 404  # let in, nothing there
    assert app.test_client().get("/api/v1/containers?host=x",
                                 headers={"Host": "dash.example"}).status_code in (401, 403)


class Engine:
    def __init__(self):
        self.client, self.version, self.up, self.closed = None, "Docker 27", False, 0

    def connect(self):
        self.client = object() if self.up else None
        return self.up

    def close(self):
        self.client, self.closed = None, self.closed + 1

    def rows(self):
        if not self.up:
            raise EngineOff("gone")
        return [dict(r) for r in ROWS]

    def read_stats(self, rows):
        pass


def test_the_agent_adds_its_list_every_so_often():
    engine, now = Engine(), [0.0]
    take = with_containers(lambda: {"host": "a"}, engine, 5.0, clock=lambda: now[0])
    assert take()["containers"] == {"engine": None, "containers": []}
    assert "containers" not in take()  # not due yet
    engine.up = True
    now[0] = 5.0
    assert take()["containers"]["engine"] == "Docker 27"
    engine.up = False
    now[0] = 10.0
    assert take()["containers"] == {"engine": None, "containers": []} and engine.closed == 2
