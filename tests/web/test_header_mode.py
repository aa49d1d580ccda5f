"""Header mode (``DASHBOARD_AUTH_HEADER``) in-process: the header counts only from a trusted
proxy's address, and the ``Authorization: Basic`` a password-checking proxy passes on does not
get in its way. ``tests/system/test_header_auth.py`` does the same behind a real nginx."""

import pytest

PROXY = {"REMOTE_ADDR": "127.0.0.2"}
BASIC = {"Authorization": "Basic b2xnYTpzZWNyZXQ="}  # olga:secret, as nginx passes it on


@pytest.fixture
def header_app(make_app):
    return make_app(AUTH_HEADER="Remote-User", TRUSTED_PROXIES="127.0.0.2", SECRET_KEY="k" * 32)


@pytest.mark.parametrize("extra", [{}, BASIC])
def test_a_trusted_proxy_names_the_person(header_app, extra):
    client = header_app.test_client()
    response = client.post("/ui/alerts/x/ack", environ_base=PROXY,
                           headers={"Remote-User": "olga", "Origin": "http://localhost", **extra})
    assert response.status_code == 403  # a viewer: no account here
    assert "olga (viewer)" in response.get_json()["error"]


@pytest.mark.parametrize("extra", [{}, BASIC])
def test_the_header_from_another_peer_is_refused(header_app, extra):
    response = header_app.test_client().get("/", headers={"Remote-User": "admin", **extra})
    assert response.status_code == 403
    assert "DASHBOARD_TRUSTED_PROXIES" in response.get_json()["error"]


def test_basic_without_the_header_is_still_no_credential(header_app):
    response = header_app.test_client().get("/api/v1/alerts", environ_base=PROXY, headers=BASIC)
    assert response.status_code == 401
