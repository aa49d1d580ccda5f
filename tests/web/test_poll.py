"""The page, /poll and /fragments: the same region templates, with ETag = the latest log id."""

import re

import gevent
from flask import request
import pytest

from app.view.ranges import SPANS
from app.view.regions import REGIONS


def settle(live, after_id):
    """Let the tailer greenlet fold the store's new items into the view."""
    with gevent.Timeout(5):
        while live.view.last_id < after_id:
            gevent.sleep(0.02)


def test_page_has_every_region_and_opens_the_stream(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for name in REGIONS:
        assert f'id="{name}"' in html, name
    host = client.application.config["SETTINGS"].host_name
    assert f'hx-sse:connect="/stream?host={host}"' in html
    assert '<script src="/vendor/htmx.min.js"></script>' in html
    assert '<script src="/vendor/hx-sse.min.js"></script>' in html
    assert '<noscript><meta http-equiv="refresh"' in html
    assert "CONNECTING" in html


def test_poll_transport_page_polls_instead(client):
    html = client.get("/?transport=poll").get_data(as_text=True)
    host = client.application.config["SETTINGS"].host_name
    assert "hx-sse:connect" not in html
    assert f'hx-get="/poll?host={host}" hx-trigger="every 2s"' in html


@pytest.mark.parametrize("name", ["htmx.min.js", "hx-sse.min.js"])
def test_htmx_is_served_from_node_modules(client, name):
    with client.get(f"/vendor/{name}") as response:  # closes the file it streams
        assert response.status_code == 200
        assert "javascript" in response.mimetype
        assert len(response.data) > 1000


def test_vendor_serves_only_its_whitelist(client):
    assert client.get("/vendor/package.json").status_code == 404
    assert client.get("/vendor/..%2Fpackage.json").status_code == 404


def test_poll_sends_every_region_as_an_out_of_band_swap(client):
    response = client.get("/poll")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for name in REGIONS + ("badge",):
        assert f'id="{name}"' in html, name
    # approvals morphs instead (it keeps a reason being typed): see templates/_approvals.html
    assert html.count('hx-swap-oob="true"') == len(REGIONS)
    assert html.count('hx-swap-oob="outerMorph"') == 1
    assert "POLLING" in html
    assert response.headers["Cache-Control"] == "no-cache"


def test_poll_is_304_while_nothing_changed(client, live):
    first = client.get("/poll")
    etag = first.headers["ETag"]
    assert etag == f'"{live.store.latest_id()}"'
    again = client.get("/poll", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""

    event_id = client.post("/api/v1/events", json={"message": "changed"}).get_json()["id"]
    settle(live, event_id)
    changed = client.get("/poll", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] == f'"{event_id}"'
    assert "changed" in changed.get_data(as_text=True)


def test_fragment_is_one_region_with_an_etag(client):
    response = client.get("/fragments/cpu")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<div id="cpu"')
    assert 'id="memory"' not in html
    assert client.get("/fragments/cpu",
                      headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


def test_unknown_fragment_is_404(client):
    response = client.get("/fragments/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "cpu" in response.get_json()["error"]
    htmx = client.get("/fragments/nope", headers={"HX-Request": "true"})
    assert htmx.status_code == 404 and 'role="alert"' in htmx.get_data(as_text=True)


def _flask_requests(app) -> list[str]:
    """Record the path of every request that reaches Flask (past the WSGI middleware)."""
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.full_path))
    return seen


def test_an_unchanged_poll_is_answered_before_flask(app, client, live):
    seen = _flask_requests(app)
    etag = client.get("/poll").headers["ETag"]  # through Flask, which starts the live view
    for tag in (etag, f"W/{etag}"):
        response = client.get("/poll", headers={"If-None-Match": tag})
        assert response.status_code == 304 and response.data == b""
        assert response.headers["ETag"] == etag
        assert response.headers["Cache-Control"] == "no-cache"
    host = live.settings.host_name
    assert client.get(f"/poll?host={host}", headers={"If-None-Match": etag}).status_code == 304
    assert seen == ["/poll?"]
    # A list of tags, another tag, another path or an unknown host: Flask answers.
    assert client.get("/poll", headers={"If-None-Match": f'"x", {etag}'}).status_code == 304
    assert client.get("/poll", headers={"If-None-Match": '"0x"'}).status_code == 200
    assert client.get("/fragments/cpu", headers={"If-None-Match": etag}).status_code == 304
    assert client.get("/poll?host=nowhere", headers={"If-None-Match": etag}).status_code == 404
    assert len(seen) == 5


def test_with_a_view_token_every_poll_goes_through_the_session_check(make_app):
    app = make_app(VIEW_TOKEN="v1ew-token-v1ew-token", SECRET_KEY="k" * 32)
    client = app.test_client()
    client.post("/login", data={"token": "v1ew-token-v1ew-token"})
    etag = client.get("/poll").headers["ETag"]
    assert client.get("/poll", headers={"If-None-Match": etag}).status_code == 304
    stranger = app.test_client()
    response = stranger.get("/poll", headers={"If-None-Match": etag})
    assert response.status_code in (303, 401)  # never a 304 without a session


@pytest.mark.parametrize("path", ["/", "/poll", "/fragments/cpu", "/stream"])
@pytest.mark.parametrize("bad", ["2h", "", "LIVE", "<b>"])
def test_an_unknown_range_is_400_naming_it(client, path, bad):
    response = client.get(f"{path}?range={bad}", headers={"Accept": "application/json"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert f"unknown range {bad!r}" in error and "live, 1h, 6h, 24h, 7d, 30d, 1y" in error


@pytest.mark.parametrize("name", ["live", "5m", "1h", "6h", "24h", "7d", "30d", "1y"])
def test_every_range_has_its_page(client, name):
    html = client.get(f"/?range={name}").get_data(as_text=True)
    shown = "live" if name == "5m" else name
    current = re.findall(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', html)
    assert (current[-1][1], "range=" in current[-1][0]) == (SPANS[shown].link, shown != "live")
    assert html.count('<svg class="plot"') == 5
    assert client.get(f"/poll?range={name}").status_code == 200
