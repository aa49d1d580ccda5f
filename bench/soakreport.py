"""The report of ``bench.soak``: its figures as markdown lines, each with its target."""

from __future__ import annotations

from app.store.sqlite import TRIM_EVERY
from bench.run import machine
from bench.soakdocker import CONTAINERS
from bench.soakpeople import EVERY, PEOPLE


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(r: dict, minutes: int) -> str:
    """The soak's report (``r``: what ``bench.soak.soak`` returns, its ``setup`` the bounds
    and sizes it ran with) for a run of ``minutes``."""
    log_size, raw_seconds = r["setup"]["log_size"], r["setup"]["raw_seconds"]
    fleet_hosts, checked_hosts = r["setup"]["fleet_hosts"], r["setup"]["checked_hosts"]
    checked_seconds = r["setup"]["checked_seconds"]
    # The raw tier holds raw_seconds of 1 Hz samples, plus what arrives between two
    # janitor sweeps (app.live.janitor, every 60 s) and a few for the sampler's jitter.
    raw_bound = raw_seconds + 60 + 5
    # The log: DASHBOARD_LOG_SIZE items, and up to TRIM_EVERY - 1 more between two trims.
    log_bound = log_size + TRIM_EVERY - 1
    fleet, people, docker = r["fleet"], r["people"], r["docker"]
    lines = [
        f"# Soak\n\n{machine()}\n\nCommand: `python -m bench.run --soak --minutes {minutes}`. "
        f"One worker on SQLite. 1,000 viewers on `/stream` (the live page: every region, the "
        f"process table watched so scanned) and 10 on each of "
        f"{', '.join(f'`{p}`' for p in r['setup']['other_pages'])}, with a `read` key; "
        f"events at 2/s; the sampler at 1 Hz (history recorded); 10 % of the live viewers "
        f"reconnecting every minute; {fleet_hosts} agents (`bench.fleetagents`) posting at 1 Hz "
        f"with an `ingest` key; {len(PEOPLE)} people "
        f"({', '.join(role for _, role in PEOPLE)}) signed in with a password, acting every "
        f"{EVERY:.0f} s with their session cookie and each "
        f"with a stream open; {len(CONTAINERS)} containers on a private dockerd, one exiting "
        f"every minute and restarted (`DOCKER_HOST`); `DASHBOARD_LOG_SIZE={log_size}`, "
        f"`DASHBOARD_HISTORY_RAW={raw_seconds}` so that the store reaches its bounds "
        f"within the run.\n",
        f"- RSS of arbiter and worker at the end of each minute (MB): {r['rss_mb']}",
        f"- growth after minute {r['settled']}: {100 * r['growth']:.1f} % (target < 5 %): "
        f"{_met(r['growth'] < 0.05)}",
        f"- store (SQLite file and write-ahead log) at the end of each minute (MB): "
        f"{r['store_mb']}",
        f"- log items at the end: {r['log_rows']:,} (bound {log_bound:,}: `DASHBOARD_LOG_SIZE` "
        f"and the {TRIM_EVERY - 1} that may come between two trims): "
        f"{_met(r['log_rows'] <= log_bound)}",
        f"- raw history points of one series at the end, the most of any host: "
        f"{r['raw_points']:,} (bound {raw_bound}): {_met(r['raw_points'] <= raw_bound)}",
        f"- live viewers disconnected by the server during the run: {r['dropped']} "
        f"(target 0): {_met(r['dropped'] == 0)}",
        f"- streams of the other pages' viewers ended by `DASHBOARD_STREAM_LIFETIME` (900 s) "
        f"and reopened, as a browser does: {r['reopened'] or 'none'}",
    ]
    if "error" in fleet:
        lines.append(f"- fleet agents: {fleet['error']}: NOT met")
    else:
        lines += [
            f"- fleet agents' samples posted / accepted (202) / failed: {fleet['posted']:,} / "
            f"{fleet['accepted']:,} / {fleet['failed']:,} (batches by status, 0 = no answer: "
            f"{fleet['statuses']}): {_met(fleet['failed'] == 0 and fleet['accepted'] > 0)}",
            f"- accepted samples of {checked_hosts} hosts' last {checked_seconds} s missing from "
            f"their history: {fleet['missing']} of {fleet['checked']:,} (target 0): "
            f"{_met(fleet['missing'] == 0 and fleet['checked'] > 0)}",
        ]
    by = ", ".join(f"{role} {n:,} ({bad} failed)" for role, (n, bad) in people["by"].items())
    lines += [
        f"- people's requests / answered other than 2xx: {people['requests']:,} / "
        f"{people['failures']} ({by}) (target 0): {_met(people['failures'] == 0)}"
        + (f"; first: {people['first']}" if people["first"] else ""),
        f"- people's streams the server ended (`DASHBOARD_STREAM_LIFETIME`) and reopened: "
        f"{people['reopened']}",
    ]
    if docker["reason"]:
        lines.append(f"- containers: SKIPPED, {docker['reason']}")
    else:
        lines.append(f"- containers: {len(CONTAINERS)} running, restarts by the engine: "
                     f"{docker['restarts']}; cleaned up (removed, dockerd stopped, its mounts "
                     f"unmounted, its folder gone): "
                     + ("yes" if not docker["left"] else f"NO: {docker['left']}"))
    lines += [
        f"- viewers counted after all disconnected: {r['viewers_after']} (target 0): "
        f"{_met(r['viewers_after'] == 0)}",
        f"- processes the soak started still running after it, by PID (dashboard, agents, "
        f"dockerd, containerd, containers): {r['left'] or 'none'}: {_met(not r['left'])}",
    ]
    return "\n".join(lines) + "\n"
