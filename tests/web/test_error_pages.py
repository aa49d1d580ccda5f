"""Error pages and htmx error fragments in the request's language (app.web.errors); the JSON
answers of the same errors stay English."""

import pytest

from tests.web.test_api_approvals import HTMX, ask, page_answer

PAGE = {"Accept": "text/html"}


@pytest.fixture
def client(make_app):
    """Not pytest-flask's: it would share one ``g`` (and the language) across requests."""
    return make_app().test_client()


def test_an_error_page_is_in_the_readers_language(client):
    chinese = client.get("/?host=no-such&lang=zh_Hans", headers=PAGE)
    html = chinese.get_data(as_text=True)
    assert chinese.status_code == 404 and chinese.mimetype == "text/html"
    assert '<html lang="zh-Hans">' in html and "404 · 未找到" in html
    assert "未知主机“no-such”：存储中还没有它的采样" in html
    assert "unknown host" not in html and "Not found" not in html
    english = client.get("/?host=no-such&lang=en", headers=PAGE)
    html = english.get_data(as_text=True)
    assert english.status_code == 404 and "404 · Not found" in html
    assert "unknown host &#39;no-such&#39;: no sample of it has reached the store" in html


def test_werkzeugs_own_pages_are_replaced_by_a_translated_one(client):
    response = client.get("/no/such/page?lang=zh_Hans", headers=PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and "404 · 未找到" in html and "返回仪表盘" in html
    assert "requested URL" not in html  # Werkzeug's English boilerplate


def test_text_that_exists_only_in_english_is_marked_so(client):
    response = client.get("/fleet?sort=nope&lang=zh_Hans", headers=PAGE)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "400 · 请求有误" in html
    assert '<p class="error" lang="en">' in html


def test_an_htmx_fragment_is_in_the_readers_language_and_escaped(client):
    client.get("/?lang=zh_Hans")  # the cookie
    response = client.post("/ui/alerts/<b>x/ack", headers=HTMX)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert html == '<p class="error" role="alert">没有 ID 为“&lt;b&gt;x”的告警</p>'
    approval_id = ask(client)
    page_answer(client, approval_id, {"decision": "approve"}, HTMX)
    late = page_answer(client, approval_id, {"decision": "deny"}, HTMX)
    assert late.status_code == 409
    assert late.get_data(as_text=True) == (
        f'<p class="error" role="alert">审批“{approval_id}”已被 local 处理（已批准）</p>')


def test_json_answers_stay_english(client):
    client.get("/?lang=zh_Hans")  # the cookie, which JSON answers ignore
    chinese = {"Accept-Language": "zh-CN"}
    fragment = client.get("/fragments/nope", headers={**chinese, "Accept": "application/json"})
    assert fragment.status_code == 404
    assert fragment.get_json()["error"].startswith("unknown region 'nope'; known: ")
    missing = client.get("/api/v1/approvals/nope", headers=chinese)
    assert missing.status_code == 404 and missing.get_json() == {"error": "no approval 'nope'"}
    approval_id = ask(client)
    page_answer(client, approval_id, {"decision": "approve"}, HTMX)
    late = client.post(f"/api/v1/approvals/{approval_id}/response",
                       json={"approved": False}, headers=chinese)
    assert late.status_code == 409
    assert late.get_json()["error"] == f"approval '{approval_id}' was approved by local already"


def test_an_account_refusal_is_in_the_readers_language(client):
    client.get("/?lang=zh_Hans")  # the cookie; a local client is an admin
    refused = client.post("/admin/accounts", data={"name": "bob", "role": "<i>root</i>"},
                          headers=HTMX)
    assert refused.status_code == 422
    assert refused.get_data(as_text=True) == (
        '<p class="error" role="alert">未知角色“&lt;i&gt;root&lt;/i&gt;”；'
        '可选：viewer, operator, admin</p>')
    as_json = client.post("/admin/accounts", data={"name": "bob", "role": "<i>root</i>"},
                          headers={**HTMX, "Accept": "application/json"})
    assert as_json.get_json() == {
        "error": "unknown role '<i>root</i>'; one of viewer, operator, admin"}
