"""The reading tools (key scope ``read``): the hosts, one host, its processes and containers,
a metric's history and the alerts, each a call or two of the dashboard's API whose answer is
cut down to what an agent needs. An agent's context is small: history comes as at most
:data:`MAX_POINTS` points with its min, max and average, and lists come worst or newest first
with a ``limit`` and the ``count`` in all.

Each description says what the figures are in (percent, bytes, seconds, Unix seconds): an
agent reads the description, not this module.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from app.sources.sample import METRICS

from .dashboard import Dashboard, DashboardError, NotFound

#: Points ``history`` returns at most.
MAX_POINTS = 100
#: ``history``'s ranges: those of ``GET /api/v1/history`` (``app.domain.history.RANGES``).
RANGES = ("5m", "1h", "6h", "24h", "7d", "30d", "1y")
#: Sample keys the history keeps (``app.domain.history.HISTORY_KEYS``): all but the constant ones.
HISTORY_METRICS = tuple(k for k in METRICS if k not in {"cpu_count", "mem_total", "disk_total",
                                                        "swap_total", "uptime"})
#: Units of a sample's figures as an agent reads them.
UNITS = {key: {"%": "percent", "s": "seconds", "": "count"}.get(m.unit, m.unit)
         for key, m in METRICS.items()}
#: What a listed alert keeps.
ALERT_KEYS = ("id", "name", "level", "state", "host", "metric", "value", "peak", "message",
              "source", "started_at", "ended_at", "acked_by")
HOST_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$"
READS = ToolAnnotations(read_only_hint=True, open_world_hint=False)

Host = Annotated[str | None, Field(
    pattern=HOST_NAME,
    description="A host's name as list_hosts gives it; default: the dashboard's own host.")]


def unknown_host(host: str | None, status: int = 404) -> DashboardError:
    """The tool error for a host the dashboard does not know."""
    return DashboardError(f"unknown host {host!r}: list_hosts gives the hosts that report to "
                          "the dashboard", status)


def _seen(row: dict, now: float) -> dict:
    seen = row.get("last_seen")
    return {**row, "seen_seconds_ago": None if seen is None else max(round(now - seen), 0)}


def _alert(alert: dict) -> dict:
    return {key: alert.get(key) for key in ALERT_KEYS if key in alert}


def merge(points: list[dict], step: float | None) -> tuple[list[dict], float | None]:
    """At most :data:`MAX_POINTS` points: runs of consecutive points merged (min of mins, max
    of maxes, average weighted by count), and the step of the result (None: uneven)."""
    size = max(math.ceil(len(points) / MAX_POINTS), 1)
    merged = []
    for first in range(0, len(points), size):
        run = points[first:first + size]
        count = sum(p["count"] for p in run) or 1
        merged.append({"t": run[0]["t"], "min": min(p["min"] for p in run),
                       "avg": sum(p["avg"] * p["count"] for p in run) / count,
                       "max": max(p["max"] for p in run), "count": count})
    return merged, (step * size if step is not None else None)


def _figure(value: float) -> float:
    return round(value, 2)


async def hosts(dashboard: Dashboard, limit: int) -> dict:
    """``{"count", "hosts": [the first `limit` rows of GET /api/v1/hosts, seen_seconds_ago
    added]}``. :raise DashboardError:"""
    rows = await dashboard.call("GET", "/api/v1/hosts")
    now = time.time()
    return {"count": len(rows), "hosts": [_seen(row, now) for row in rows[:limit]]}


async def alerts(dashboard: Dashboard, state: str, limit: int, host: str | None) -> dict:
    """``{"count", "alerts": [...]}``: alerts in ``state`` (``all``: any), of ``host`` (None:
    any), at most ``limit``, each cut to :data:`ALERT_KEYS`. :raise DashboardError:"""
    found = await dashboard.call("GET", "/api/v1/alerts",
                                 params={"state": None if state == "all" else state})
    if host:
        found = [a for a in found if a.get("host") == host]
    return {"count": len(found), "alerts": [_alert(a) for a in found[:limit]]}


def register(server: MCPServer, dashboard: Dashboard) -> None:
    """Add the reading tools to ``server``."""

    async def known_host(host: str | None, error: NotFound) -> DashboardError:
        """``error`` for a host the dashboard knows; "unknown host" for one it does not."""
        if host is not None:
            try:
                await dashboard.call("GET", f"/api/v1/hosts/{host}")
            except NotFound:
                return unknown_host(host)
        return error

    @server.tool(annotations=READS, structured_output=True)
    async def list_hosts(limit: Annotated[int, Field(
            ge=1, le=1000, description="At most this many hosts, those that need attention "
                                       "first.")] = 50) -> dict[str, Any]:
        """Every host that reports to the dashboard, those that need attention first (level
        critical, then warning, stale, ok; then by name). Each host: name; level; stale (no
        sample lately); cpu_percent, mem_percent and disk_percent in percent (0-100); load1,
        the 1-minute load average; last_seen in Unix seconds and seen_seconds_ago in seconds;
        alerts, the names of its firing alerts. count is the number of hosts in all."""
        return await hosts(dashboard, limit)

    @server.tool(annotations=READS, structured_output=True)
    async def host_status(host: Annotated[str, Field(
            pattern=HOST_NAME, description="The host's name, as list_hosts gives it.")]
    ) -> dict[str, Any]:
        """One host's latest figures, file systems and firing alerts. figures holds the latest
        sample (cpu_percent, mem_percent, disk_percent, swap_percent in percent; mem_used,
        mem_total, disk_used, disk_total in bytes; net_rx_bps, net_tx_bps in bytes per second;
        load1, load5, load15 load averages; temperature in °C; uptime in seconds), units
        names each figure's unit. disks: per file system its mount, percent used, used and
        total in bytes. interfaces (bytes per second), sensors (°C) and disk_io (bytes and
        operations per second) as the host reports them. firing: its firing alerts (times in
        Unix seconds). last_seen in Unix seconds, seen_seconds_ago in seconds."""
        try:
            answer = await dashboard.call("GET", f"/api/v1/hosts/{host}")
        except NotFound:
            raise unknown_host(host) from None
        sample = answer["sample"]
        figures = {key: sample[key] for key in METRICS if key in sample}
        return {**_seen({k: answer[k] for k in ("name", "level", "stale", "last_seen")},
                        time.time()),
                "figures": figures, "units": {key: UNITS[key] for key in figures},
                "cpu_modes_percent": sample.get("cpu_times"),
                **{key: sample.get(key) for key in ("disks", "disk_io", "interfaces", "sensors")},
                "firing": [_alert(a) for a in answer["firing"]]}

    @server.tool(annotations=READS, structured_output=True)
    async def top_processes(
            host: Host = None,
            sort: Annotated[Literal["cpu", "mem"], Field(
                description="cpu: busiest first; mem: largest memory first.")] = "cpu",
            limit: Annotated[int, Field(ge=1, le=100, description="At most this many.")] = 10,
    ) -> dict[str, Any]:
        """A host's top processes as last taken: pid, name, user, cpu_percent (percent of ONE
        CPU, so up to 100 times the CPUs), mem_percent (percent of memory), rss (resident
        memory in bytes), state, runtime (seconds since it started). taken_at is in Unix
        seconds, age_seconds in seconds. A dashboard lists its own host's processes only while
        someone views that host's page; an agent host only when its agent runs with
        --processes."""
        try:
            answer = await dashboard.call("GET", "/api/v1/processes",
                                          params={"host": host, "sort": sort})
        except NotFound as exc:
            raise await known_host(host, exc) from None
        return {"host": answer["host"], "taken_at": answer["ts"],
                "age_seconds": max(round(time.time() - answer["ts"]), 0),
                "count": len(answer["processes"]), "processes": answer["processes"][:limit]}

    @server.tool(annotations=READS, structured_output=True)
    async def containers(host: Host = None) -> dict[str, Any]:
        """The containers (Docker, Podman) of a host: name, image, state, health, uptime in
        seconds, restart count, CPU in percent of one CPU, memory used and limit in bytes and
        its percent, network and block I/O in bytes per second. Needs a dashboard with the
        containers API (GET /api/v1/containers)."""
        try:
            answer = await dashboard.call("GET", "/api/v1/containers", params={"host": host})
        except NotFound as exc:
            document = await dashboard.call("GET", "/api/v1/openapi.json")
            if "/api/v1/containers" not in document.get("paths", {}):
                raise DashboardError("this dashboard has no containers API (GET "
                                     "/api/v1/containers answered 404): it is a version "
                                     "without container support", 404) from None
            raise await known_host(host, exc) from None
        return answer if isinstance(answer, dict) else {"containers": answer}

    @server.tool(annotations=READS, structured_output=True)
    async def history(
            metric: Annotated[str, Field(
                min_length=1, max_length=400,
                description="A figure of a host sample: " + ", ".join(HISTORY_METRICS)
                            + "; or custom:<series key> for a metric a program sends "
                              "(custom:queue_depth{queue=\"mail\"}).")] = "cpu_percent",
            host: Host = None,
            range: Annotated[Literal[RANGES] | None, Field(  # type: ignore[valid-type]
                description="How far back from now; default 1h. Give range, or start "
                            "(and end), not both.")] = None,
            start: Annotated[float | None, Field(
                ge=0, description="Start of the range in Unix seconds.")] = None,
            end: Annotated[float | None, Field(
                ge=0, description="End of the range in Unix seconds; default: now.")] = None,
    ) -> dict[str, Any]:
        """A metric of a host over a time range: min, max and avg (average weighted by
        samples) over the whole range, latest (the last point's average), samples (how many
        samples it covers) and at most 100 points (t, the point's start in Unix seconds;
        min, avg, max), oldest first; step is the seconds each point covers (null: uneven).
        unit names the unit of the values: percent for *_percent, bytes for *_used, bytes per
        second for net_*_bps, °C for temperature; a custom metric's unit is its sender's.
        A range with no data has no points and null figures."""
        if range is not None and (start is not None or end is not None):
            raise DashboardError("bad range: give range, or start (and end), not both")
        if start is None and end is not None:
            raise DashboardError("bad range: end needs start")
        if start is not None and start > (time.time() if end is None else end):
            raise DashboardError(f"bad range: start ({start:g}) is after end "
                                 f"({'now' if end is None else format(end, 'g')})")
        params = {"metric": metric, "host": host, "range": range, "from": start, "to": end}
        try:
            answer = await dashboard.call("GET", "/api/v1/history", params=params)
        except DashboardError as exc:
            if exc.status != 400:
                raise
            if "host" in exc.fields:
                raise unknown_host(host, 400) from None
            if "metric" in exc.fields:
                raise DashboardError(f"unknown metric {metric!r}: one of "
                                     f"{', '.join(HISTORY_METRICS)} or custom:<series key>",
                                     400) from None
            raise DashboardError(f"bad range: {str(exc).removeprefix('bad argument: ')} "
                                 "(start and end are Unix seconds)", 400) from None
        points, step = merge(answer["points"], answer["step"])
        samples = sum(p["count"] for p in points)
        figures = {"min": None, "max": None, "avg": None, "latest": None}
        if points:
            figures = {"min": _figure(min(p["min"] for p in points)),
                       "max": _figure(max(p["max"] for p in points)),
                       "avg": _figure(sum(p["avg"] * p["count"] for p in points) / samples),
                       "latest": _figure(points[-1]["avg"])}
        unit = UNITS.get(metric, "as the program that sends it says")
        return {"host": answer["host"], "metric": metric, "unit": unit, **figures,
                "samples": samples, "step": step,
                "points": [{"t": round(p["t"], 3), "min": _figure(p["min"]),
                            "avg": _figure(p["avg"]), "max": _figure(p["max"])}
                           for p in points]}

    @server.tool(annotations=READS, structured_output=True)
    async def list_alerts(
            state: Annotated[Literal["firing", "resolved", "all"], Field(
                description="firing (default), resolved or all (firing first).")] = "firing",
            host: Annotated[str | None, Field(
                description="Only this host's alerts.")] = None,
            limit: Annotated[int, Field(ge=1, le=200, description="At most this many, newest "
                                                                  "first.")] = 20,
    ) -> dict[str, Any]:
        """The dashboard's alerts, firing first, newest first: id, name, level (warning,
        error, critical), state, host, metric, value and peak (in the metric's unit: percent
        for *_percent, bytes, seconds...), message, source, started_at and ended_at in Unix
        seconds, acked_by (who acknowledged it). count is how many match in all."""
        return await alerts(dashboard, state, limit, host)
