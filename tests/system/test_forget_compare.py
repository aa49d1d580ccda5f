"""Forgetting a host and comparing hosts against real gunicorns: a host forgotten through one
dashboard leaves the pages of another on the same Redis, and comes back when it reports; the
compare page picks the ten busiest hosts from the history and answers unchanged polls with 304."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from app.store import open_store
from tests.servers import Server, free_port
from tests.sse_client import SSEClient, card, region

pytestmark = pytest.mark.server


def sample(host: str, ts: float, cpu: float) -> dict:
    return {"host": host, "ts": ts, "cpu_percent": cpu, "cpu_count": 4, "mem_percent": 40.0,
            "mem_used": 4 << 30, "mem_total": 8 << 30, "disk_percent": 50.0,
            "disk_used": 50 << 30, "disk_total": 100 << 30, "net_rx_bps": 1536.0,
            "net_tx_bps": 0.0, "load1": 0.5, "load5": 0.4, "load15": 0.3, "uptime": 93784,
            "temperature": None}


def push(url: str, *samples: dict) -> None:
    response = httpx.post(url + "/api/v1/samples", json={"samples": list(samples)}, timeout=10)
    assert response.status_code == 202, response.text


def test_a_host_forgotten_on_one_dashboard_leaves_the_other_ones_pages(redis_url):
    env = {"DASHBOARD_STORE_URL": redis_url}
    with Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-a"}) as a, \
            Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-b"}) as b:
        push(a.url, sample("agent-c", time.time(), 12.5))
        with SSEClient(b.url + "/stream") as row, \
                SSEClient(b.url + "/stream?host=agent-c") as page:
            row.wait_for(lambda m: "host=agent-c" in (region(m.data, "fleet") or ""), timeout=10)
            first = page.wait_for(lambda m: region(m.data, "forget") is not None, timeout=10)
            assert "Forget this host" in region(first.data, "forget")

            response = httpx.delete(a.url + "/api/v1/hosts/agent-c", timeout=10)
            assert response.status_code == 204
            forgotten = time.monotonic()
            # b learns it from the log: the card leaves its row, the host's page says so.
            row.wait_for(lambda m: (fleet := region(m.data, "fleet")) is not None
                         and "host=agent-c" not in fleet, timeout=5)
            gone = page.wait_for(lambda m: "agent-c was forgotten."
                                 in (region(m.data, "forget") or ""), timeout=5)
            assert time.monotonic() - forgotten < 5
            assert "12.5" not in (card(gone.data, "cpu") or "")
            store = open_store(redis_url, log_size=10_000, poll_interval=0.1)
            try:
                assert store.get_state("sample:agent-c") is None
                assert store.history("agent-c", "cpu_percent", "raw", 0, time.time() + 9) == []
            finally:
                store.close()
            assert httpx.get(b.url + "/?host=agent-c&range=6h", timeout=10).status_code == 404

            # It reports again (through b this time): back on a's row and its page.
            push(b.url, sample("agent-c", time.time(), 33.0))
            back = page.wait_for(lambda m: "Forget this host" in (region(m.data, "forget") or ""),
                                 timeout=5)
            assert back is not None
        with SSEClient(a.url + "/stream") as row_a:
            row_a.wait_for(lambda m: "host=agent-c" in (region(m.data, "fleet") or ""), timeout=10)


def test_compare_picks_the_ten_busiest_and_polls_cheaply(tmp_path):
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
           "DASHBOARD_SAMPLER": "0", "DASHBOARD_HOST_NAME": "home"}
    with Server(free_port(), env) as srv:
        now = time.time()
        # 12 hosts over the last 40 minutes; host-N averages 6 N + 20 %.
        for n in range(12):
            push(srv.url, *(sample(f"host-{n:02d}", now - 2400 + 60 * i, 6 * n + 20 + (i % 3) - 1)
                            for i in range(40)))
        # The pages know a host once the tailer read its sample, which may come a read after
        # the answer to the post (0.1 s under a stream of writes); the compare chart is then
        # kept until a minute's point completes: ask for it once the fleet page shows them all.
        deadline = time.monotonic() + 10
        while "host-11" not in httpx.get(srv.url + "/fleet", timeout=10).text:
            assert time.monotonic() < deadline, "host-11 is not on the fleet page"
            time.sleep(0.1)  # a poll's pace, not a wait for something to happen
        url = srv.url + "/fleet/compare?metric=cpu_percent&range=1h"
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200
        legend = re.findall(r'<li><svg class="swatch"[^>]*>.*?<a href="/\?host=([^&"]+)', page.text)
        assert legend == [f"host-{n:02d}" for n in range(11, 1, -1)]
        assert page.text.count('<path class="line s') == 10
        assert "average 86.0 %" in page.text  # host-11
        print(f"\ncompare page: {len(page.content)} bytes")
        assert len(page.content) < 60_000

        chart = httpx.get(srv.url + "/fleet/compare/chart?metric=cpu_percent&range=1h",
                          timeout=10)
        etag = chart.headers["ETag"]
        assert chart.status_code == 200 and chart.text.startswith('<section id="compare"')
        again = httpx.get(srv.url + "/fleet/compare/chart?metric=cpu_percent&range=1h",
                          headers={"If-None-Match": etag}, timeout=10)
        # Unless a minute's point completed in between, which the ETag then says.
        assert again.status_code == 304 or again.headers["ETag"] != etag
        assert again.status_code != 304 or again.content == b""
        print(f"compare chart: {len(chart.content)} bytes; an unchanged poll: 304, no body")

        bad = httpx.get(srv.url + "/fleet/compare?metric=nope&range=1h",
                        headers={"Accept": "application/json"}, timeout=10)
        assert bad.status_code == 400 and "unknown metric" in bad.json()["error"]
        assert httpx.get(srv.url + "/fleet/compare?range=3h", timeout=10).status_code == 400
        # The host page's charts link to it, keeping the range.
        host_page = httpx.get(srv.url + "/?host=host-03&range=6h", timeout=10).text
        assert 'href="/fleet/compare?metric=cpu_percent&amp;range=6h">compare hosts</a>' in host_page
