"""The fleet page against a real gunicorn on Redis with 200 hosts that report every second
(their samples posted by the test): sorting, filtering, the level summary, the rows shown
(the first ``MAX_ROWS`` in the chosen order), and the bytes a viewer of the page receives per
second."""

from __future__ import annotations

import random
import re
import threading
import time

import httpx
import pytest

from app.view.overview import MAX_ROWS
from tests.servers import Server, free_port

pytestmark = pytest.mark.server

HOSTS = [f"sim-{n:03}" for n in range(200)]
#: Seconds of stream over which the bytes per second are measured.
WINDOW = 20.0
#: What one viewer of the fleet page may receive, in bytes per second: the table is redrawn
#: every second (issue 29: a sample on the page within 2 s) and shows at most MAX_ROWS rows,
#: each about 250 bytes when it changes. (Issue 15 allowed 5,000 with a redraw every 10 s.)
BUDGET = MAX_ROWS * 300


def start_figures(n: int) -> dict:
    """Hosts 0-9 critical (CPU about 95 %), 10-29 warning (about 80 %), the others ok."""
    cpu = 95.0 if n < 10 else 80.0 if n < 30 else random.uniform(5, 60)
    return {"cpu_percent": cpu, "mem_percent": random.uniform(20, 60),
            "disk_percent": random.uniform(20, 70), "load1": random.uniform(0.1, 1.5)}


def walk(figures: dict, n: int) -> None:
    """One second of a random walk that keeps each host at its level."""
    low, high = (93, 97) if n < 10 else (77, 83) if n < 30 else (5, 60)
    figures["cpu_percent"] = min(max(figures["cpu_percent"] + random.uniform(-3, 3), low), high)
    figures["mem_percent"] = min(max(figures["mem_percent"] + random.uniform(-1, 1), 20), 60)
    figures["load1"] = min(max(figures["load1"] + random.uniform(-0.1, 0.1), 0.1), 1.5)


def sample(host: str, figures: dict) -> dict:
    return {"host": host, "ts": time.time(), "cpu_count": 4, "mem_used": 4 << 30,
            "mem_total": 8 << 30, "disk_used": 50 << 30, "disk_total": 100 << 30,
            "net_rx_bps": 0.0, "net_tx_bps": 0.0, "load5": 0.4, "load15": 0.3,
            "uptime": 1000, "temperature": None, **{key: round(value, 1) for key, value in figures.items()}}


class Reporter(threading.Thread):
    """Posts one sample of every host but the last every second (the last reported once, at
    the start, and turns stale); each post is one request of 199 samples."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.figures = [start_figures(n) for n in range(len(HOSTS))]
        self.stop = threading.Event()
        self.rounds = 0
        self.errors: list[str] = []
        with httpx.Client(timeout=30) as client:
            self._post(client, HOSTS)

    def _post(self, client: httpx.Client, hosts: list[str]) -> None:
        body = {"samples": [sample(h, self.figures[HOSTS.index(h)]) for h in hosts]}
        response = client.post(self.url + "/api/v1/samples", json=body)
        if response.status_code != 202:
            self.errors.append(f"{response.status_code} {response.text[:200]}")

    def run(self) -> None:
        with httpx.Client(timeout=30) as client:
            due = time.monotonic()
            while not self.stop.is_set():
                for n in range(len(HOSTS)):
                    walk(self.figures[n], n)
                self._post(client, HOSTS[:-1])
                self.rounds += 1
                due += 1.0
                self.stop.wait(max(due - time.monotonic(), 0))


class ByteCounter(threading.Thread):
    """Reads a stream's raw bytes, noting each read's arrival (monotonic seconds)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.reads: list[tuple[float, int]] = []
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self.start()

    def run(self) -> None:
        try:
            with self._client.stream("GET", self.url) as response:
                for data in response.iter_raw():
                    self.reads.append((time.monotonic(), len(data)))
        except httpx.HTTPError:
            pass  # closed by the test

    def rate(self, start: float, end: float) -> float:
        """Bytes per second received in ``[start, end)``."""
        return sum(size for at, size in self.reads if start <= at < end) / (end - start)

    def close(self) -> None:
        self._client.close()


def rows(html: str) -> list[tuple[str, ...]]:
    """``(name, state, cpu, memory, disk, load, alerts, seen)`` of every table row."""
    found = re.findall(r'<tr id="h-[^"]+"[^>]*><td><a href="[^"]+">([^<]+)</a></td>(.*?)</tr>',
                       html)
    return [(name, *re.findall(r"<td>(.*?)</td>", "<td>" + cells.split("<td>", 1)[1]))
            for name, cells in found]


def percent(cell: str) -> int:
    return int(cell.removesuffix(" %"))


def test_two_hundred_hosts_sort_filter_summarise_and_stream_within_budget(redis_url):
    # Stale after 10 s, not less: on a busy machine a round of posts can lag a few seconds,
    # and a live host seen as stale for a moment reorders the level sort (CI saw it).
    env = {"DASHBOARD_STORE_URL": redis_url, "DASHBOARD_STALE_AFTER": "10",
           "DASHBOARD_SAMPLER": "0", "DASHBOARD_ALERT_RULES": "[]", "DASHBOARD_HOST_NAME": "home"}
    with Server(free_port(), env) as server:
        reporter = Reporter(server.url)
        reporter.start()
        counters = []
        try:
            # Every host known, and the one that stopped turned stale.
            deadline = time.monotonic() + 60
            while True:
                page = httpx.get(server.url + "/fleet?sort=state", timeout=10).text
                if "of 201 hosts" in page and "silent since" in page:
                    break
                assert time.monotonic() < deadline, f"{len(rows(page))} rows, {reporter.errors[:1]}"
                time.sleep(0.5)

            # The summary: 10 critical, 20 warning, sim-199 and this dashboard (no sampler) stale.
            summary = re.search(r'<p id="fleet-summary".*?</p>', page, re.S).group()
            assert re.findall(r"<strong>(\d+)</strong> <span class=\"state-word\">(\w+)", summary) \
                == [("10", "critical"), ("20", "warning"), ("2", "stale"), ("169", "ok")]
            assert "of 201 hosts" in summary

            # Sorted by name, the first MAX_ROWS and a note; by CPU, highest first (ties by
            # name); by level, critical first.
            page = httpx.get(server.url + "/fleet?sort=name", timeout=10).text
            assert [r[0] for r in rows(page)] == sorted(["home", *HOSTS])[:MAX_ROWS]
            assert f"The first {MAX_ROWS} of 201 hosts in this order" in page
            by_cpu = rows(httpx.get(server.url + "/fleet?sort=cpu", timeout=10).text)
            cpus = [percent(r[2]) for r in by_cpu if r[2] != "–"]
            assert cpus == sorted(cpus, reverse=True) and len(cpus) == MAX_ROWS
            assert {r[0] for r in by_cpu[:10]} == set(HOSTS[:10])
            by_level = rows(httpx.get(server.url + "/fleet", timeout=10).text)
            assert [r[0] for r in by_level[:10]] == HOSTS[:10]
            assert [r[0] for r in by_level[30:32]] == ["home", "sim-199"]
            # Filtered by a name prefix.
            filtered = rows(httpx.get(server.url + "/fleet?sort=name&q=sim-01", timeout=10).text)
            assert [r[0] for r in filtered] == [f"sim-{n:03}" for n in range(10, 20)]
            assert "The first" not in httpx.get(server.url + "/fleet/poll?sort=name&q=sim-01",
                                                timeout=10).text
            assert httpx.get(server.url + "/fleet?sort=bogus", timeout=10,
                             headers={"Accept": "application/json"}).status_code == 400

            # Bytes per viewer per second, all 199 reporting every second: the default page
            # (level order, which holds: rows change alone), by CPU (the order changes every
            # redraw: whole tables) and a filter of ten hosts. Bounded by the rows shown.
            counters = [ByteCounter(server.url + "/fleet/stream" + query)
                        for query in ("", "?sort=cpu", "?q=sim-01")]
            time.sleep(2)  # the snapshots
            start = time.monotonic()
            rounds = reporter.rounds
            time.sleep(WINDOW)
            end = time.monotonic()
            # Half the rounds at least: on a busy machine (the suite runs on several workers)
            # a round of 199 posts can take more than its second; what is measured below is
            # per elapsed second anyway.
            assert reporter.rounds - rounds >= WINDOW * 0.5, "the reporter fell behind"
            assert not reporter.errors
            level, cpu, ten = (c.rate(start, end) for c in counters)
            print(f"\nfleet page bytes per viewer per second, 200 hosts at 1 Hz over {WINDOW:.0f} s:"
                  f" level order {level:.0f}, by CPU {cpu:.0f}, filter of 10 {ten:.0f}")
            assert 0 < level <= BUDGET and 0 < cpu <= BUDGET and 0 < ten < level
        finally:
            reporter.stop.set()
            reporter.join(10)
            for counter in counters:
                counter.close()
