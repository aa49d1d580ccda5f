"""What the clients of the four systems this dashboard grew from read, made from what it keeps:
plain functions from items and state to the JSON objects those clients expect (the manual,
docs/compat.md). Nothing here encodes, sends or reads the store.

Times are ISO-8601 in UTC (``2026-01-22T11:08:09.588+00:00``) wherever those clients read a
string, and Unix seconds where they read a number (the agent backend's heartbeat).
"""

from __future__ import annotations

from datetime import datetime, timezone

from app.domain.approvals import PENDING
from app.store import Item


def iso(ts: float | None) -> str | None:
    """Unix seconds -> ISO-8601 in UTC, to the millisecond; None stays None."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds")


# -- the agent OS dashboard ---------------------------------------------------------------------

#: Its event levels are info, warning and error: the dashboard's critical reads as error.
AGENTOS_LEVELS = {"info": "info", "warning": "warning", "error": "error", "critical": "error"}
#: Events ``GET /api/events`` lists, newest first.
AGENTOS_EVENTS = 10


def agentos_metrics(sample: dict | None, tasks: dict) -> dict:
    """``{"counters": {...}, "gauges": {...}}`` from this host's latest ``sample`` and the tasks
    region's ``tasks`` summary (``app.view.folds.task_summary``).

    Counters: ``tasks_total``, ``tasks_succeeded``, ``tasks_failed`` (over the latest 200
    tasks, as the region counts). Gauges: ``cpu_percent``, ``memory_percent`` (null before the
    first sample) and ``success_rate``, percent of the finished tasks (0 before any finished:
    that page draws a number).
    """
    sample = sample or {}
    return {"counters": {"tasks_total": tasks["total"], "tasks_succeeded": tasks["succeeded"],
                         "tasks_failed": tasks["failed"]},
            "gauges": {"cpu_percent": sample.get("cpu_percent"),
                       "memory_percent": sample.get("mem_percent"),
                       "success_rate": tasks["success_rate"] or 0.0}}


def agentos_event(item: Item) -> dict:
    """One event of ``GET /api/events``: ``{"id", "level", "message", "source", "timestamp"}``."""
    event = item.data
    return {"id": item.id, "level": AGENTOS_LEVELS.get(event.get("level"), "info"),
            "message": event.get("message"), "source": event.get("source"),
            "timestamp": iso(event.get("ts", item.ts))}


# -- the task-progress service ------------------------------------------------------------------

#: A task's final state -> the event that ends its stream; any other state is ``progress``.
PROGRESS_EVENTS = {"succeeded": "complete", "failed": "error"}


def progress(task: dict) -> tuple[str, dict]:
    """The event name and data of a task update: ``{"task_id", "state", "progress",
    "estimated_time" (seconds or null), "updated_at" (ISO-8601)}``; an ``error`` adds
    ``"error"``, the task's message (or ``"task failed"``)."""
    event = PROGRESS_EVENTS.get(task["state"], "progress")
    data = {"task_id": task["task_id"], "state": task["state"], "progress": task["progress"],
            "estimated_time": task.get("estimated_seconds"), "updated_at": iso(task["updated_at"])}
    if event == "error":
        data["error"] = task.get("message") or "task failed"
    return event, data


# -- the SSE demo -------------------------------------------------------------------------------

#: The demo's figure names, each with the sample key it reads, in the order they are sent.
DEMO_FIGURES = (("cpu_usage", "cpu_percent"), ("memory_usage", "mem_percent"),
                ("network_rx", "net_rx_bps"), ("network_tx", "net_tx_bps"),
                ("temperature", "temperature"), ("load", "load1"))


def demo_metrics(sample: dict, ts: float) -> list[dict]:
    """One ``{"type": "metric", "name", "value", "timestamp"}`` per figure the sample has
    (``temperature`` is left out on a host without a sensor)."""
    when = iso(sample.get("ts", ts))
    return [{"type": "metric", "name": name, "value": sample[key], "timestamp": when}
            for name, key in DEMO_FIGURES if sample.get(key) is not None]


def demo_alert(item: Item) -> dict:
    """An event of the feed as the demo's ``{"type": "alert", "level", "message",
    "timestamp", "source"}``."""
    event = item.data
    return {"type": "alert", "level": event.get("level", "info"), "message": event.get("message"),
            "timestamp": iso(event.get("ts", item.ts)), "source": event.get("source")}


# -- the agent backend --------------------------------------------------------------------------

#: What an agent posts with a session id as ``source`` and its stream shows.
SESSION_KINDS = frozenset({"approval", "task", "event"})
#: A task's state -> the tool status that session's page shows.
TOOL_STATUS = {"pending": "pending", "running": "executing", "succeeded": "completed",
               "failed": "failed"}


def session_message(kind: str, data: dict, session: str, ts: float) -> list[dict]:
    """The messages of one item of a session (its ``source``): each ``{"session_id", "type",
    "data", "timestamp"}``.

    - an approval asked: ``permission_request`` (``tool_name`` its title, ``parameters``,
      ``detail``, ``status`` pending, ``id``, ``expires_at``); answered, expired or withdrawn:
      ``permission_cleared`` (``message`` its state, ``id``, ``state``, ``approved``, ``reason``,
      ``by``);
    - a task: ``tool_status`` (``tool_name`` its task id, ``status`` pending / executing /
      completed / failed, ``details``: progress, message, estimated time); a finished one also
      ``tool_result`` (``result``, ``success``);
    - an event: ``tool_status`` with ``status`` its level and its ``message``.
    """
    if kind == "approval":
        if data["state"] == PENDING:
            body = {"tool_name": data["title"], "parameters": {}, "detail": data.get("detail"),
                    "risk_level": None, "status": "pending", "id": data["id"],
                    "timestamp": iso(data["created_at"]), "expires_at": iso(data["expires_at"])}
            return [_session("permission_request", body, session, data["created_at"])]
        when = data.get("answered_at") or ts
        body = {"message": data["state"], "id": data["id"], "state": data["state"],
                "approved": data.get("approved"), "reason": data.get("reason"),
                "by": data.get("by"), "timestamp": iso(when)}
        return [_session("permission_cleared", body, session, when)]
    if kind == "task":
        when = data["updated_at"]
        status = {"status": TOOL_STATUS[data["state"]], "tool_name": data["task_id"],
                  "timestamp": iso(when),
                  "details": {"progress": data["progress"], "message": data.get("message"),
                              "estimated_time": data.get("estimated_seconds")}}
        found = [_session("tool_status", status, session, when)]
        if data["state"] in ("succeeded", "failed"):
            success = data["state"] == "succeeded"
            result = ({"message": data.get("message")} if success
                      else {"error": data.get("message") or "task failed", "success": False})
            found.append(_session("tool_result", {"tool_name": data["task_id"], "result": result,
                                                  "success": success, "timestamp": iso(when)},
                                  session, when))
        return found
    when = data.get("ts", ts)
    return [_session("tool_status", {"status": data.get("level", "info"), "tool_name": None,
                                     "message": data.get("message"), "timestamp": iso(when),
                                     "details": {}}, session, when)]


def heartbeat(now: float) -> dict:
    """``{"type": "heartbeat", "data": {}, "timestamp": Unix seconds}``: a number, as that
    backend sent it."""
    return {"type": "heartbeat", "data": {}, "timestamp": round(now, 3)}


def _session(kind: str, data: dict, session: str, ts: float) -> dict:
    return {"session_id": session, "type": kind, "data": data, "timestamp": iso(ts)}
