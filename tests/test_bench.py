"""The benchmark suite still runs (at a tiny size); its figures are read by people, not asserted."""

import subprocess
import sys

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.server


def test_tiny_benchmark_runs_and_prints_the_table(tmp_path):
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--tiny", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    report = out.read_text()
    for heading in ("## 20 viewers on `/stream`", "## 20 clients on the JSON stream",
                    "## Polling, idle cost, normal sampling"):
        assert heading in report
    # Correctness, not speed: every posted event reached every client on both servers, on the
    # HTML stream and on the JSON stream.
    assert report.count("| delivered (ratio of messages × clients) | 1.0000 | 1.0000 |") == 2
    assert report.count("| clients disconnected by the server | 0 | 0 |") == 2
