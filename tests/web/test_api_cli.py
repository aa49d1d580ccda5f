"""Schemathesis' own command line against a real gunicorn with an API key: every check (the
default; ``--checks all`` would also switch off the exceptions of ``schemathesis.toml``, each
a rule the document cannot state), 50 examples per operation, the stateful phase included.
The suite's other fuzz test drives the Python API; the command line reads the served document
on its own and stopped with an internal error on a document the Python API took."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.domain import apikeys
from app.store import open_store
from tests.servers import Server, free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]  # about a minute

HERE = Path(__file__).parent
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_the_command_line_finds_no_server_error_and_no_schema_violation(tmp_path):
    path = tmp_path / "store.sqlite3"
    store = open_store(f"sqlite:///{path}", log_size=10_000, poll_interval=0.1)
    _, key = apikeys.add_key(store, "fuzz", ["admin", "ingest", "ask"], by="test")
    store.close()
    env = {"DASHBOARD_STORE_URL": f"sqlite:///{path}", "DASHBOARD_SAMPLER": "0",
           "DASHBOARD_AUTH_FAILURES_PER_MINUTE": "1000000"}
    with Server(free_port(), env) as srv:
        run = subprocess.run(
            [SCHEMATHESIS, "--no-color", "--config-file", HERE / "schemathesis.toml", "run",
             f"{srv.url}/api/v1/openapi.json", "--max-examples", "50",
             "--generation-deterministic", "--header", f"Authorization: Bearer {key}",
             # Streams never end by themselves: their own tests check them.
             "--exclude-path-regex", r"/(stream|progress)$|^/api/(events/\{name\}|sse/events/)",
             "--request-timeout", "30", "--workers", "1"],
            capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache goes there
    summary = run.stdout[run.stdout.find("SUMMARY"):]
    print(summary)
    assert run.returncode == 0, run.stdout[-20_000:] + run.stderr[-5_000:]
    assert "Tested: " in summary and " passed" in summary
