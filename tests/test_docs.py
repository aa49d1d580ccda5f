"""The manual (``docs/``, MkDocs) builds with ``--strict`` (a broken link, a missing page or a
page left out of the nav fails), and its configuration page is the one the settings make."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys

from app.config import Settings
from app.config.reference import PAGE, page
from tests.servers import ROOT


def test_manual_builds_strict(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                           str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "site" / "configuration.html").exists()


def test_configuration_page_is_made_from_the_settings():
    assert PAGE.read_text() == page(), "run: .venv/bin/python -m app.config.reference"


def test_configuration_page_lists_every_setting_with_its_comment():
    text = PAGE.read_text()
    for name in (f.name for f in dataclasses.fields(Settings)):
        assert f"`DASHBOARD_{name.upper()}`" in text, name
    assert "| `DASHBOARD_HEARTBEAT` | seconds | `15` | Seconds between two SSE heartbeat" in text
    assert "`DASHBOARD_AUDIT_RETENTION`, `DASHBOARD_AUDIT_SIZE` | duration (≥ 86400) | `400d` |" in text


def test_performance_page_quotes_the_latest_bench_run():
    """The page's figures are those of the run ``bench/RESULTS.md`` holds (its commit)."""
    header = (ROOT / "bench" / "RESULTS.md").read_text().splitlines()[2]
    commit = re.search(r"commit (\w+); ([\d-]+ [\d:]+ UTC)", header)
    page_text = (ROOT / "docs" / "performance.md").read_text()
    assert f"at commit {commit[1]}, {commit[2]}" in page_text, header
