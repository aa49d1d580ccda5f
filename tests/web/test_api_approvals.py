"""Approvals over HTTP: ask, answer once (409 after), expire (410), withdraw, list, follow (SSE),
the page's Approve / Deny action and the approvals region on the page."""

import json
import time

import gevent
import pytest

from app.web.headers import STREAM_HEADERS


ASK = {"title": "Deploy v2 to production?", "detail": "build 1432", "source": "ci"}


def ask(client, body=None, **headers):
    response = client.post("/api/v1/approvals", json=body or ASK, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def respond(client, approval_id, body):
    return client.post(f"/api/v1/approvals/{approval_id}/response", json=body)


def settle(live, after_id=None):
    """Let the tailer greenlet fold the store's items up to ``after_id`` (default: all)."""
    after_id = live.store.latest_id() if after_id is None else after_id
    with gevent.Timeout(5):
        while live.view.last_id < after_id:
            gevent.sleep(0.02)


def test_ask_stores_a_pending_approval(client, live):
    approval_id = ask(client)
    stored = client.get(f"/api/v1/approvals/{approval_id}").get_json()
    assert stored["state"] == "pending" and stored["title"] == ASK["title"]
    assert stored["timeout_seconds"] == 900  # 15 min by default
    assert stored["expires_at"] - stored["created_at"] == 900
    assert (stored["approved"], stored["reason"], stored["by"]) == (None, None, None)
    assert live.store.get_state(f"approval:{approval_id}") == stored


BAD = [
    # (body, content type, status, what the error mentions)
    ({}, "application/json", 422, "title"),
    ({"title": "   "}, "application/json", 422, "title"),
    ({"title": "x" * 201}, "application/json", 422, "title"),
    ({"title": "t", "detail": "x" * 2001}, "application/json", 422, "detail"),
    ({"title": "t", "source": "x" * 201}, "application/json", 422, "source"),
    ({"title": "t", "timeout_seconds": 9}, "application/json", 422, "timeout_seconds"),
    ({"title": "t", "timeout_seconds": 86_401}, "application/json", 422, "timeout_seconds"),
    ({"title": "t", "timeout_seconds": "600"}, "application/json", 422, "timeout_seconds"),
    ({"title": "t", "owner": "me"}, "application/json", 422, "owner"),
    ("[]", "application/json", 400, "object"),
    ("{nope", "application/json", 400, "JSON"),
    ("title=t", "application/x-www-form-urlencoded", 415, "JSON"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "mentions"), BAD)
def test_a_bad_question_is_refused_and_stores_nothing(client, live, body, content_type,
                                                      status, mentions):
    data = body if isinstance(body, str) else json.dumps(body)
    response = client.post("/api/v1/approvals", data=data, content_type=content_type)
    assert response.status_code == status and response.is_json
    assert mentions in json.dumps(response.get_json())
    assert live.store.latest_id() == 0


def test_the_first_answer_wins_and_later_ones_get_409_with_it(client, live):
    approval_id = ask(client)
    first = respond(client, approval_id, {"approved": False, "reason": "not now"})
    assert first.status_code == 200
    decided = first.get_json()
    assert (decided["state"], decided["approved"], decided["reason"], decided["by"]) == (
        "denied", False, "not now", "local")
    for body in ({"approved": True}, {"approved": False, "reason": ""}):
        late = respond(client, approval_id, body)
        assert late.status_code == 409 and late.is_json
        assert late.get_json()["approval"] == decided
    assert client.get(f"/api/v1/approvals/{approval_id}").get_json() == decided
    # The feed has who, what and why.
    [event] = [i.data for i in live.store.recent("event", 5)]
    assert event["message"] == "Denied: Deploy v2 to production? (by local): not now"
    assert event["source"] == "ci"


@pytest.mark.parametrize(("body", "mentions"), [
    ({}, "approved"), ({"approved": "yes"}, "approved"), ({"approved": 1}, "approved"),
    ({"approved": True, "reason": "x" * 501}, "reason"),
    ({"approved": True, "by": "ann"}, "set by the server"), ({"approved": True, "extra": 1}, "extra"),
])
def test_a_bad_answer_is_refused_and_changes_nothing(client, live, body, mentions):
    approval_id = ask(client)
    stored = live.store.latest_id()
    response = respond(client, approval_id, body)
    assert response.status_code == 422 and mentions in json.dumps(response.get_json())
    assert live.store.latest_id() == stored


def test_an_answer_after_the_deadline_gets_410_and_expires_it(client, live):
    approval_id = ask(client, {"title": "t", "timeout_seconds": 10})
    key = f"approval:{approval_id}"
    # The deadline passed (set in the store rather than waiting 10 s); nobody swept it yet.
    live.store.set_state(key, {**live.store.get_state(key), "expires_at": time.time() - 1})
    response = respond(client, approval_id, {"approved": True})
    assert response.status_code == 410
    assert response.get_json()["approval"]["state"] == "expired"
    assert client.get(f"/api/v1/approvals/{approval_id}").get_json()["state"] == "expired"
    assert respond(client, approval_id, {"approved": True}).status_code == 410
    assert client.delete(f"/api/v1/approvals/{approval_id}").status_code == 409


def test_get_expires_a_pending_one_past_its_deadline(client, live):
    approval_id = ask(client, {"title": "t", "timeout_seconds": 10})
    key = f"approval:{approval_id}"
    live.store.set_state(key, {**live.store.get_state(key), "expires_at": time.time() - 1})
    assert client.get(f"/api/v1/approvals/{approval_id}").get_json()["state"] == "expired"
    assert live.store.recent("event", 1)[0].data["message"] == "Expired: t"


def test_the_tailer_sweep_expires_due_approvals(client, live):
    approval_id = ask(client, {"title": "t", "timeout_seconds": 10})
    settle(live)
    assert approval_id in live.view.html["approvals"]
    key = f"approval:{approval_id}"
    # The view holds the pending approval; its deadline passes: the sweep (about once a
    # second) expires it through the store, and the region empties.
    live.view.approvals.by_id[approval_id]["expires_at"] = time.time() - 1
    live.store.set_state(key, {**live.store.get_state(key), "expires_at": time.time() - 1})
    with gevent.Timeout(5):
        while live.store.get_state(key)["state"] != "expired":
            gevent.sleep(0.05)
    settle(live)
    assert f'id="approval-{approval_id}"' not in live.view.html["approvals"]
    assert f'id="decided-{approval_id}"' in live.view.html["approvals"]


def test_withdraw(client):
    approval_id = ask(client)
    response = client.delete(f"/api/v1/approvals/{approval_id}")
    assert response.status_code == 200 and response.get_json()["state"] == "withdrawn"
    again = client.delete(f"/api/v1/approvals/{approval_id}")
    assert again.status_code == 409 and again.get_json()["approval"]["state"] == "withdrawn"
    assert respond(client, approval_id, {"approved": True}).status_code == 409
    answered = ask(client)
    respond(client, answered, {"approved": True})
    assert client.delete(f"/api/v1/approvals/{answered}").status_code == 409


@pytest.mark.parametrize("request_", [
    ("get", "/api/v1/approvals/{}"), ("delete", "/api/v1/approvals/{}"),
    ("get", "/api/v1/approvals/{}/stream"), ("post", "/api/v1/approvals/{}/response")])
@pytest.mark.parametrize("approval_id", ["0" * 32, "not-an-id", "..%2F..%2Fetc"])
def test_unknown_ids_are_404_json(client, request_, approval_id):
    method, path = request_
    response = getattr(client, method)(path.format(approval_id), json={"approved": True})
    assert response.status_code == 404 and response.is_json


def test_list_newest_first_filtered_and_bounded(client):
    ids = [ask(client, {"title": str(n)}) for n in range(3)]
    respond(client, ids[0], {"approved": True})
    assert [a["id"] for a in client.get("/api/v1/approvals").get_json()] == ids[::-1]
    assert [a["id"] for a in client.get("/api/v1/approvals?state=pending&limit=1").get_json()] \
        == [ids[2]]
    assert [a["id"] for a in client.get("/api/v1/approvals?state=approved").get_json()] == [ids[0]]
    for bad in ("?limit=201", "?limit=0", "?state=maybe"):
        assert client.get("/api/v1/approvals" + bad).status_code == 400
    # A parameter given twice is refused, not read as its first value (Schemathesis found it).
    twice = client.get("/api/v1/approvals?state=pending&state=approved")
    assert twice.status_code == 400 and twice.get_json()["details"] == [
        {"field": "state", "message": "give it once"}]


def test_the_ingest_token_asks_and_follows_its_own_but_never_answers(make_app):
    client = make_app(INGEST_TOKEN="s3cret-ingest-token",
                      VIEW_TOKEN="look-view-token-0").test_client()
    assert client.post("/api/v1/approvals", json=ASK).status_code == 401
    bearer = {"Authorization": "Bearer s3cret-ingest-token"}
    approval_id = ask(client, **bearer)
    assert client.get(f"/api/v1/approvals/{approval_id}").status_code == 401
    assert client.get(f"/api/v1/approvals/{approval_id}",
                      headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(f"/api/v1/approvals/{approval_id}", headers=bearer).status_code == 200
    assert client.get("/api/v1/events", headers=bearer).status_code == 403  # only approvals
    assert client.post(f"/api/v1/approvals/{approval_id}/response",
                       json={"approved": True}).status_code == 401
    assert client.post(f"/api/v1/approvals/{approval_id}/response", headers=bearer,
                       json={"approved": True}).status_code == 403
    assert client.delete(f"/api/v1/approvals/{approval_id}", headers=bearer).status_code == 200


# -- the stream over HTTP (its generator: tests/live/test_approvals.py) ---------------------------

def events_of(body: bytes) -> list[tuple[str, dict]]:
    found = []
    for block in body.decode().strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if not line.startswith(":"))
        found.append((fields["event"], json.loads(fields["data"]), int(fields["id"])))
    return [(event, data) for event, data, _ in found]


def test_stream_of_a_decided_approval_sends_request_then_response_and_ends(client, live):
    approval_id = ask(client)
    respond(client, approval_id, {"approved": True, "reason": "go"})
    settle(live)
    response = client.get(f"/api/v1/approvals/{approval_id}/stream")
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    for name, value in STREAM_HEADERS.items():  # the same headers as every stream
        assert response.headers[name] == value
    [(first, request), (second, answer)] = events_of(response.get_data())
    assert first == "permission_request" and request["id"] == approval_id
    assert second == "permission_response"
    assert {k: answer[k] for k in ("approved", "reason", "by")} == {
        "approved": True, "reason": "go", "by": "local"}
    assert answer["at"] > 0
    # A client that reconnects after the answer gets only the final event, at once.
    resumed = client.get(f"/api/v1/approvals/{approval_id}/stream",
                         headers={"Last-Event-ID": "3"})
    assert [event for event, _ in events_of(resumed.get_data())] == ["permission_response"]


def test_stream_of_a_withdrawn_approval_ends_with_cleared(client, live):
    approval_id = ask(client)
    client.delete(f"/api/v1/approvals/{approval_id}")
    response = client.get(f"/api/v1/approvals/{approval_id}/stream")
    [_, (event, data)] = events_of(response.get_data())
    assert event == "permission_cleared" and data["state"] == "withdrawn"


# -- the page --------------------------------------------------------------------------------------

PAGE = {"Origin": "http://localhost"}
HTMX = {**PAGE, "HX-Request": "true"}


def page_answer(client, approval_id, data, headers):
    return client.post(f"/ui/approvals/{approval_id}/response", data=data, headers=headers)


def test_the_region_lists_pending_approvals_newest_first_escaped_on_every_page(client, live):
    ask(client, {"title": "<b>first</b>", "detail": "<script>x</script>", "source": "a&b"})
    second = ask(client, {"title": "second", "timeout_seconds": 600})
    settle(live)
    html = client.get("/").get_data(as_text=True)
    region = html[html.index('<section id="approvals"'):html.index("</section>")]
    assert "&lt;b&gt;first&lt;/b&gt;" in region and "<b>first" not in region
    assert "&lt;script&gt;" in region and "<script>x" not in region and "a&amp;b" in region
    assert region.index("second") < region.index("first")  # newest first
    assert "asked <time" in region and "just now" in region and "9 min left" in region  # floor
    assert f'action="/ui/approvals/{second}/response"' in region
    assert f'hx-post="/ui/approvals/{second}/response"' in region
    assert "hx-on" not in region and "js:" not in region
    # The fragment route and the main page's <main> start with it.
    assert client.get("/fragments/approvals").get_data(as_text=True) == live.view.html["approvals"]
    assert html.index('id="approvals"') < html.index('id="fleet"')


def test_page_deny_with_a_reason_answers_204_to_htmx_and_the_card_leaves(client, live):
    approval_id = ask(client)
    settle(live)
    assert approval_id in live.view.html["approvals"]
    response = page_answer(client, approval_id, {"decision": "deny", "reason": " bad time "},
                           HTMX)
    assert response.status_code == 204
    stored = live.store.get_state(f"approval:{approval_id}")
    assert (stored["state"], stored["reason"], stored["by"]) == ("denied", "bad time", "local")
    settle(live)
    # No longer waiting: the card says who decided, for a while (app.view.approvals).
    assert f'id="approval-{approval_id}"' not in live.view.html["approvals"]
    assert f'id="decided-{approval_id}"' in live.view.html["approvals"]
    assert 'denied by <span class="by">local</span>' in live.view.html["approvals"]
    assert "Denied: Deploy v2 to production? (by local): bad time" in live.view.html["events"]


def test_page_approve_without_javascript_redirects_back(client, live):
    approval_id = ask(client)
    response = page_answer(client, approval_id, {"decision": "approve", "reason": ""},
                           {**PAGE, "Referer": "http://localhost/?host=web-2"})
    assert response.status_code == 303 and response.headers["Location"] == "/?host=web-2"
    stored = live.store.get_state(f"approval:{approval_id}")
    assert (stored["state"], stored["reason"]) == ("approved", None)


def test_page_refusals_are_html_for_htmx_and_json_otherwise(client):
    approval_id = ask(client)
    page_answer(client, approval_id, {"decision": "approve"}, HTMX)
    late = page_answer(client, approval_id, {"decision": "deny"}, HTMX)
    assert late.status_code == 409 and late.mimetype == "text/html"
    assert late.get_data(as_text=True).startswith('<p class="error" role="alert">')
    assert "approved by local" in late.get_data(as_text=True)
    native = page_answer(client, approval_id, {"decision": "deny"}, PAGE)
    assert native.status_code == 409 and native.get_json()["approval"]["state"] == "approved"
    assert page_answer(client, "0" * 32, {"decision": "deny"}, HTMX).status_code == 404
    bad = page_answer(client, ask(client), {"decision": "maybe"}, PAGE)
    assert bad.status_code == 422 and "decision" in json.dumps(bad.get_json())


def test_page_action_needs_this_dashboards_origin(client, live):
    approval_id = ask(client)
    response = page_answer(client, approval_id, {"decision": "approve"},
                           {"Origin": "http://evil.example", "HX-Request": "true"})
    assert response.status_code == 403
    assert live.store.get_state(f"approval:{approval_id}")["state"] == "pending"
