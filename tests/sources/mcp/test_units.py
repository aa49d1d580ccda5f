"""The MCP server's parts without a dashboard: the errors it makes of each answer, history
merged to at most 100 points, and waiting on an approval's stream that breaks (httpx2's mock
transport in place of the dashboard, anyio's clock left alone: the backoff is patched short)."""

from __future__ import annotations

import httpx2
import pytest

from app.sources.mcp import approval, reading
from app.sources.mcp.dashboard import Dashboard, DashboardError, NotFound, Unreachable, refusal
from tests.sources.mcp.client import run

URL = "http://dash.test"


def answer(status: int, body=None, **headers) -> httpx2.Response:
    request = httpx2.Request("GET", URL + "/api/v1/hosts")
    if isinstance(body, (dict, list)):
        return httpx2.Response(status, json=body, headers=headers, request=request)
    return httpx2.Response(status, text=body or "", headers=headers, request=request)


@pytest.mark.parametrize("response, has_key, expected", [
    (answer(401, {"error": "invalid key"}), True,
     "the dashboard refused the key (HTTP 401: invalid key): the key is wrong, revoked or "
     "expired; give the MCP server a valid one in DASHBOARD_API_KEY"),
    (answer(401, {"error": "sign in"}), False, "the dashboard wants a key (HTTP 401: sign in)"),
    (answer(403, {"error": "this needs a key with the ask scope", "needs": ["ask"]}), True,
     "the key lacks the scope this needs (HTTP 403: this needs a key with the ask scope); "
     "give the agent's key the scopes read, ingest and ask"),
    (answer(403, {"error": "writes without a key are for local clients only"}), False,
     "the dashboard refused (HTTP 403: writes without a key are for local clients only)"),
    (answer(429, {"error": "slow down"}, **{"Retry-After": "42"}), True,
     "the dashboard refuses this client for now after too many wrong keys (HTTP 429): retry "
     "after 42 s"),
    (answer(422, {"error": "invalid body", "details": [
        {"field": "title", "message": "String should have at least 1 character"}]}), True,
     "bad argument: title: String should have at least 1 character"),
    (answer(503, {"error": "the store is unavailable"}), True,
     "the dashboard cannot reach its store (HTTP 503: the store is unavailable); retry"),
    (answer(302, "", Location="https://sso.example/login"), True,
     "the dashboard answered a redirect to https://sso.example/login: --to must be its base "
     "URL (http://dash.test)"),
    (answer(502, "<html>\n<h1>Bad   gateway</h1>\n</html>"), True,
     "the dashboard answered HTTP 502: <html> <h1>Bad gateway</h1> </html>"),
])
def test_each_refusal_is_one_line_naming_its_cause(response, has_key, expected):
    error = refusal(response, URL, has_key)
    assert str(error).startswith(expected), str(error)
    assert "\n" not in str(error) and error.status == response.status_code


def test_a_404_is_not_found_and_a_400_names_its_fields():
    assert isinstance(refusal(answer(404, {"error": "no host"}), URL, True), NotFound)
    bad = refusal(answer(400, {"error": "invalid query parameter: host", "details": [
        {"field": "host", "message": "no host 'x'"}]}), URL, True)
    assert bad.fields == ("host",) and str(bad) == "bad argument: host: no host 'x'"


def test_history_is_merged_to_at_most_100_points():
    points = [{"t": float(t), "min": t % 7, "avg": t % 7 + 0.5, "max": t % 7 + 1, "count": 2}
              for t in range(1000)]
    merged, step = reading.merge(points, 60.0)
    assert len(merged) == 100 and step == 600.0
    assert merged[0] == {"t": 0.0, "min": 0, "avg": pytest.approx(sum(t % 7 + 0.5 for t in
                         range(10)) / 10), "max": 7, "count": 20}
    assert sum(p["count"] for p in merged) == 2000
    few, step = reading.merge(points[:40], None)
    assert few == points[:40] and step is None
    assert reading.merge([], 60.0) == ([], 60.0)


def stream(*messages: str) -> httpx2.Response:
    return httpx2.Response(200, text="".join(messages),
                           headers={"Content-Type": "text/event-stream"})


FINAL = ('event: permission_response\nid: 9\ndata: {"id": "a", "state": "denied", '
         '"approved": false, "reason": "no", "by": "olga", "at": 5.0}\n\n')


def run_follow(handler, give_up_at=float("inf"), clock=None):
    async def go():
        async with Dashboard(URL, "k", transport=httpx2.MockTransport(handler)) as dashboard:
            return await approval.follow(dashboard, "a", give_up_at,
                                         clock or (lambda: 0.0))

    return run(go)


def test_a_stream_that_breaks_is_resumed_after_its_last_id(monkeypatch):
    monkeypatch.setattr(approval, "BACKOFF_BASE", 0.01)
    seen = []

    def handler(request):
        seen.append(request.headers.get("Last-Event-ID"))
        if len(seen) == 1:  # the request, then the stream ends (a proxy, a restart)
            return stream('event: permission_request\nid: 7\ndata: {"id": "a"}\n\n')
        if len(seen) == 2:
            raise httpx2.ConnectError("connection refused")
        return stream(": ping\n\n", FINAL)

    assert run_follow(handler)["state"] == "denied"
    assert seen == [None, "7", "7"]


def test_waiting_gives_up_only_past_the_deadline_and_refusals_end_it(monkeypatch):
    monkeypatch.setattr(approval, "BACKOFF_BASE", 0.01)
    times = iter([0.0, 5.0, 11.0])

    def down(request):
        raise httpx2.ConnectError("connection refused")

    with pytest.raises(DashboardError, match="no answer from the dashboard about approval a"):
        run_follow(down, give_up_at=10.0, clock=lambda: next(times))

    def gone(request):
        return httpx2.Response(404, json={"error": "no approval 'a'"})

    with pytest.raises(NotFound, match="no approval 'a'"):
        run_follow(gone)


def test_unreachable_names_the_address():
    async def go():
        def down(request):
            raise httpx2.ConnectError("[Errno 111] Connection refused")

        async with Dashboard(URL, transport=httpx2.MockTransport(down)) as dashboard:
            await dashboard.call("GET", "/api/v1/hosts")

    with pytest.raises(Unreachable) as failed:
        run(go)
    assert str(failed.value) == (f"the dashboard at {URL} cannot be reached ([Errno 111] "
                                 "Connection refused): is it running, and is --to its address?")
