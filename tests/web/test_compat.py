"""The compatibility layer's routes in-process (``app.web.compat``): who may use them, the
query-token rule, the prefix, and the agent backend's answer; each client's whole flow against
gunicorn is in ``tests/system/test_compat_*.py``."""

from __future__ import annotations

import json

import gevent
import pytest

from app.config import ConfigError, load_settings
from app.domain import accounts, apikeys, approvals

PASSWORD = "correct-horse-battery"


@pytest.fixture
def keyed(make_app):
    """An app with a person (so that nothing is open) and a key per scope: (app, client,
    {scope: "Bearer ..." headers})."""
    def make(**config):
        app = make_app(**config)
        store = app.extensions["dashboard"].store
        accounts.add(store, "ann", "operator", PASSWORD)
        keys = {}
        for scope in accounts.SCOPES:
            _, key = apikeys.add_key(store, f"{scope}-bot", [scope], by="t")
            keys[scope] = {"Authorization": f"Bearer {key}"}
        return app, app.test_client(), keys
    return make


def first_chunk(response) -> bytes:
    with gevent.Timeout(5):
        return next(iter(response.response))


def test_every_route_needs_a_key_and_the_agent_os_api_answers_in_its_shapes(keyed):
    app, client, keys = keyed()
    store = app.extensions["dashboard"].store
    for n, level in enumerate(("info", "critical", "warning")):
        client.post("/api/v1/events", json={"level": level, "message": f"m{n}"},
                    headers=keys["ingest"])
    for path in ("/api/metrics", "/api/events", "/api/metrics/stream", "/api/events/all",
                 "/api/v1/sse/tasks/t/progress", "/api/sse/events/s1", "/api/sse/health/s1"):
        response = client.get(path)
        assert response.status_code == 401 and response.is_json, path  # never a sign-in page
    response = client.post("/api/sse/permission-response/s1", json={"approved": True})
    assert response.status_code == 401
    assert client.get("/api/metrics", headers=keys["read"]).get_json() == {
        "counters": {"tasks_total": 0, "tasks_succeeded": 0, "tasks_failed": 0},
        "gauges": {"cpu_percent": None, "memory_percent": None, "success_rate": 0.0}}
    events = client.get("/api/events", headers=keys["read"]).get_json()
    assert [(e["message"], e["level"]) for e in events] == [
        ("m2", "warning"), ("m1", "error"), ("m0", "info")]
    assert set(events[0]) == {"id", "level", "message", "source", "timestamp"}
    assert events[0]["id"] == store.latest_id()
    response = client.get("/api/metrics/stream", headers=keys["read"], buffered=False)
    assert response.mimetype == "text/event-stream"
    assert json.loads(first_chunk(response).decode().removeprefix("data: "))["counters"]
    response.close()


def test_a_task_may_name_its_source_and_the_progress_path_404s_an_unknown_task(keyed):
    _, client, keys = keyed()
    body = {"state": "running", "progress": 5, "source": "session-1"}
    assert client.put("/api/v1/tasks/t1", json=body, headers=keys["ingest"]).get_json()[
        "source"] == "session-1"
    response = client.get("/api/v1/sse/tasks/nope/progress", headers=keys["read"])
    assert response.status_code == 404 and "nope" in response.get_json()["error"]
    response = client.get("/api/v1/sse/tasks/t1/progress", headers={"Authorization": "Bearer x"})
    assert response.status_code == 401
    response = client.get("/api/v1/sse/tasks/t1/progress", headers=keys["read"], buffered=False)
    first = first_chunk(response).decode()
    assert first.startswith("id: ") and "\nevent: progress\n" in first
    assert json.loads(first.split("data: ", 1)[1])["estimated_time"] is None
    response.close()


# -- the agent backend's answer and health ------------------------------------------------------

def ask(app, source, title="shell", asked_by="key:ask-bot"):
    return approvals.ask(app.extensions["dashboard"].store, title=title, source=source,
                         asked_by=asked_by)


def test_permission_response_answers_the_sessions_newest_pending_approval(keyed):
    app, client, keys = keyed()
    store = app.extensions["dashboard"].store
    url = "/api/sse/permission-response/s1"
    assert client.post(url, json={"approved": True}, headers=keys["operate"]).status_code == 404
    older, newer, other = ask(app, "s1", "older"), ask(app, "s1", "newer"), ask(app, "s2")
    for scope in ("read", "ingest", "ask"):
        assert client.post(url, json={"approved": True}, headers=keys[scope]).status_code == 403
    response = client.post(url, json={"approved": False, "reason": ""}, headers=keys["operate"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["success"] is True and body["message"] == "approval denied"
    assert body["approval"]["id"] == newer["id"] and body["approval"]["reason"] is None
    assert body["approval"]["by"] == "key:operate-bot"
    assert approvals.get(store, older["id"])["state"] == "pending"
    assert approvals.get(store, other["id"])["state"] == "pending"
    entry = store.audit_query(action="approval-answer")[0]
    assert (entry["who"], entry["target"]) == ("key:operate-bot", newer["id"])
    assert client.post(url, json={"approved": True, "by": "me"},
                       headers=keys["operate"]).status_code == 422  # who answers is the key
    # The key that asked may never answer it, whichever path it takes.
    _, key = apikeys.add_key(store, "agent", ["ask", "operate"], by="t")
    ask(app, "s3", asked_by="key:agent")
    response = client.post("/api/sse/permission-response/s3", json={"approved": True},
                           headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403 and "asked" in response.get_json()["error"]


def test_health_counts_the_sessions_streams(keyed):
    app, client, keys = keyed()
    assert client.get("/api/sse/health/s1", headers=keys["read"]).get_json() == {
        "success": True, "data": {"chat_session_id": "s1", "user_id": "key:read-bot",
                                  "connected": False, "subscriber_count": 0,
                                  "manager_status": "running"}}
    opened = [client.get("/api/sse/events/s1", headers=keys["read"], buffered=False)
              for _ in range(2)]
    for response in opened:
        first_chunk(response)
    data = client.get("/api/sse/health/s1", headers=keys["read"]).get_json()["data"]
    assert (data["connected"], data["subscriber_count"]) == (True, 2)
    for response in opened:
        response.close()
    assert client.get("/api/sse/health/s1", headers=keys["read"]).get_json()["data"][
        "subscriber_count"] == 0


# -- the query-token rule -----------------------------------------------------------------------

def test_a_key_in_the_query_string_only_with_the_setting_and_only_on_the_session_stream(keyed):
    _, client, keys = keyed()
    read = keys["read"]["Authorization"].removeprefix("Bearer ")
    response = client.get(f"/api/sse/events/s1?token={read}")
    assert response.status_code == 401
    assert "DASHBOARD_QUERY_TOKENS=1" in response.get_json()["error"]

    _, client, keys = keyed(QUERY_TOKENS=True)
    read = keys["read"]["Authorization"].removeprefix("Bearer ")
    response = client.get(f"/api/sse/events/s1?x=1&token={read}", buffered=False)
    assert response.status_code == 200 and first_chunk(response).startswith(b"retry: ")
    response.close()
    for path in ("/api/sse/health/s1", "/api/metrics", "/api/v1/events", "/api/metrics/stream"):
        assert client.get(f"{path}?token={read}").status_code == 401, path
    assert client.get(f"/api/sse/events/s1?%74oken={read}").status_code == 401  # exactly token=
    assert client.get("/api/sse/events/s1?token=dk_wrong").status_code == 401
    ingest = keys["ingest"]["Authorization"].removeprefix("Bearer ")
    assert client.get(f"/api/sse/events/s1?token={ingest}").status_code == 403  # scope checked
    # A header wins over the query string.
    assert client.get(f"/api/sse/events/s1?token={read}",
                      headers={"Authorization": "Bearer dk_wrong"}).status_code == 401


def test_wrong_query_tokens_are_throttled_like_wrong_headers(keyed):
    # A token configured at start: the throttle is installed (app.web.throttle.guessable).
    _, client, _ = keyed(QUERY_TOKENS=True, AUTH_FAILURES_PER_MINUTE=2,
                         INGEST_TOKEN="ingest-token-ingest-token")
    statuses = [client.get("/api/sse/events/s1?token=dk_wrong").status_code for _ in range(4)]
    assert statuses[:2] == [401, 401] and statuses[-1] == 429


# -- the prefix ---------------------------------------------------------------------------------

def test_the_prefix_mounts_the_agent_backends_paths_and_they_stay_program_paths(make_app):
    app = make_app(COMPAT_PREFIX="/agent_backend")
    client = app.test_client()
    assert client.get("/api/sse/health/s1").status_code == 404
    assert client.get("/agent_backend/api/sse/health/s1").get_json()["success"] is True
    assert client.get("/api/metrics").status_code == 200  # the others keep their paths
    # With nothing configured, a local program writes without an Origin, as under /api/.
    approvals.ask(app.extensions["dashboard"].store, title="t", source="s1")
    response = client.post("/agent_backend/api/sse/permission-response/s1",
                           json={"approved": True})
    assert response.status_code == 200 and response.get_json()["success"] is True
    response = client.post("/agent_backend/api/sse/permission-response/s1",
                           json={"approved": True})
    assert response.status_code == 404 and response.is_json


@pytest.mark.parametrize("prefix", ["agent_backend", "/agent_backend/", "/a b", "/a//b"])
def test_a_bad_prefix_stops_start_up_naming_the_setting(prefix):
    with pytest.raises(ConfigError, match="DASHBOARD_COMPAT_PREFIX"):
        load_settings({"COMPAT_PREFIX": prefix})
