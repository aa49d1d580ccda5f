"""Header mode behind a real nginx (Debian's): nginx checks a password (``auth_basic``) and
names the person in ``Remote-User``; the dashboard believes that header only from the
address nginx connects from (``proxy_bind 127.0.0.2``, ``DASHBOARD_TRUSTED_PROXIES``), so a
client on 127.0.0.1 that sends it straight to gunicorn is refused."""

from __future__ import annotations

import re
import subprocess

import httpx
import pytest

from app.domain import accounts
from app.store import open_store
from tests.nginx import Nginx
from tests.servers import ROOT, Server, free_port

pytestmark = pytest.mark.server

#: The manual's header-mode block, as a user copies it (docs/people.md, "Header mode").
HEADER_BLOCK = re.search(r"## Header mode.*?```nginx\n(.*?)```",
                         (ROOT / "docs" / "people.md").read_text(), re.S | re.I).group(1)
INGEST = "ingest-token-for-header-tests"
PASSWORDS = {"olga": "olga-password", "vera": "vera-password"}


def htpasswd(path) -> None:
    """An htpasswd file of :data:`PASSWORDS`, hashed as ``htpasswd`` would (apr1 MD5)."""
    lines = [f"{name}:" + subprocess.run(["openssl", "passwd", "-apr1", password],
                                          capture_output=True, text=True, check=True).stdout.strip()
             for name, password in PASSWORDS.items()]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module", params=["readme", "passes-authorization"])
def stack(request, tmp_path_factory):
    """gunicorn in header mode, with olga an operator here and vera unknown (a viewer), and
    nginx in front with the manual's block, or that block without its line that keeps the
    client's ``Authorization: Basic`` from the app (as many proxies pass it on); yields
    ``(gunicorn, nginx, alert id)``."""
    folder = tmp_path_factory.mktemp("header")
    url = f"sqlite:///{folder / 'store.sqlite3'}"
    store = open_store(url, log_size=10_000, poll_interval=0.1)
    accounts.add(store, "olga", "operator", None, source="header")
    store.close()
    htpasswd(folder / "htpasswd")
    block = HEADER_BLOCK.replace("/etc/nginx/dashboard.htpasswd", str(folder / "htpasswd"))
    if request.param == "passes-authorization":
        block, dropped = re.subn(r"\n *proxy_set_header Authorization .*", "", block)
        assert dropped == 1
    env = {"DASHBOARD_STORE_URL": url, "DASHBOARD_AUTH_HEADER": "Remote-User",
           "DASHBOARD_TRUSTED_PROXIES": "127.0.0.2", "DASHBOARD_INGEST_TOKEN": INGEST,
           "DASHBOARD_SECRET_KEY": "s" * 32}
    with Server(free_port(), env) as server, \
            Nginx(free_port(), server.port, block, folder / "nginx") as proxy:
        raised = httpx.post(server.url + "/api/v1/alerts", json={"name": "disk", "message": "m"},
                            headers={"Authorization": f"Bearer {INGEST}"})
        assert raised.status_code == 201, raised.text
        yield server, proxy, raised.json()["id"]


def as_person(proxy, name, **headers):
    return httpx.Client(base_url=proxy.url, auth=(name, PASSWORDS[name]),
                        headers={"Origin": proxy.url, **headers}, timeout=10)


def test_nginx_asks_for_a_password_first(stack):
    _, proxy, _ = stack
    assert httpx.get(proxy.url + "/").status_code == 401
    assert httpx.get(proxy.url + "/", auth=("olga", "wrong")).status_code == 401


def test_an_operator_signed_in_at_nginx_acts_under_their_own_name(stack):
    _, proxy, alert = stack
    with as_person(proxy, "olga") as olga:
        page = olga.get("/")
        assert page.status_code == 200 and 'id="live"' in page.text, page.text
        assert olga.post(f"/ui/alerts/{alert}/ack").status_code == 204
        listed = olga.get("/api/v1/alerts").json()
    assert [a["acked_by"] for a in listed if a["id"] == alert] == ["olga"]


@pytest.mark.parametrize("extra", [{}, {"Remote-User": "olga"}])
def test_a_viewer_may_look_but_not_act_whatever_header_they_add(stack, extra):
    _, proxy, alert = stack
    with as_person(proxy, "vera", **extra) as vera:
        assert vera.get("/").status_code == 200
        refused = vera.post(f"/ui/alerts/{alert}/ack")
    assert refused.status_code == 403
    assert "vera (viewer)" in refused.json()["error"]


@pytest.mark.parametrize(("method", "path"), [("GET", "/"), ("GET", "/api/v1/alerts"),
                                              ("POST", "/ui/alerts/x/ack")])
def test_the_header_straight_to_gunicorn_is_refused(stack, method, path):
    server, _, _ = stack
    response = httpx.request(method, server.url + path,
                             headers={"Remote-User": "admin", "Origin": server.url})
    assert response.status_code == 403
    assert "DASHBOARD_TRUSTED_PROXIES" in response.json()["error"]
