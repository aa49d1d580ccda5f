"""A request body must arrive within DASHBOARD_BODY_TIMEOUT: in process (408) and on gunicorn
(the connection is closed)."""

import socket
import time

import gevent
import pytest

from tests.servers import Server, free_port


class _NeverArrives:
    """A ``wsgi.input`` whose body never comes (a client that announced one and went quiet)."""

    def read(self, *args):
        gevent.sleep(3600)

    readline = read


def test_a_body_that_never_arrives_is_408_after_the_timeout(make_app):
    app = make_app(BODY_TIMEOUT=0.2)
    started = time.monotonic()
    response = app.test_client().post(
        "/api/v1/events", content_type="application/json",
        environ_overrides={"wsgi.input": _NeverArrives(), "CONTENT_LENGTH": "100"})
    assert response.status_code == 408 and "0.2 s" in response.get_json()["error"]
    assert time.monotonic() - started < 5
    assert app.extensions["dashboard"].store.latest_id() == 0


def test_a_body_that_arrives_in_time_is_read(make_app):
    response = make_app(BODY_TIMEOUT=5).test_client().post("/api/v1/events",
                                                           json={"message": "in time"})
    assert response.status_code == 201


@pytest.mark.server
@pytest.mark.parametrize(("path", "content_type"), [
    ("/login", "application/x-www-form-urlencoded"), ("/api/v1/events", "application/json")])
def test_gunicorn_closes_a_connection_whose_body_never_comes(tmp_path, path, content_type):
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}", "DASHBOARD_SAMPLER": "0",
           "DASHBOARD_BODY_TIMEOUT": "1", "DASHBOARD_VIEW_TOKEN": "v1ew-token-v1ew-token",
           "DASHBOARD_INGEST_TOKEN": "1ngest-token-1ngest"}
    # With the key the write is let in, and waits for its body (a sign-in form needs none).
    key = "Authorization: Bearer 1ngest-token-1ngest\r\n" if path.startswith("/api/") else ""
    with Server(free_port(), env) as srv, socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
                     f"{key}Content-Type: {content_type}\r\n\r\n".encode())
        sock.settimeout(15)  # far above the 1 s limit: only a missing limit reaches it
        started = time.monotonic()
        received = b""
        try:
            while chunk := sock.recv(4096):
                received += chunk
        except ConnectionResetError:
            pass
        assert time.monotonic() - started < 10
        assert received == b"" or received.startswith(b"HTTP/1.1 408")
