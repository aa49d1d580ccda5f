"""The README's five-minute tour, run as written: every fenced ``sh`` block of its "A
five-minute tour" section, in order, against a fresh gunicorn on a throw-away store.

What the test does in the reader's place: a ``scripts/start`` line starts gunicorn with the same
``gunicorn.conf.py`` and the line's variables (on a free port and the test's store, instead of
installing and binding 8000); ``http://127.0.0.1:8000`` becomes that server's address; the
person who presses Approve is played by an answer through the API; and the ntfy.sh topic, which
the test cannot reach, becomes a local receiver of Apprise's ``json://``. A block that leaves a
job in the background (the agent) runs in a process group of its own, ended by its id after.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import time

import httpx
import pytest

from tests.receiver import Receiver
from tests.servers import ROOT, Server, free_port

pytestmark = pytest.mark.server

README = ROOT / "README.md"
TOPIC = "ntfy://dashboard-tour-7f3k"


def tour_blocks() -> list[str]:
    """The ``sh`` blocks of the README's tour section, in order."""
    text = README.read_text()
    section = re.search(r"^## A five-minute tour\n(.*?)^## ", text, re.S | re.M).group(1)
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def wait_until(predicate, timeout: float, what: str):
    """Poll ``predicate()`` every 0.1 s until it is truthy; AssertionError naming ``what``."""
    deadline = time.monotonic() + timeout
    while not (found := predicate()):
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        time.sleep(0.1)
    return found


def pending(url: str):
    answer = httpx.get(url + "/api/v1/approvals", params={"state": "pending"})
    return answer.status_code == 200 and answer.json()


def test_readme_is_short():
    lines = README.read_text().count("\n")
    assert lines <= 150, f"README.md has {lines} lines; the manual (docs/) takes the rest"


def test_the_tour_has_the_steps_the_issue_names():
    joined = "\n".join(tour_blocks())
    for step in ("scripts/start", "/api/v1/events", "flask --app wsgi ask", "flask --app wsgi agent",
                 "DASHBOARD_NOTIFY_URLS=", "flask --app wsgi users add"):
        assert step in joined, step


def test_the_tour_runs_in_order(tmp_path):
    store = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    env = {**os.environ, "DASHBOARD_STORE_URL": store, "DASHBOARD_HOST_NAME": "web-1"}
    port, server, groups = free_port(), None, []
    log = tmp_path / "tour.log"
    with Receiver(free_port(), tmp_path / "posts.jsonl") as receiver:
        try:
            for block in tour_blocks():
                block = block.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{port}")
                block = block.replace(TOPIC, f"json://127.0.0.1:{receiver.port}/tour")
                if block.strip().endswith("scripts/start"):  # VAR=value ... scripts/start
                    words = shlex.split(block)
                    if server:
                        server.stop()
                    extra = dict(word.split("=", 1) for word in words[:-1])
                    server = Server(port, {**env, **extra}).start()
                    assert httpx.get(server.url + "/").status_code == 200  # "open the page"
                    continue
                with log.open("a") as out:
                    shell = subprocess.Popen(["bash", "-euo", "pipefail", "-c", block], cwd=ROOT,
                                             env=env, stdout=out, stderr=subprocess.STDOUT,
                                             start_new_session=True)
                groups.append(shell.pid)
                if "wsgi ask" in block:  # the person on the page presses Approve
                    asked = wait_until(lambda: pending(server.url), 30, "the question on the page")
                    answer = httpx.post(f"{server.url}/api/v1/approvals/{asked[0]['id']}/response",
                                        json={"approved": True, "reason": "go ahead"})
                    assert answer.status_code == 200, answer.text
                assert shell.wait(60) == 0, log.read_text()
            text = log.read_text()
            assert "approved by local: go ahead" in text, text
            assert re.search(r'^\{"id": ?\d+\}$', text, re.M), "the event's and alert's answers"
            # An account exists: olga, an operator; anonymous reads are refused from now on.
            accounts = subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "users",
                                       "list"], cwd=ROOT, env=env, capture_output=True, text=True)
            assert '"olga"' in accounts.stdout and '"operator"' in accounts.stdout, accounts
            assert re.search(r"(?m)^\S{12,}$", text), "the generated password, printed once"
            assert httpx.get(server.url + "/api/v1/hosts").status_code == 401
            posts = receiver.wait_for(lambda got: any("tour" in str(p["body"]) for p in got), 60)
            assert posts[0]["path"] == "/tour"
        finally:
            for group in groups:
                try:
                    os.killpg(group, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            if server:
                server.stop()


def test_the_agent_of_the_tour_reports_a_second_host(tmp_path):
    """The agent's block on its own: its host reaches the fleet (before any account exists)."""
    block = next(b for b in tour_blocks() if "wsgi agent" in b)
    env = {**os.environ, "DASHBOARD_STORE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}"}
    with Server(free_port(), env) as server:
        shell = subprocess.Popen(["bash", "-euo", "pipefail", "-c",
                                  block.replace("http://127.0.0.1:8000", server.url)], cwd=ROOT,
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
        try:
            assert shell.wait(30) == 0
            wait_until(lambda: any(h["name"] == "web-2" for h in
                                   httpx.get(server.url + "/api/v1/hosts").json()), 30,
                       "web-2 in /api/v1/hosts")
        finally:
            os.killpg(shell.pid, signal.SIGTERM)
