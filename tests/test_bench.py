"""The benchmark suite still runs (at a tiny size); its figures are read by people, not asserted."""

import re
import subprocess
import sys

import pytest

from tests.servers import ROOT

pytestmark = [pytest.mark.server, pytest.mark.slow]  # about 2 minutes


def test_tiny_benchmark_runs_and_prints_the_table(tmp_path):
    out = tmp_path / "results.md"
    done = subprocess.run([sys.executable, "-m", "bench.run", "--tiny", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = out.read_text()
    for heading in ("## 20 viewers on `/stream`: one worker", "## 20 clients on the JSON stream",
                    "## 20 viewers on `/stream`: the default page",
                    "## 20 viewers on `/stream`: two workers, sqlite store",
                    "## 20 viewers on `/stream`: two workers, redis store",
                    "## 20 viewers split over two instances on one Redis",
                    "## Polling, idle cost, normal sampling"):
        assert heading in report
    # Correctness, not speed: every posted event reached every client once and in order, on
    # every server (the floors too), and no client was dropped.
    delivered = re.findall(r"^\| delivered \(ratio of messages × clients\) \|(.*)$", report, re.M)
    disorder = re.findall(r"^\| messages seen twice or out of order \|(.*)$", report, re.M)
    dropped = re.findall(r"^\| clients disconnected by the server \|(.*)$", report, re.M)
    assert len(delivered) == len(disorder) == 6 and len(dropped) == 5
    for row in delivered:
        assert set(re.findall(r"\d\.\d{4}", row)) == {"1.0000"}, row
    for row in disorder + dropped:
        values = [v.strip() for v in row.split("|")[:-3]]  # before the ratio and target
        assert set(values) <= {"0", "–"} and "0" in values, row


def test_the_compat_bench_runs_and_encodes_once_per_message():
    done = subprocess.run([sys.executable, "-m", "bench.compat", "--clients", "50",
                           "--seconds", "2"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "one encode per 50 deliveries" in done.stdout, done.stdout
    fewest, most = map(int, re.search(r"each client got (\d+)-(\d+)\)", done.stdout).groups())
    assert 1 <= fewest and most - fewest <= 1, done.stdout  # every client, about alike


def test_the_language_bench_renders_once_per_language_per_change():
    done = subprocess.run([sys.executable, "-m", "bench.language", "--changes", "20"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ratio mixed/baseline: renders 2.00," in done.stdout, done.stdout


def test_the_fleet_load_runs_small_and_measures_what_it_reports(tmp_path):
    """``bench.fleetload`` at 40 agents for 5 s after 1 s at rest (about 20 s with the
    dashboards' start), the agents sending every 2 s: samples are accepted, none that was
    accepted is missing, and the latency to both pages is measured."""
    out = tmp_path / "fleet.md"
    done = subprocess.run([sys.executable, "-m", "bench.fleetload", "--hosts", "40",
                           "--seconds", "5", "--rest", "1", "--send-every", "2",
                           "--out", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    report = out.read_text()
    assert "each sending every 2 s." in report, report
    taken, posted, accepted, stored = (int(n.replace(",", "")) for n in re.search(
        r"\| samples taken / posted / accepted \(202\) / stored \| ([\d,]+) / ([\d,]+) / "
        r"([\d,]+) / ([\d,]+) \|", report).groups())
    assert taken == posted == 200 and 0 < accepted <= stored, report
    assert "| accepted samples missing from their host's history | 0 |" in report
    for page in ("fleet page", "host page"):
        p50, p99 = map(float, re.search(rf"\| post → {page}, p50 / p99 \(s\), [\d,]+ "
                                        rf"[^|]*\| ([\d.]+) / ([\d.]+) \|", report).groups())
        assert 0 < p50 <= p99, report
    p50, p99 = map(float, re.search(r"\| post → its answer [^|]*\| ([\d.]+) / ([\d.]+) \|",
                                    report).groups())
    assert 0 < p50 <= p99, report
    assert re.search(r"\| Redis per host, a year [^|]*\| \d+\.\d\d MB \|", report), report


def test_the_page_load_bench_finds_the_same_items_both_ways():
    """``bench.pageload`` on a small log: it exits 1 when the one-scan read finds other items
    than three scans do, or none of a kind."""
    done = subprocess.run([sys.executable, "-m", "bench.pageload", "--items", "1200"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"ratio \(now / before\): CPU \d+\.\d\dx", done.stdout), done.stdout
