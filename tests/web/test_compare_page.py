"""``/fleet/compare`` through Flask: behind the view token like every page, 400 for an unknown
metric or range (JSON to programs), plain links to switch, and the polled chart's ETag."""

import pytest

VIEW = "v1ew-t0ken-v1ew-t0ken"


def test_behind_the_view_token(make_app):
    client = make_app(VIEW_TOKEN=VIEW).test_client()
    for path in ("/fleet/compare", "/fleet/compare/chart"):
        response = client.get(path)
        assert response.status_code == 303 and response.location.startswith("/login")
    client.post("/login", data={"token": VIEW})
    assert client.get("/fleet/compare").status_code == 200


@pytest.mark.parametrize("query, word", [("metric=nope", "metric"), ("range=2h", "range"),
                                         ("metric=custom:x&range=1h", "metric")])
def test_unknown_metric_or_range_is_400(client, query, word):
    for path in ("/fleet/compare", "/fleet/compare/chart"):
        response = client.get(f"{path}?{query}", headers={"Accept": "application/json"})
        assert response.status_code == 400 and f"unknown {word}" in response.get_json()["error"]
    assert client.get(f"/fleet/compare?{query}").status_code == 400  # a browser: an HTML page


def test_switchers_are_plain_links_and_the_chart_polls_with_an_etag(client):
    page = client.get("/fleet/compare?metric=mem_percent&range=24h").text
    assert '<a href="/fleet/compare?metric=cpu_percent&amp;range=24h">CPU</a>' in page
    assert 'href="/fleet/compare?metric=mem_percent&amp;range=24h" aria-current="page">Memory<' in page
    assert 'href="/fleet/compare?metric=mem_percent&amp;range=7d">7 d</a>' in page
    assert "<script" in page and "hx-sse" not in page  # htmx only, for the poll
    assert '<noscript><meta http-equiv="refresh" content="15"></noscript>' in page
    chart = client.get("/fleet/compare/chart?metric=mem_percent&range=24h")
    assert chart.status_code == 200 and chart.headers["Cache-Control"] == "no-cache"
    again = client.get("/fleet/compare/chart?metric=mem_percent&range=24h",
                       headers={"If-None-Match": chart.headers["ETag"]})
    assert again.status_code in (304, 200)  # 200 only if a minute turned in between
    assert again.status_code == 200 or again.data == b""


def test_defaults_are_cpu_over_the_last_hour(client):
    assert 'aria-current="page">1 h</a>' in client.get("/fleet/compare").text
    assert "CPU · last hour" in client.get("/fleet/compare").text
