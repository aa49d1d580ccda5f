"""The report of ``bench.fleetload``: its figures as a markdown table, and why a run failed."""

from __future__ import annotations

VIEWERS = 10  # of each page, half on each dashboard


def report(r: dict) -> str:
    """The run's figures as markdown lines (``r``: what :func:`run` returns)."""
    mb, cores = 1e6, lambda cpu: cpu / r["seconds"]
    # Per sample the dashboards stored (those whose answer timed out included).
    per_1000 = lambda cpu: 1000 * cpu / max(r["stored"], 1)  # noqa: E731
    dash, agents = sum(r["cpu_dashboards"]), sum(r["cpu_agents"])
    total = dash + r["cpu_redis"]
    m = r["memory"]
    others = {s: n for s, n in r["statuses"].items() if s != "202"}
    return "\n".join([
        f"{r['hosts']:,} agents at {r['rate']:g} Hz for {r['seconds']:.0f} s into two "
        f"dashboards (`-w 2` each) on one Redis, {VIEWERS} viewers of `/fleet` and {VIEWERS} "
        f"of one host; agents in {r['procs']} process(es), each sending "
        + (f"every {r['send_every']:g} s." if r.get("send_every") else "each sample at once."),
        "",
        "| figure | value | target |", "|---|---:|---|",
        f"| dashboards' CPU, cores (each: {', '.join(f'{cores(c):.2f}' for c in r['cpu_dashboards'])}) "
        f"| {cores(dash):.2f} | |",
        f"| Redis CPU, cores | {cores(r['cpu_redis']):.2f} | |",
        f"| dashboards + Redis, cores | {cores(total):.2f} | ≤ 1.5 |",
        f"| dashboards' CPU seconds per 1,000 samples | {per_1000(dash):.3f} | |",
        f"| dashboards at rest (hosts known, viewers on, no post), cores | "
        f"{r['rest_cores']:.2f} | |",
        f"| dashboards' CPU seconds per 1,000 samples beyond rest | "
        f"{per_1000(dash - r['rest_cores'] * r['seconds']):.3f} | |",
        f"| seconds the dashboards and Redis ran / waited for a CPU (machine busy) | "
        f"{r['ran']:.0f} / {r['waited']:.0f} | |",
        f"| Redis CPU seconds per 1,000 samples | {per_1000(r['cpu_redis']):.3f} | |",
        f"| generator CPU, cores: agents ({', '.join(f'{cores(c):.2f}' for c in r['cpu_agents'])})"
        f", viewers {cores(r['cpu_viewers']):.2f} | {cores(agents + r['cpu_viewers']):.2f} | |",
        f"| samples taken / posted / accepted (202) / stored | {r['taken']:,} / "
        f"{r['posted']:,} / {r['accepted']:,} / {r['stored']:,} | all |",
        f"| batches answered other than 202 (status: count; 0 = no answer) | "
        f"{others or 'none'} | none |",
        f"| accepted samples missing from their host's history | {r['missing']} | 0 |",
        f"| post → fleet page, p50 / p99 (s), {r['fleet_seen']:,} shown, "
        f"{r['fleet_unseen']:,} not by the end (of the {r.get('fleet_hosts', r['hosts']):,} "
        "hosts the page shows) | "
        f"{r['fleet_p50']:.2f} / {r['fleet_p99']:.2f} | p99 < 2 |",
        f"| post → its answer (the sample stored), p50 / p99 (ms) | "
        f"{1000 * r.get('answer_p50', 0):.1f} / {1000 * r.get('answer_p99', 0):.1f} | |",
        f"| post → host page, p50 / p99 (s), {r['host_seen']:,} shown, "
        f"{r['host_unseen']:,} not by the end | "
        f"{r['host_p50']:.2f} / {r['host_p99']:.2f} | p99 < 2 |",
        f"| viewers disconnected by a dashboard | {r['viewers_dropped']} | 0 |",
        f"| bytes per viewer per second: fleet page / host page | "
        f"{r.get('fleet_bps', 0):,.0f} / {r.get('host_bps', 0):,.0f} | |",
        f"| Redis bytes per host after the run (history {m['history_run'] / 1e3:.1f} KB, "
        f"{m['per_sample']:.0f} B per sample) | {m['after_run'] / 1e3:.1f} KB | |",
        f"| Redis per host, a day (fixed {m['fixed'] / 1e3:.1f} KB + history "
        f"{m['history_day'] / mb:.2f} MB) | {m['day'] / mb:.2f} MB | |",
        f"| Redis per host, a year (fixed + history {m['history_year'] / mb:.2f} MB) | "
        f"{m['year'] / mb:.2f} MB | ≤ 16 MB |",
        f"| 1,000 hosts for a year | {1000 * m['year'] / 1e9:.1f} GB | ≤ 16 GB |",
        *([f"| check: a year of history written by `history_fill` (took "
           f"{m['year_fill_seconds']:.0f} s) | {m['year_fill'] / mb:.2f} MB | |"]
          if "year_fill" in m else []),
        "",
        "Bytes per point, by tier: " + ", ".join(f"{t} {b:.0f}" for t, b in m["costs"].items())
        + f"; samples accepted per second {r['accepted'] / r['seconds']:.0f}, stored per "
        f"second {r['stored'] / r['seconds']:.0f} (CPU per 1,000 samples counts those stored: "
        "a post whose answer timed out may still have been stored).",
    ])


def failures(r: dict) -> list[str]:
    """Why the run failed: nothing accepted, an accepted sample lost, no latency measured."""
    found = []
    if not r["accepted"]:
        found.append("no sample was accepted")
    if r["missing"]:
        found.append(f"{r['missing']} accepted samples are missing from the history")
    if not r["fleet_seen"] or not r["host_seen"]:
        found.append("no latency was measured on a page")
    return found
