"""Hosts compared (issue 15): what one render of ``/fleet/compare`` costs, and its size.

``.venv/bin/python -m bench.compare [--hosts 100]`` prints, for a SQLite store filled with
``--hosts`` hosts' 7 days of 1-minute and 1-hour points (only cpu_percent):

- **milliseconds to render the compare chart** of the 10 busiest of them (read every host's
  tier, rank, draw the SVG, render the template; median of 10) for 1 h, 24 h and 7 d;
- the same for **one host's panel** over that range (``app.view.panel``, the host page's
  charts, median of 10): the baseline of the same run, and the ratio;
- the **bytes** of the rendered chart.

A render happens once per (metric, range) and tier point in a process, whatever the number of
viewers (once a minute at most beyond live): these are per-minute costs, not per-viewer ones.
The machine may be shared with other sessions: read the figures with that in mind.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from bench import median_ms


def fill(store, hosts: list[str], days: int, now: float) -> None:
    """``days`` of made-up CPU per host in the 1-minute and 1-hour tiers."""
    for n, host in enumerate(hosts):
        for tier, step in (("1m", 60), ("1h", 3600)):
            first = int(now - days * 86400) // step * step
            rows = []
            for t in range(first, int(now), step):
                x = 30 + n % 50 + 10 * math.sin(t / 900 + n)
                rows.append((t, {"cpu_percent": (x - 5, x + 5, x * step, step)}))
            store.write_history(host, tier, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100)
    args = parser.parse_args()

    from app import create_app
    from app.store import open_store
    from app.view.compare import Comparisons
    from app.view.regions import LiveView
    from app.view.timeaxis import zone_of

    hosts = [f"host-{n:03d}" for n in range(args.hosts)]
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'store.sqlite3'}", log_size=1000,
                           poll_interval=0.1)
        fill(store, hosts, 7, now)
        app = create_app({"STORE_URL": f"sqlite:///{Path(tmp) / 'app.sqlite3'}",
                          "SAMPLER": False})
        env, zone = app.extensions["languages"].get().env, zone_of("UTC")
        print(f"hosts compared, {args.hosts} hosts (shared machine: figures are noisy)")
        for name in ("1h", "24h", "7d"):
            comparisons = Comparisons(env, zone)
            html = []

            def compare():
                comparisons._renders.clear()  # a new tier point: render again
                html.append(comparisons.get(store, hosts, "cpu_percent", name, now).html)

            def panel():
                view = LiveView(env, host=hosts[0], thresholds={}, feed_size=1, range_name=name)
                view.panel.draw(store, now)

            spent, base = median_ms(compare, 10), median_ms(panel, 10)
            print(f"  {name:>3}: compare {spent:7.1f} ms, one host's panel {base:6.1f} ms "
                  f"(ratio {spent / base:4.1f}), chart {len(html[-1]) / 1000:5.1f} KB")
        store.close()
        app.extensions["dashboard"].store.close()


if __name__ == "__main__":
    main()
