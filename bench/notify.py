"""What notifications cost a worker's idle memory: Apprise is imported only by the process that
holds the ``notifier`` lease, never by the others.

Starts gunicorn with two gevent workers on a fresh SQLite store three times: without
notification URLs (the baseline), with a webhook only, and with an Apprise URL and a webhook;
waits for the workers to settle and prints each worker's RSS, telling the lease holder apart.

Run: ``.venv/bin/python -m bench.notify`` (about a minute). The machine may be shared: figures
are noisy; compare within one run.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.procstat import children, rss_bytes

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
SETTLE = 8.0  # seconds after start before measuring: lease taken, first passes done


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(env: dict[str, str]) -> dict:
    """RSS (MB) of the holder of the ``notifier`` lease and of the other worker."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "store.sqlite3"
        port = _port()
        proc = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{port}", "-w", "2",
             "wsgi:app"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "DASHBOARD_STORE_URL": f"sqlite:///{db}",
                 "DASHBOARD_ALERT_RULES": "[]", **env})
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
            time.sleep(SETTLE)
            with sqlite3.connect(db) as conn:
                row = conn.execute("SELECT owner FROM lease WHERE name = 'notifier'").fetchone()
            holder = int(row[0].split(":")[1]) if row else None
            workers = children(proc.pid)
            return {"holder": [rss_bytes(p) / 2**20 for p in workers if p == holder],
                    "others": [rss_bytes(p) / 2**20 for p in workers if p != holder]}
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def main() -> None:
    hook = "http://127.0.0.1:9/hook"
    runs = {
        "no notification URLs": {},
        "DASHBOARD_WEBHOOK_URLS only": {"DASHBOARD_WEBHOOK_URLS": hook},
        "Apprise URL and webhook": {"DASHBOARD_NOTIFY_URLS": "json://127.0.0.1:9/apprise",
                                    "DASHBOARD_WEBHOOK_URLS": hook},
    }
    results = {name: measure(env) for name, env in runs.items()}
    base = sum(results["no notification URLs"]["others"]) / 2
    print("worker RSS after start, MB (2 gevent workers, idle, no viewer)")
    print(f"{'configuration':32} {'lease holder':>14} {'other worker':>14}  holder/baseline")
    for name, got in results.items():
        holder = f"{got['holder'][0]:.1f}" if got["holder"] else "-"
        other = ", ".join(f"{r:.1f}" for r in got["others"])
        ratio = f"{got['holder'][0] / base:.2f}" if got["holder"] else "-"
        print(f"{name:32} {holder:>14} {other:>14}  {ratio}")


if __name__ == "__main__":
    main()
