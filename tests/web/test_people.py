"""People and programs: signing in with a password, sessions that end, who did it taken from the
credential, keys that never answer their own question, and the ``flask users`` commands."""

import time

import pytest

from app.domain import accounts
from app.domain import apikeys

PASSWORD = "correct-horse-battery"
ORIGIN = {"Origin": "http://localhost"}


@pytest.fixture
def people(make_app):
    """An app with three people (viewer, operator, admin) and a helper that signs one in."""
    app = make_app(SECRET_KEY="s" * 32)
    store = app.extensions["dashboard"].store
    for role in ("viewer", "operator", "admin"):
        accounts.add(store, f"{role[:3]}-person", role, PASSWORD)

    def sign_in(name, password=PASSWORD):
        client = app.test_client()
        answer = client.post("/login", data={"name": name, "password": password})
        return client, answer

    app.sign_in = sign_in
    return app


def audit_actions(app, **query):
    return [(e["action"], e["who"], e["target"])
            for e in app.extensions["dashboard"].store.audit_query(**query)]


def test_a_right_password_signs_in_and_is_recorded(people):
    client, answer = people.sign_in("ope-person")
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and PASSWORD not in cookie
    assert client.get("/").status_code == 200
    assert ("sign-in", "ope-person", "ope-person") in audit_actions(people)
    assert accounts.get(people.extensions["dashboard"].store, "ope-person")["last_sign_in"]


def test_passwords_are_hashed_with_argon2id_at_the_librarys_parameters():
    import argon2

    from tests.conftest import SHIPPED_HASHER  # the tests' own process uses a lighter one

    hasher = SHIPPED_HASHER()
    assert (hasher.time_cost, hasher.memory_cost, hasher.parallelism) == (
        argon2.DEFAULT_TIME_COST, argon2.DEFAULT_MEMORY_COST, argon2.DEFAULT_PARALLELISM)
    assert hasher.hash("a password").startswith("$argon2id$v=19$m=65536,t=3,p=4$")


@pytest.mark.parametrize("name,password", [("ope-person", "wrong-password!"),
                                           ("nobody", PASSWORD), ("", "")])
def test_a_wrong_name_or_password_gets_the_same_401(people, name, password):
    client, answer = people.sign_in(name, password)
    assert answer.status_code == 401
    assert "do not match an enabled account" in answer.get_data(as_text=True)
    assert client.get("/", headers={"Accept": "text/html"}).status_code == 303
    assert audit_actions(people)[0][:2] == ("sign-in-failed", "anonymous")


def test_failures_are_throttled_per_account_name(make_app, tmp_path):
    first = make_app(STORE_URL=f"sqlite:///{tmp_path / 'people.sqlite3'}")
    accounts.add(first.extensions["dashboard"].store, "target", "admin", PASSWORD)
    # Started with an account in the store: the limiter is installed (app.web.throttle).
    app = make_app(SECRET_KEY="s" * 32, AUTH_FAILURES_PER_MINUTE=3,
                   STORE_URL=f"sqlite:///{tmp_path / 'people.sqlite3'}")
    codes = []
    for i in range(5):  # from five addresses: the per-address limit never trips
        answer = app.test_client().post("/login", data={"name": "target", "password": "nope-nope"},
                                        environ_base={"REMOTE_ADDR": f"127.0.0.{i + 2}"})
        codes.append(answer.status_code)
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]


def test_next_goes_to_a_local_path_only(people):
    client = people.test_client()
    for wanted, goes in (("/fleet", "/fleet"), ("//evil.example/", "/"),
                         ("https://evil.example/", "/")):
        answer = client.post("/login", data={"name": "vie-person", "password": PASSWORD,
                                             "next": wanted})
        assert answer.headers["Location"] == goes


def test_sign_out_ends_the_session_for_good(people):
    client, _ = people.sign_in("adm-person")
    cookie = client.get_cookie("dashboard_session").value
    assert client.post("/logout", headers=ORIGIN).status_code == 303
    replay = people.test_client()
    replay.set_cookie("dashboard_session", cookie)
    assert replay.get("/", headers={"Accept": "text/html"}).status_code == 303
    assert audit_actions(people)[0][:2] == ("sign-out", "adm-person")


@pytest.mark.parametrize("change", [
    lambda store: accounts.set_disabled(store, "ope-person", True),
    lambda store: accounts.set_role(store, "ope-person", "viewer"),
    lambda store: accounts.set_password(store, "ope-person", "another-long-password"),
])
def test_an_account_change_ends_every_session_within_a_second(people, change):
    client, _ = people.sign_in("ope-person")
    other, _ = people.sign_in("ope-person")
    assert client.get("/").status_code == 200
    change(people.extensions["dashboard"].store)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and other.get("/api/v1/tasks").status_code == 200:
        time.sleep(0.05)
    for session in (client, other):
        assert session.get("/api/v1/tasks").status_code == 401
        answer = session.get("/poll", headers={"HX-Request": "true"})
        assert answer.status_code == 401 and answer.headers["HX-Redirect"] == "/login"


def test_a_session_lasts_the_lifetime_from_sign_in(make_app, monkeypatch):
    app = make_app(SECRET_KEY="s" * 32, SESSION_LIFETIME="60")
    accounts.add(app.extensions["dashboard"].store, "ann", "viewer", PASSWORD)
    client = app.test_client()
    client.post("/login", data={"name": "ann", "password": PASSWORD})
    assert client.get("/api/v1/tasks").status_code == 200
    later = time.time() + 61
    monkeypatch.setattr("app.web.auth.time.time", lambda: later)
    assert client.get("/api/v1/tasks").status_code == 401


def test_a_viewer_is_refused_with_the_role_it_needs(people):
    client, _ = people.sign_in("vie-person")
    answer = client.post("/ui/alerts/x/ack", headers=ORIGIN)
    assert answer.status_code == 403
    assert "operator" in answer.get_json()["error"] and answer.get_json()["needs"] == ["operate"]
    answer = client.delete("/api/v1/hosts/web1", headers=ORIGIN)
    assert answer.status_code == 403 and "admin" in answer.get_json()["error"]


def test_a_cookie_write_from_another_site_is_refused(people):
    client, _ = people.sign_in("adm-person")
    answer = client.post("/ui/alerts/x/ack", headers={"Origin": "http://evil.example"})
    assert answer.status_code == 403 and "Origin" in answer.get_json()["error"]


def raise_alert(app):
    from app.domain import alerts

    return alerts.raise_alert(app.extensions["dashboard"].store, name="disk", level="warning",
                              message="filling", source="cron")["id"]


def test_who_acknowledged_comes_from_the_credential(people):
    store = people.extensions["dashboard"].store
    alert_id = raise_alert(people)
    client, _ = people.sign_in("ope-person")
    assert client.post(f"/ui/alerts/{alert_id}/ack", headers=ORIGIN).status_code == 204
    assert client.get("/api/v1/alerts").get_json()[0]["acked_by"] == "ope-person"
    assert ("alert-ack", "ope-person", alert_id) in audit_actions(people)
    _, key = apikeys.add_key(store, "chat-bot", ["operate"], by="test")
    bearer = {"Authorization": f"Bearer {key}", "X-Relayed-For": "dana"}
    answer = people.test_client().post(f"/api/v1/alerts/{alert_id}/ack", headers=bearer)
    assert answer.get_json()["acked_by"] == "key:chat-bot for dana"


@pytest.mark.parametrize("path,body", [
    ("/api/v1/alerts/{id}/ack", {"by": "the-boss"}),
    ("/api/v1/silences", {"matchers": {"name": "x"}, "duration": 60, "by": "the-boss"}),
    ("/api/v1/approvals/{id}/response", {"approved": True, "by": "the-boss"}),
])
def test_a_by_in_the_body_is_refused(client, live, path, body):
    alert_id = raise_alert(client.application)
    before = live.store.latest_id()
    answer = client.post(path.format(id=alert_id), json=body)
    assert answer.status_code == 422
    assert "set by the server" in str(answer.get_json())
    assert live.store.latest_id() == before


def test_a_key_never_answers_what_it_asked(people):
    store = people.extensions["dashboard"].store
    _, key = apikeys.add_key(store, "both", ["ask", "operate"], by="test")
    bot = {"Authorization": f"Bearer {key}"}
    client = people.test_client()
    approval_id = client.post("/api/v1/approvals", json={"title": "Deploy?"}, headers=bot
                              ).get_json()["id"]
    answer = client.post(f"/api/v1/approvals/{approval_id}/response", json={"approved": True},
                         headers=bot)
    assert answer.status_code == 403 and "asked" in answer.get_json()["error"]
    operator, _ = people.sign_in("ope-person")
    answer = operator.post(f"/api/v1/approvals/{approval_id}/response",
                           json={"approved": True, "reason": ""}, headers=ORIGIN)
    assert answer.status_code == 200
    decided = answer.get_json()
    assert decided["by"] == "ope-person" and decided["reason"] is None
    assert decided["asked_by"] == "key:both"


def test_an_asking_key_sees_and_withdraws_only_its_own(people):
    store = people.extensions["dashboard"].store
    keys = {}
    for name in ("one", "two"):
        _, key = apikeys.add_key(store, name, ["ask"], by="test")
        keys[name] = {"Authorization": f"Bearer {key}"}
    client = people.test_client()
    mine = client.post("/api/v1/approvals", json={"title": "a"}, headers=keys["one"]).get_json()["id"]
    assert client.get(f"/api/v1/approvals/{mine}", headers=keys["one"]).status_code == 200
    assert client.get(f"/api/v1/approvals/{mine}", headers=keys["two"]).status_code == 404
    assert client.delete(f"/api/v1/approvals/{mine}", headers=keys["two"]).status_code == 404
    assert client.get("/api/v1/approvals", headers=keys["one"]).status_code == 403
    answer = client.delete(f"/api/v1/approvals/{mine}", headers=keys["one"])
    assert answer.status_code == 200 and answer.get_json()["by"] == "key:one"


def test_a_revoked_key_is_refused_at_once(people):
    store = people.extensions["dashboard"].store
    record, key = apikeys.add_key(store, "gone-soon", ["ingest"], by="test")
    client = people.test_client()
    bearer = {"Authorization": f"Bearer {key}"}
    assert client.post("/api/v1/events", json={"message": "hi"}, headers=bearer).status_code == 201
    apikeys.revoke_key(store, record["id"])
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and client.post(
            "/api/v1/events", json={"message": "hi"}, headers=bearer).status_code == 201:
        time.sleep(0.05)
    assert client.post("/api/v1/events", json={"message": "hi"}, headers=bearer).status_code == 401
    assert apikeys.keys(store)[0]["last_used"] is not None


def test_with_nothing_configured_a_local_client_is_an_admin(client):
    assert client.put("/api/v1/rules", json={"rules": []}).get_json()["by"] == "local"
    remote = client.put("/api/v1/rules", json={"rules": []},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 403


def test_once_an_account_exists_loopback_is_nobody(client, live):
    accounts.add(live.store, "first", "admin", PASSWORD)
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline and client.get("/api/v1/tasks").status_code == 200:
        time.sleep(0.05)
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/", headers={"Accept": "text/html"}).headers["Location"].startswith("/login")


# -- flask --app wsgi users ...

def test_the_users_commands(app, live):
    runner = app.test_cli_runner()
    added = runner.invoke(args=["users", "add", "erin", "--role", "operator", "--password-stdin"],
                          input="a-long-password-1\n")
    assert added.exit_code == 0, added.output
    assert accounts.verify_password(live.store, "erin", "a-long-password-1")["role"] == "operator"
    made = runner.invoke(args=["users", "add", "fay", "--generate"])
    shown = made.output.split("password (shown once): ")[1].strip()
    assert accounts.verify_password(live.store, "fay", shown)["role"] == "viewer"
    assert runner.invoke(args=["users", "set-role", "fay", "admin"]).exit_code == 0
    assert runner.invoke(args=["users", "disable", "erin"]).exit_code == 0
    assert accounts.get(live.store, "erin")["disabled"]
    assert runner.invoke(args=["users", "enable", "erin"]).exit_code == 0
    reset = runner.invoke(args=["users", "reset-password", "erin", "--generate"])
    assert reset.exit_code == 0 and "shown once" in reset.output
    listed = runner.invoke(args=["users", "list"]).output
    assert '"name": "erin"' in listed and "argon2" not in listed
    key = runner.invoke(args=["users", "key-add", "ci", "--scopes", "ingest,ask"])
    assert key.exit_code == 0 and "dk_" in key.output
    key_id = apikeys.keys(live.store)[0]["id"]
    assert "dk_" not in runner.invoke(args=["users", "key-list"]).output
    assert runner.invoke(args=["users", "key-revoke", key_id]).exit_code == 0
    bad = runner.invoke(args=["users", "add", "gil", "--password-stdin"], input="short\n")
    assert bad.exit_code != 0 and "at least" in bad.output
    actions = [e["action"] for e in live.store.audit_query(limit=100)]
    for action in ("account-add", "account-role", "account-disable", "account-enable",
                   "account-password", "key-add", "key-revoke"):
        assert action in actions


@pytest.mark.parametrize("backend", ["sqlite", "redis", "sentinel"])
def test_every_recorded_action_is_in_the_audit_log(make_app, request, backend):
    extra = ({"STORE_URL": request.getfixturevalue(f"{backend}_url")} if backend != "sqlite"
             else {})
    app = make_app(SECRET_KEY="s" * 32, **extra)
    store = app.extensions["dashboard"].store
    accounts.add(store, "root", "admin", PASSWORD)
    alert_id = raise_alert(app)
    store.set_state("sample:old-box", {"host": "old-box", "ts": 1.0})
    people = app.test_client()
    assert people.post("/login", data={"name": "root", "password": "nope-nope-nope"}
                       ).status_code == 401
    assert people.post("/login", data={"name": "root", "password": PASSWORD}).status_code == 303
    _, key = apikeys.add_key(store, "asker", ["ask"], by="test")
    approval_id = people.post("/api/v1/approvals", json={"title": "go?"},
                              headers={"Authorization": f"Bearer {key}"}).get_json()["id"]
    steps = [
        ("post", f"/api/v1/alerts/{alert_id}/ack", None),
        ("post", "/api/v1/silences", {"matchers": {"name": "x"}, "duration": 60}),
        ("put", "/api/v1/rules", {"rules": []}),
        ("delete", "/api/v1/hosts/old-box", None),
        ("post", f"/api/v1/approvals/{approval_id}/response", {"approved": False}),
    ]
    for method, path, body in steps:
        answer = getattr(people, method)(path, json=body, headers=ORIGIN)
        assert answer.status_code < 300, (path, answer.get_data(as_text=True))
    silence_id = store.audit_query(action="silence-create")[0]["target"]
    assert people.delete(f"/api/v1/silences/{silence_id}", headers=ORIGIN).status_code == 200
    assert people.post("/logout", headers=ORIGIN).status_code == 303
    entries = store.audit_query(limit=100)
    assert {e["action"] for e in entries} >= {
        "sign-in-failed", "sign-in", "alert-ack", "silence-create", "silence-end",
        "rules-replace", "host-forget", "approval-answer", "sign-out"}
    assert all(e["who"] == "root" and e["role"] == "admin" and e["address"] == "127.0.0.1"
               for e in entries if e["action"] not in ("sign-in-failed",))
