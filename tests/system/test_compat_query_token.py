"""The query-token rule against a real gunicorn with its access log on: a key in ``?token=``
is refused without ``DASHBOARD_QUERY_TOKENS=1``, accepted with it on the session stream (and
nowhere else), and absent from every line the server logs, gunicorn's access log included."""

from __future__ import annotations

import time

import httpx
import pytest

from app.domain import apikeys
from app.store import open_store
from tests.servers import Server, free_port
from tests.sse_client import SSEClient

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def key_store(tmp_path_factory):
    """A store path with a reading key, and the key."""
    path = tmp_path_factory.mktemp("query-token") / "store.sqlite3"
    store = open_store(f"sqlite:///{path}", log_size=10_000, poll_interval=0.1)
    try:
        _, key = apikeys.add_key(store, "chat-ui", ["read"], by="test")
    finally:
        store.close()
    return path, key


def serve(path, **env) -> Server:
    return Server(free_port(), {"DASHBOARD_STORE_URL": f"sqlite:///{path}",
                                "DASHBOARD_SAMPLER": "0", "DASHBOARD_HEARTBEAT": "1",
                                "GUNICORN_ACCESSLOG": "-", **env})


def assert_never_logged(server: Server, key: str) -> str:
    """The server's whole output once the access log has the last request; the key and its
    secret part are nowhere in it."""
    time.sleep(0.5)  # a detached stream is logged once its first message went out
    log = server.log
    assert key not in log and key.rsplit("_", 1)[-1] not in log
    return log


def test_refused_without_the_setting(key_store):
    path, key = key_store
    with serve(path) as server:
        response = httpx.get(f"{server.url}/api/sse/events/s1?token={key}")
        assert response.status_code == 401
        assert "DASHBOARD_QUERY_TOKENS=1" in response.json()["error"]
        # The same key as a header is fine: only the query string is refused.
        with SSEClient(f"{server.url}/api/sse/events/s1",
                       {"Authorization": f"Bearer {key}"}) as es:
            assert es.response.status_code == 200
            es.next(timeout=3)
        log = assert_never_logged(server, key)
    assert '"GET /api/sse/events/s1?token=[redacted] HTTP/1.1" 401' in log


def test_accepted_with_it_on_the_session_stream_only_and_never_logged(key_store):
    path, key = key_store
    with serve(path, DASHBOARD_QUERY_TOKENS="1") as server:
        with SSEClient(f"{server.url}/api/sse/events/s1?token={key}") as es:
            assert es.response.status_code == 200
            assert es.next(timeout=3).retry == 1000
            health = httpx.get(f"{server.url}/api/sse/health/s1",
                               headers={"Authorization": f"Bearer {key}"}).json()
            assert health["data"]["subscriber_count"] == 1
        for path_ in ("/api/sse/health/s1", "/api/metrics", "/api/v1/events"):
            assert httpx.get(f"{server.url}{path_}?token={key}").status_code == 401, path_
        wrong = httpx.get(f"{server.url}/api/sse/events/s1?token=dk_0123456789ab_wrongwrong")
        assert wrong.status_code == 401
        log = assert_never_logged(server, key)
    assert "dk_0123456789ab_wrongwrong" not in log
    assert '"GET /api/sse/events/s1?token=[redacted] HTTP/1.1" 200' in log
    assert '"GET /api/metrics?token=[redacted] HTTP/1.1" 401' in log
    assert "bearer key failed from 127.0.0.1 (GET /api/sse/events/s1)" in log
