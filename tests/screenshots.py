"""The manual's screenshots (``scripts/screenshots``): a dashboard on a throw-away store with
the simulator and the simulated host, a second host through an agent, a week of made-up
history, a task, an alert and a pending approval; then Debian's Chromium (as the browser tests
launch it) takes the page on a desktop and a phone, light and dark, in English and in Chinese
(``-zh`` in the name), into ``docs/img/``."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.sync_api import expect, sync_playwright

from tests.conftest import CHROMIUM, SCREENS
from tests.servers import ROOT, Server, free_port, terminate

OUT = ROOT / "docs" / "img"
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def fill(server: Server, env: dict) -> subprocess.Popen:
    """Give the page something to show; returns the agent process (stop it after)."""
    def post(path: str, body: dict) -> None:
        httpx.post(server.url + path, json=body).raise_for_status()

    post("/simulator/host", {"enabled": True})
    post("/simulator/scenarios/task-run", {})
    post("/api/v1/events", {"level": "warning", "message": "disk filling up", "source": "cron"})
    post("/api/v1/events", {"level": "info", "message": "deploy v2.3 finished", "source": "ci"})
    post("/api/v1/alerts", {"name": "backup-late", "level": "warning",
                            "message": "nightly backup 40 min late", "source": "cron"})
    post("/api/v1/approvals", {"title": "Deploy v2.4 to production?", "source": "ci",
                               "detail": "build 1432, all checks green", "timeout_seconds": 3600})
    return subprocess.Popen([*FLASK, "agent", "--to", server.url, "--host", "web-2"], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


#: The languages shot: code -> the file name's suffix.
LANGUAGES = {"en": "", "zh_Hans": "-zh"}


def shoot(url: str) -> list[Path]:
    """One PNG per language, screen of :data:`SCREENS` and colour scheme, of the viewport only
    (small)."""
    OUT.mkdir(parents=True, exist_ok=True)
    made = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        for (label, width, height), scheme, (code, suffix) in (
                (screen, scheme, language) for screen in SCREENS
                for scheme in ("light", "dark") for language in LANGUAGES.items()):
            context = browser.new_context(viewport={"width": width, "height": height},
                                          color_scheme=scheme, device_scale_factor=1)
            page = context.new_page()
            page.goto(f"{url}/?lang={code}")
            expect(page.locator("#badge")).to_have_class(re.compile(r"\blive\b"), timeout=10_000)
            expect(page.locator("#fleet a", has_text="web-2")).to_have_count(1, timeout=15_000)
            expect(page.locator("#cpu-detail .cores i")).to_have_count(8, timeout=10_000)
            page.evaluate("document.fonts.ready")
            made.append(OUT / f"{label}-{scheme}{suffix}.png")
            page.screenshot(path=made[-1])
            context.close()
        browser.close()
    return made


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        env = {"DASHBOARD_STORE_URL": f"sqlite:///{folder}/store.sqlite3",
               "DASHBOARD_SIMULATOR": "1", "DASHBOARD_HOST_NAME": "web-1"}
        full = {**os.environ, **env}
        subprocess.run([*FLASK, "history-fill", "--host", "web-1", "--days", "7"], cwd=ROOT,
                       env=full, check=True, stdout=subprocess.DEVNULL)
        with Server(free_port(), env) as server:
            agent = fill(server, full)
            try:
                for path in shoot(server.url):
                    print(f"{path.relative_to(ROOT)}: {path.stat().st_size // 1024} KB")
            finally:
                terminate(agent, grace=5)


if __name__ == "__main__":
    main()
