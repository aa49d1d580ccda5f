"""Who may do what: every write route and page action of the app's own URL map, tried with every
kind of credential, against a table written here by hand (not read from the views' declarations,
or the test would prove nothing). A route the table does not list fails the test."""

import pytest

from app.domain import accounts
from app.domain import apikeys

VIEW = "view-token-view-token"
INGEST = "ingest-token-ingest-token"
PASSWORD = "correct-horse-battery"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
ORIGIN = {"Origin": "http://localhost"}

CREDENTIALS = ("none", "view-token", "viewer", "operator", "admin", "key:read", "key:ingest",
               "key:ask", "key:operate", "key:admin", "ingest-token")
# Who is let through, by what the route does.
INGESTS = {"admin", "key:ingest", "ingest-token"}
ASKS = {"admin", "key:ask", "ingest-token"}
OPERATES = {"operator", "admin", "key:operate", "key:admin"}
ADMINS = {"admin", "key:admin"}
#: (method, rule) -> the credentials that are let through; all others get 401 (none) or 403.
TABLE = {
    ("POST", "/api/v1/events"): INGESTS,
    ("POST", "/api/v1/metrics"): INGESTS,
    ("POST", "/api/v1/samples"): INGESTS,
    ("PUT", "/api/v1/tasks/<task_id>"): INGESTS,
    ("POST", "/api/v1/alerts"): INGESTS,
    ("POST", "/api/v1/alerts/<alert_id>/resolve"): INGESTS,
    ("POST", "/api/v1/alerts/<alert_id>/ack"): OPERATES,
    ("POST", "/api/v1/silences"): OPERATES,
    ("DELETE", "/api/v1/silences/<silence_id>"): OPERATES,
    ("PUT", "/api/v1/rules"): ADMINS,
    ("DELETE", "/api/v1/hosts/<name>"): ADMINS,
    ("POST", "/api/v1/approvals"): ASKS,
    ("DELETE", "/api/v1/approvals/<approval_id>"): ASKS | ADMINS,
    ("POST", "/api/v1/approvals/<approval_id>/response"): OPERATES,
    ("POST", "/api/sse/permission-response/<session_id>"): OPERATES,  # the agent backend's
    ("POST", "/simulator/events"): INGESTS,
    ("POST", "/simulator/metrics"): INGESTS,
    ("POST", "/simulator/scenarios/<name>"): INGESTS,
    ("POST", "/simulator/host"): INGESTS,
    ("POST", "/ui/alerts/<alert_id>/ack"): OPERATES,
    ("POST", "/ui/alerts/<alert_id>/silence"): OPERATES,
    ("POST", "/ui/approvals/<approval_id>/response"): OPERATES,
    ("POST", "/ui/hosts/<name>/forget"): ADMINS,
    ("POST", "/ui/simulator/scenarios/<name>"): OPERATES,
    ("POST", "/ui/simulator/host"): OPERATES,
    ("POST", "/admin/accounts"): ADMINS,
    ("POST", "/admin/accounts/<name>/disable"): ADMINS,
    ("POST", "/admin/accounts/<name>/enable"): ADMINS,
    ("POST", "/admin/accounts/<name>/password"): ADMINS,
    ("POST", "/admin/accounts/<name>/role"): ADMINS,
    ("POST", "/admin/keys"): ADMINS,
    ("POST", "/admin/keys/<key_id>/revoke"): ADMINS,
    # A person's own language: people only (a key or the view token uses a ?lang= link).
    ("POST", "/ui/language"): {"viewer", "operator", "admin"},
    # Signing in and out is for anybody (the form checks what it is given).
    ("POST", "/login"): set(CREDENTIALS),
    ("POST", "/logout"): set(CREDENTIALS),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One app with a view token, an ingest token, a person of each role and a key of each
    scope; a test client per credential."""
    from app import create_app
    from tests.conftest import BASE_CONFIG

    store_path = tmp_path_factory.mktemp("access") / "store.sqlite3"
    app = create_app({**BASE_CONFIG, "STORE_URL": f"sqlite:///{store_path}", "VIEW_TOKEN": VIEW,
                      "INGEST_TOKEN": INGEST, "SECRET_KEY": "s" * 32,
                      "AUTH_FAILURES_PER_MINUTE": 1000})
    store = app.extensions["dashboard"].store
    clients, headers = {}, {}
    for role in ("viewer", "operator", "admin"):
        accounts.add(store, role, role, PASSWORD)
        clients[role] = app.test_client()
        answer = clients[role].post("/login", data={"name": role, "password": PASSWORD})
        assert answer.status_code == 303, answer.get_data(as_text=True)
    clients["view-token"] = app.test_client()
    assert clients["view-token"].post("/login", data={"token": VIEW}).status_code == 303
    for scope in accounts.SCOPES:
        _, key = apikeys.add_key(store, f"{scope}-bot", [scope], by="test")
        headers[f"key:{scope}"] = {"Authorization": f"Bearer {key}"}
    headers["ingest-token"] = {"Authorization": f"Bearer {INGEST}"}
    for name in ("none", *headers):
        clients[name] = app.test_client()
    yield app, clients, headers
    app.extensions["dashboard"].stop()
    store.close()


def concrete(rule: str) -> str:
    """A path of ``rule`` with ids nothing has: the view answers 404 or 422 once let in."""
    path = rule
    for name in ("task_id", "alert_id", "silence_id", "approval_id", "name", "key_id",
                 "session_id"):
        path = path.replace(f"<{name}>", "0123456789abcdef0123456789abcdef" if name ==
                            "approval_id" else "nothing-here")
    return path


def writes(app):
    return sorted((method, rule.rule) for rule in app.url_map.iter_rules()
                  for method in rule.methods & WRITES)


def test_every_write_route_is_in_the_table(world):
    app, _, _ = world
    missing = [route for route in writes(app) if route not in TABLE]
    assert not missing, f"add these to TABLE with who may use them: {missing}"


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_each_credential_gets_what_the_table_says(world, credential):
    app, clients, headers = world
    store = app.extensions["dashboard"].store
    client = clients[credential]
    wrong = []
    for method, rule in writes(app):
        if rule in ("/login", "/logout"):
            continue  # signing in and out is tried in test_login
        before = store.latest_id()
        answer = client.open(concrete(rule), method=method, json={},
                             headers={**ORIGIN, **headers.get(credential, {})})
        allowed = credential in TABLE[(method, rule)]
        refused = answer.status_code in (401, 403)
        expected = None if allowed else (401 if credential == "none" else 403)
        if allowed == refused or (expected and answer.status_code != expected):
            wrong.append((method, rule, answer.status_code, answer.get_data(as_text=True)[:120]))
        if refused:
            assert store.latest_id() == before, (method, rule, "a refused request wrote")
            if answer.status_code == 403 and credential != "none":
                assert "needs" in answer.get_json()["error"], answer.get_json()
    assert not wrong, "\n".join(map(str, wrong))
