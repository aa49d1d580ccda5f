"""The fleet row against real gunicorns on one Redis, and a real agent process."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time

import httpx
import pytest

from app.store import open_store
from tests.servers import ROOT, Server, free_port, terminate
from tests.sse_client import SSEClient, number, region

pytestmark = pytest.mark.server

FLASK = os.path.join(os.path.dirname(sys.executable), "flask")
STALE_AFTER = 3


def hosts(message) -> dict[str, str]:
    """``{host: "fresh" | "stale"}`` of the fleet row in a stream message ({} without one, or
    with only some cards' figures: app.view.parts)."""
    row = region(message.data, "fleet") or ""
    return {name: "stale" if level == "stale" else "fresh" for level, name in
            re.findall(r'<li class="host level-(\w+)"><a href="/\?host=([^"]+)"', row)}


def test_two_dashboards_and_an_agent_make_three_cards_and_a_stopped_agent_turns_stale(
        redis_url, tmp_path):
    env = {"DASHBOARD_STORE_URL": redis_url, "DASHBOARD_STALE_AFTER": str(STALE_AFTER)}
    with Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-a"}) as a, \
            Server(free_port(), {**env, "DASHBOARD_HOST_NAME": "host-b"}) as b, \
            SSEClient(a.url + "/stream") as client, contextlib.ExitStack() as stack:
        # Each samples itself at 1 Hz; a's page lists both, a's own card marked current.
        both = client.wait_for(lambda m: hosts(m) == {"host-a": "fresh", "host-b": "fresh"},
                               timeout=6)
        assert '<a href="/?host=host-a" aria-current="page">' in region(both.data, "fleet")

        store = open_store(redis_url, log_size=10_000, poll_interval=0.1)
        log = stack.enter_context(tempfile.TemporaryFile())  # a file: nobody reads a pipe
        stack.callback(store.close)
        # The agent's own app (imported by the flask command, never started) gets a store of
        # its own: it must not touch the dashboards'.
        agent = subprocess.Popen(
            [FLASK, "--app", "wsgi", "agent", "--to", b.url, "--host", "agent-c",
             "--interval", "0.5"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 'agent.sqlite3'}"})
        try:
            deadline = time.monotonic() + 15  # python, flask and psutil start, one interval
            while store.get_state("sample:agent-c") is None:
                assert agent.poll() is None and time.monotonic() < deadline, _read(log)
                time.sleep(0.05)
            pushed = time.monotonic()
            three = client.wait_for(lambda m: hosts(m).get("agent-c") == "fresh", timeout=3)
            assert three.at - pushed < 2
            assert hosts(three) == {"host-a": "fresh", "host-b": "fresh", "agent-c": "fresh"}
            # Any dashboard serves the agent's page (pushed through b, viewed on a).
            with SSEClient(a.url + "/stream?host=agent-c") as other:
                snapshot = other.next(timeout=3)
                assert number(snapshot.data, "cpu") is not None
                assert '<a href="/?host=agent-c" aria-current="page">' in snapshot.data
            assert httpx.get(b.url + "/fragments/cpu?host=agent-c").status_code == 200
            assert httpx.get(a.url + "/fragments/cpu?host=nobody").status_code == 404
        finally:
            stopped = time.monotonic()
            terminate(agent, grace=5)  # SIGTERM by PID
        assert agent.returncode == 0, _read(log)
        assert "samples sent" in _read(log)

        [last] = store.find("metrics", limit=1, where={"host": "agent-c"})
        stale = client.wait_for(lambda m: hosts(m).get("agent-c") == "stale", timeout=10)
        # Never before STALE_AFTER; after it, within one sweep (about a second, drifting by the
        # tailer's own wake-ups) and the hold of a figure for news (at most 0.5 s), with a wide
        # margin: a loaded machine once took 4.6 s where 4.5 was the budget.
        assert stale.at - stopped < STALE_AFTER + 3, stale.at - stopped
        assert stale.at + (time.time() - time.monotonic()) - last.ts > STALE_AFTER
        assert hosts(stale) == {"host-a": "fresh", "host-b": "fresh", "agent-c": "stale"}


def _read(log) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")
