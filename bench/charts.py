"""Chart panel figures (issue 10): what a live-range viewer receives, what drawing costs.

``.venv/bin/python -m bench.charts [--seconds 120] [--viewers 10]`` prints:

- **bytes per viewer per second** on the live range with the normal 1 Hz sampler, measured
  like ``bench/run.py``'s ``idle()`` (a real gunicorn with one gevent worker, raw SSE clients
  counting bytes) over ``--seconds`` (keep it above 60: the whole panel is sent once a minute).
  Target: at most 1,500.
- **time to draw the 30-day chart set** (and the other ranges') from a SQLite store filled
  with 30 days of 1-minute and 1-hour points: the tier read, the SVG and the panel's template,
  median of 20. Target: at most 50 ms.
- **render cost per sample** of every region of a live page (the cards on each sample, the
  plots every 5 s, the whole panel once a minute), per second of 1 Hz sampling, beside the
  cost of the figures alone (the baseline of the same run).

The machine may be shared: read the figures with that in mind.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.run import dashboard, idle

HOST = "bench-host"


def fill(store, days: int, now: float) -> None:
    """``days`` of a busy-looking host in the 1-minute and 1-hour tiers (raw is not read)."""
    import math

    from app.domain.history import HISTORY_KEYS

    def values(t: float) -> dict[str, float]:
        day = math.sin(t / 86400 * 2 * math.pi)
        return {key: 50 + 30 * day + 10 * math.sin(t / 700) for key in HISTORY_KEYS}

    for tier, step in (("1m", 60), ("1h", 3600)):
        first = int(now - days * 86400) // step * step
        rows = []
        for t in range(first, int(now), step):
            v = values(t)
            rows.append((t, {k: (x - 5, x + 5, x * step, step) for k, x in v.items()}))
        store.write_history(HOST, tier, rows)


def draw_times(store, env, now: float) -> dict[str, float]:
    """Median milliseconds to draw each range's panel and render its region."""
    from app.view.ranges import SPANS
    from app.view.regions import LiveView

    out = {}
    for name in SPANS:
        if name == "live":
            continue
        view = LiveView(env, host=HOST, thresholds={}, feed_size=1, range_name=name)
        times = []
        for _ in range(20):
            started = time.perf_counter()
            view.panel.draw(store, now)
            view._rerender("charts")
            times.append((time.perf_counter() - started) * 1000)
        out[name] = statistics.median(times)
        out[f"{name}_kb"] = len(view.html["charts"]) / 1000
    return out


def sample_costs(env, store) -> dict[str, float]:
    """Microseconds of rendering per second of 1 Hz sampling on the live range: the cards'
    apply per sample (the baseline), and with the panel's plots (every 5 s) and whole panel
    (every 60 s) spread over their seconds."""
    from app.config import DEFAULT_THRESHOLDS
    from app.store import Item
    from app.view.regions import LiveView

    view = LiveView(env, host=HOST, thresholds=dict(DEFAULT_THRESHOLDS), feed_size=20)
    view.load(store)
    now = time.time()
    base = {"cpu_count": 2, "mem_used": 1 << 30, "mem_total": 4 << 30, "disk_used": 1 << 30,
            "disk_total": 4 << 30, "load5": 0.3, "load15": 0.2, "uptime": 1000, "temperature": None}
    for n in range(360):  # a full live window first
        view.panel.fold_sample({**base, "host": HOST, "ts": now - 360 + n, "cpu_percent": n % 90,
                                "mem_percent": 40.0, "disk_percent": 50.0, "net_rx_bps": 1e5 * n,
                                "net_tx_bps": 2e3, "load1": 0.5})
    applies, plots, panels = [], [], []
    for n in range(200):
        sample = {**base, "host": HOST, "ts": now + n, "cpu_percent": float(n % 97),
                  "mem_percent": 40 + n % 7, "disk_percent": 50.0, "net_rx_bps": 1e5 * n,
                  "net_tx_bps": 2e3 + n, "load1": 0.5 + n / 100}
        started = time.perf_counter()
        view.apply([Item(view.last_id + 1, "metrics", 0, sample)])
        applies.append(time.perf_counter() - started)
        started = time.perf_counter()
        view.panel.draw(None, now + n)
        view._rerender("plots")
        plots.append(time.perf_counter() - started)
        started = time.perf_counter()
        view._rerender("charts")
        panels.append(time.perf_counter() - started)
    cards = statistics.median(applies) * 1e6
    plot = statistics.median(plots) * 1e6
    panel = statistics.median(panels) * 1e6
    return {"cards_us": cards, "plots_us": plot, "panel_us": panel,
            "per_second_us": cards + (plot + panel) / 5 + (plot + panel) / 60}


async def bandwidth(seconds: float, viewers: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        with dashboard(DASHBOARD_SAMPLER="1",
                       DASHBOARD_STORE_URL=f"sqlite:///{Path(tmp) / 'store.sqlite3'}") as server:
            await asyncio.sleep(3)  # start-up and the first samples
            return await idle(server, seconds, viewers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--viewers", type=int, default=10)
    args = parser.parse_args()

    from jinja2 import Environment

    from app import create_app
    from app.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"STORE_URL": f"sqlite:///{Path(tmp) / 'store.sqlite3'}",
                          "SAMPLER": False, "TESTING": True})
        env: Environment = app.extensions["languages"].get().env  # English, as a viewer's
        store = open_store(f"sqlite:///{Path(tmp) / 'history.sqlite3'}", log_size=10_000,
                           poll_interval=0.1)
        now = time.time()
        started = time.perf_counter()
        fill(store, 30, now)
        print(f"filled 30 days (1-minute and 1-hour tiers) in {time.perf_counter() - started:.1f} s")
        times = draw_times(store, env, now)
        for name in ("1h", "6h", "24h", "7d", "30d", "1y"):
            flag = "  (target ≤ 50 ms)" if name == "30d" else ""
            print(f"draw {name:>3} chart set: {times[name]:6.1f} ms, {times[name + '_kb']:5.1f} kB{flag}")
        costs = sample_costs(env, store)
        print(f"render per sample, live page: cards {costs['cards_us']:.0f} µs (baseline), "
              f"plots {costs['plots_us']:.0f} µs every 5 s, whole panel {costs['panel_us']:.0f} µs "
              f"every 60 s: {costs['per_second_us']:.0f} µs per second of 1 Hz sampling "
              f"({costs['per_second_us'] / costs['cards_us']:.2f}x the cards alone)")
        store.close()
    result = asyncio.run(bandwidth(args.seconds, args.viewers))
    print(f"live range, {args.viewers} viewers for {args.seconds:.0f} s at 1 Hz: "
          f"{result['bytes_per_viewer_s']:.0f} bytes per viewer per second (target ≤ 1,500)")


if __name__ == "__main__":
    main()
