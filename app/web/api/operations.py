"""The documented operations of the API: one :class:`Route` row each in :data:`ROUTES`, and
the payload models the OpenAPI document lists (:data:`MODELS`); ``app.web.api.openapi`` builds
the document from them.

To document a new endpoint, add one row (a test fails for any ``/api/v1`` rule without one).
Request bodies and query parameters come from the pydantic models in ``app.domain``; a row whose
rule the app does not have (the simulator when it is off) is left out of the document.
"""

from __future__ import annotations

from app.domain.approval_schemas import Approval, ApprovalAnswer, ApprovalIn, ApprovalQuery
from app.domain.history import HISTORY_KEYS
from app.domain.container_schemas import ContainerList, ContainerQuery
from app.domain.hostsample import ProcessList, ProcessQuery, SamplesIn
from app.domain.audit_schemas import AuditQuery
from app.domain.schemas import (AckIn, AlertIn, EventIn, EventQuery, HistoryQuery,
                                MetricOverride, MetricsIn, RulesIn, ScenarioIn,
                                SimulatedEvents, SimulatedHost, Task, TASK_ID_PATTERN, TaskIn,
                                TaskQuery)
from app.domain.silence_schemas import SilenceIn
from app.sources.sample import HOST_PATTERN

from .route import JSON, REF, Route, ref
from .stream_schemas import StreamQuery

_ERRORS = {"$ref": REF.format(model="Error")}
_EVENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "level": {"type": "string"}, "message": {"type": "string"},
    "source": {"type": ["string", "null"]}, "ts": {"type": "number", "description": "Unix seconds"}}}
_STATUS = {"type": "object", "properties": {"status": {"type": "string"}}}
_READY = {"type": "object", "properties": {"status": {"type": "string"}, "store": {
    "type": "object", "description": "the backend; with Redis Sentinel, the primary in use "
    "and the failovers this worker saw", "properties": {
        "backend": {"enum": ["sqlite", "redis"]}, "sentinel": {"type": "boolean"},
        "service": {"type": "string"}, "primary": {"type": ["string", "null"]},
        "failovers": {"type": "integer"}}}}}
_HISTORY = {"type": "object", "required": ["host", "metric", "step", "points"], "properties": {
    "host": {"type": "string"}, "metric": {"type": "string"},
    "step": {"type": ["number", "null"], "description": "seconds per point; null: raw samples"},
    "points": {"type": "array", "items": {"type": "object", "properties": {
        "t": {"type": "number", "description": "Unix seconds: the sample's time, or the start "
              "of the point's bucket"},
        "min": {"type": "number"}, "avg": {"type": "number"}, "max": {"type": "number"},
        "count": {"type": "integer", "description": "samples the point covers"}}}}}}
_HOST_ROW = {"type": "object", "required": ["name", "level", "stale", "last_seen", "alerts"],
             "properties": {
    "name": {"type": "string"},
    "level": {"type": "string", "enum": ["critical", "warning", "stale", "ok"]},
    "stale": {"type": "boolean", "description": "no sample within DASHBOARD_STALE_AFTER s"},
    "cpu_percent": {"type": ["number", "null"], "description": "percent of all CPUs"},
    "mem_percent": {"type": ["number", "null"], "description": "percent of memory used"},
    "disk_percent": {"type": ["number", "null"], "description": "percent of the disk used"},
    "load1": {"type": ["number", "null"], "description": "1-minute load average"},
    "last_seen": {"type": ["number", "null"], "description": "Unix seconds at which the store "
                  "took its latest sample; null: never"},
    "alerts": {"type": "array", "items": {"type": "string"},
               "description": "names of its firing alerts, worst first"}}}
_HOST_NAME = {"name": ("the host's name", {"type": "string", "pattern": HOST_PATTERN})}
_TASK_ID = {"task_id": ("1-100 characters of A-Z a-z 0-9 . _ -",
                        {"type": "string", "pattern": TASK_ID_PATTERN})}
_ALERT_ID = {"alert_id": "the alert's id, as POST /api/v1/alerts or GET /api/v1/alerts give it"}
_ALERT = {"type": "object", "description": "id, name, level, state (firing or resolved), "
          "started_at, ended_at, peak, value, acked_by, acked_at, host, message, source"}
_SILENCE = {"type": "object", "description": "id, matchers {name, host, level}, starts_at, "
            "ends_at (Unix seconds), created_by, comment"}
_RULES = {"type": "object", "properties": {
    "rules": {"type": "array", "items": {"type": "object"}},
    "updated_at": {"type": ["number", "null"], "description": "Unix seconds"},
    "by": {"type": ["string", "null"]}}}
_AUDIT_PAGE = {"type": "object", "required": ["entries", "next"], "properties": {
    "entries": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "ts": {"type": "number", "description": "Unix seconds"},
        "who": {"type": "string"}, "role": {"type": "string"}, "action": {"type": "string"},
        "target": {"type": ["string", "null"]}, "address": {"type": ["string", "null"]},
        "detail": {"type": ["object", "null"]}}}},
    "next": {"type": ["integer", "null"], "description": "pass as before for older entries"}}}
_APPROVAL_ID = {"approval_id": "the approval's id (32 hex digits), as POST /api/v1/approvals gives it"}
#: The body of a 409 or 410 about an approval: the error and the approval as it stands.
_STANDS = {"type": "object", "description": "the approval, with the decision that stands",
           "properties": {"error": {"type": "string"}, "approval": ref("Approval")}}
_BAD_BODY = {"415": ("body is not JSON", _ERRORS), "400": ("JSON is not an object", _ERRORS),
             "422": ("schema error, with field paths in details", _ERRORS),
             "401": ("missing or wrong bearer token", _ERRORS),
             "429": ("too many wrong tokens from this client lately; see Retry-After", _ERRORS),
             "403": ("no token configured and the client is not on loopback", _ERRORS)}

#: Every documented operation.
ROUTES: list[Route] = [
    Route("post", "/api/v1/events", "Add an event to the feed", "events", body=EventIn,
          responses={"201": ("stored", {"type": "object", "properties": {
              "id": {"type": "integer"}}}), **_BAD_BODY}),
    Route("get", "/api/v1/events", "Latest events, newest first", "events", query=EventQuery,
          responses={"200": ("events", {"type": "array", "items": _EVENT}),
                     "400": ("a bad query parameter, named in the message", _ERRORS)}),
    Route("get", "/api/v1/tasks", "Stored tasks, most recently updated first", "tasks",
          query=TaskQuery, responses={"200": ("tasks", {"type": "array", "items": ref("Task")}),
                                      "400": ("a bad query parameter", _ERRORS)}),
    Route("put", "/api/v1/tasks/{task_id}", "Set a task's state and progress", "tasks",
          body=TaskIn, path_params=_TASK_ID,
          responses={"200": ("stored", ref("Task")),
                     "409": ("the task already succeeded or failed", _ERRORS), **_BAD_BODY}),
    Route("get", "/api/v1/tasks/{task_id}", "One task's state", "tasks", path_params=_TASK_ID,
          responses={"200": ("the task", ref("Task")), "404": ("unknown task", _ERRORS)}),
    Route("get", "/api/v1/tasks/{task_id}/stream", "Follow one task (Server-Sent Events)", "tasks",
          path_params=_TASK_ID, responses={
              "200": "text/event-stream: `event: progress` with JSON {task_id, state, progress, "
                     "estimated_seconds, updated_at} for the current state and each update, "
                     "then `event: complete` (succeeded) or `event: error` (failed) and the end; "
                     "`id:` is the log id; `: ping` comments while idle",
              "404": ("unknown task", _ERRORS)}),
    Route("get", "/api/v1/sse/tasks/{task_id}/progress", "Follow one task as the task-progress "
          "service's clients read it (Server-Sent Events)", "tasks", path_params=_TASK_ID,
          responses={
              "200": "text/event-stream: `event: progress` with JSON {task_id, state, progress, "
                     "estimated_time (seconds or null), updated_at (ISO-8601)} for the current "
                     "state and each update, then `event: complete` (succeeded) or `event: "
                     "error` (failed; the same fields and `error`) and the end; `id:` is the "
                     "log id; `: ping` comments while idle",
              "404": ("unknown task", _ERRORS)}),
    Route("get", "/api/v1/stream", "Follow metrics, events, alerts and tasks (Server-Sent Events)",
          "streams", query=StreamQuery, header_params={
              "Last-Event-ID": "a log id: replay every item of the channels after it, then go "
                               "live (wins over last_event_id); one that is not a log id "
                               "gets event: resync"},
          responses={
              "200": "text/event-stream: one message per logged item of the channels, in log "
                     "order: `id:` the log id, `event:` metric or custom (channel metrics), "
                     "event (events), alert (alerts) or task (tasks), `data:` JSON {id, ts, "
                     "...the item's fields}; first `id:` and `retry:` with no data; `event: "
                     "resync` with JSON {reason, latest_id} when the id's items were trimmed or "
                     "it is above the newest id; `: ping` comments while idle",
              "400": ("an unknown or empty channel, or a bad last_event_id, named", _ERRORS),
              "401": ("DASHBOARD_VIEW_TOKEN is set and there is no session", _ERRORS)}),
    Route("post", "/api/v1/alerts", "Raise a firing alert", "alerts", body=AlertIn, responses={"201": ("raised", {"type": "object", "properties": {
              "id": {"type": "string"}}}), **_BAD_BODY}),
    Route("get", "/api/v1/alerts", "Every alert, firing first, newest first", "alerts",
          responses={"200": ("alerts; ?state=firing or ?state=resolved filters",
                             {"type": "array", "items": _ALERT}),
                     "400": ("a bad state parameter", _ERRORS)}),
    Route("post", "/api/v1/alerts/{alert_id}/resolve", "Resolve an alert", "alerts",
          path_params=_ALERT_ID,
          responses={"200": ("the alert", _ALERT), "404": ("unknown alert", _ERRORS)}),
    Route("post", "/api/v1/alerts/{alert_id}/ack", "Acknowledge an alert", "alerts",
          body=AckIn, body_required=False, path_params=_ALERT_ID,
          responses={"200": ("the alert, with acked_by and acked_at", _ALERT),
                     "404": ("unknown alert", _ERRORS), **_BAD_BODY}),
    Route("post", "/api/v1/silences", "Silence matching alerts for a while (no notifications)",
          "alerts", body=SilenceIn, responses={
              "201": ("the silence", _SILENCE),
              "200": ("an active silence of the same matchers, extended to the later end",
                      _SILENCE),
              **_BAD_BODY,
              "422": ("schema error (field paths in details), an end in the past, or too many "
                      "active silences: 1,000 in all, 100 per creator", _ERRORS)}),
    Route("get", "/api/v1/silences", "Silences that have not ended, the latest ending first",
          "alerts", responses={"200": ("silences", {"type": "array", "items": _SILENCE})}),
    Route("delete", "/api/v1/silences/{silence_id}", "End a silence now", "alerts",
          path_params={"silence_id": "the silence's id"},
          responses={"200": ("the silence, ended", _SILENCE),
                     "404": ("unknown silence", _ERRORS),
                     "401": _BAD_BODY["401"], "403": _BAD_BODY["403"],
                     "429": _BAD_BODY["429"]}),
    Route("get", "/api/v1/rules", "The alert rules every host is checked against", "alerts",
          responses={"200": ("the list, who set it and when", _RULES)}),
    Route("put", "/api/v1/rules", "Replace the whole list of alert rules", "alerts",
          body=RulesIn, responses={"200": ("stored", _RULES), **_BAD_BODY}),
    Route("post", "/api/v1/metrics", "Push gauges and counters", "metrics", body=MetricsIn,
          responses={"202": ("accepted", {"type": "object", "properties": {
              "id": {"type": "integer"}, "count": {"type": "integer"}}}),
              "409": ("the store keeps 100 series (name and labels) already", _ERRORS),
              **_BAD_BODY}),
    Route("post", "/api/v1/samples", "Push host samples (an agent for a machine without a "
          "dashboard)", "metrics", body=SamplesIn, responses={
              "202": ("stored, oldest first", {"type": "object", "properties": {
                  "ids": {"type": "array", "items": {"type": "integer"}},
                  "count": {"type": "integer"}}}),
              "409": ("a dashboard samples that host itself; nothing stored", _ERRORS),
              **_BAD_BODY}),
    Route("get", "/api/v1/hosts", "Every host with its level and latest figures, those that "
          "need attention first", "metrics",
          responses={"200": ("hosts", {"type": "array", "items": _HOST_ROW})}),
    Route("get", "/api/v1/hosts/{name}", "One host: its level, latest sample (disks, "
          "interfaces, sensors...) and firing alerts", "metrics", path_params=_HOST_NAME,
          responses={"200": ("the host", {"allOf": [_HOST_ROW, {"type": "object", "properties": {
              "sample": {"type": "object", "description": "every key of a host sample but "
                         "processes (see POST /api/v1/samples)"},
              "firing": {"type": "array", "items": _ALERT,
                         "description": "its firing alerts, whole, newest first"}}}]}),
              "404": ("unknown host", _ERRORS)}),
    Route("delete", "/api/v1/hosts/{name}", "Forget a host: its latest sample, history and "
          "process list; its card leaves every page (it comes back if it reports again)",
          "metrics", path_params={"name": ("the host's name", {"type": "string", "pattern": HOST_PATTERN})},
          responses={"204": "forgotten; no body",
                     "404": ("unknown host", _ERRORS),
                     "409": ("a dashboard samples that host itself", _ERRORS),
                     "401": _BAD_BODY["401"], "403": _BAD_BODY["403"],
                     "429": _BAD_BODY["429"]}),
    Route("get", "/api/v1/metrics", "Latest host samples and custom metrics", "metrics",
          responses={"200": ("{hosts: {host: sample}, custom: [reading]}", {"type": "object"})}),
    Route("get", "/api/v1/history", "One metric of a host over a time range (min, avg, max "
          "and count per point, at most 1,000 points)", "metrics", query=HistoryQuery,
          responses={"200": {"description": "points oldest first, from the finest history "
                             f"tier that covers the range; metric is one of "
                             f"{', '.join(HISTORY_KEYS)} or custom:<series key>; Accept: "
                             "text/csv gives CSV with a header row t,min,avg,max,count",
                             "content": {JSON: {"schema": _HISTORY},
                                         "text/csv": {"schema": {"type": "string"}}}},
                     "400": ("an unknown metric, host or range, from after to, or a bad "
                             "step: the parameter is named in the message and details",
                             _ERRORS),
                     "429": ("this client has DASHBOARD_HISTORY_READS_PER_CLIENT history "
                             "reads in progress already (or too many failed credentials); see "
                             "Retry-After", _ERRORS)}),
    Route("get", "/api/v1/processes", "A host's latest top processes (scanned while someone "
          "views that host)", "metrics", query=ProcessQuery, responses={
              "200": ("the list, sorted", ref("ProcessList")),
              "404": ("no process list of that host is known", _ERRORS),
              "400": ("a bad query parameter", _ERRORS)}),
    Route("get", "/api/v1/containers", "A host's containers (Docker, Podman): state, health, "
          "uptime, restarts; CPU, memory and I/O while someone views that host", "metrics",
          query=ContainerQuery, responses={"200": ("the list, running first", ref("ContainerList")),
                                           "404": ("no container list of that host is known", _ERRORS),
                                           "400": ("a bad query parameter", _ERRORS)}),
    Route("post", "/api/v1/approvals", "Ask a person on the dashboard a yes/no question",
          "approvals", body=ApprovalIn, responses={"201": ("asked; it shows on every page until answered, expired or "
                             "withdrawn", {"type": "object", "properties": {
                                 "id": {"type": "string"}}}), **_BAD_BODY}),
    Route("get", "/api/v1/approvals", "Stored approvals, newest first", "approvals",
          query=ApprovalQuery, responses={
              "200": ("approvals", {"type": "array", "items": ref("Approval")}),
              "400": ("a bad query parameter", _ERRORS)}),
    Route("get", "/api/v1/approvals/{approval_id}", "One approval and its state", "approvals",
          path_params=_APPROVAL_ID, responses={"200": ("the approval", ref("Approval")),
                                               "404": ("unknown approval", _ERRORS)}),
    Route("delete", "/api/v1/approvals/{approval_id}", "Withdraw a pending approval",
          "approvals", path_params=_APPROVAL_ID,
          responses={"200": ("withdrawn", ref("Approval")),
                     "409": ("it was answered, expired or withdrawn already", _STANDS),
                     "404": ("unknown approval", _ERRORS),
                     "401": _BAD_BODY["401"], "403": _BAD_BODY["403"]}),
    Route("post", "/api/v1/approvals/{approval_id}/response", "Answer an approval; the first "
          "answer wins", "approvals", body=ApprovalAnswer, path_params=_APPROVAL_ID, responses={
              "200": ("answered", ref("Approval")),
              "409": ("answered or withdrawn already", _STANDS),
              "410": ("expired", _STANDS), "404": ("unknown approval", _ERRORS), **_BAD_BODY}),
    Route("get", "/api/v1/approvals/{approval_id}/stream", "Wait for the answer (Server-Sent "
          "Events)", "approvals", path_params=_APPROVAL_ID, header_params={
              "Last-Event-ID": "any id this stream sent: the permission_request is not sent "
                               "again"},
          responses={
              "200": "text/event-stream: `event: permission_request` with the approval as it "
                     "stands, then `event: permission_response` (JSON {id, state, approved, "
                     "reason, by, at}) or `event: permission_cleared` (expired or withdrawn, "
                     "the same fields) and the end; `id:` is a log id; `: ping` comments while "
                     "idle",
              "404": ("unknown approval", _ERRORS)}),
    Route("get", "/api/v1/audit", "The audit log: who changed what, newest first (admins, or a "
          "key with the admin scope)", "audit", query=AuditQuery, responses={
              "200": ("a page of entries and the before of the next page (null: the last)",
                      _AUDIT_PAGE),
              "400": ("a bad query parameter, named in the message and details", _ERRORS),
              "401": _BAD_BODY["401"], "403": ("this needs the admin role or scope", _ERRORS),
              "429": _BAD_BODY["429"]}),
    Route("get", "/api/v1/openapi.json", "This document", "meta",
          responses={"200": ("OpenAPI 3.1", {"type": "object"})}),
    Route("post", "/simulator/events", "Inject events", "simulator", body=SimulatedEvents,
          responses={"201": ("stored", {"type": "object"}), **_BAD_BODY}),
    Route("post", "/simulator/metrics", "Override sampled values for a while", "simulator",
          body=MetricOverride, responses={"200": ("the override", {"type": "object"}), **_BAD_BODY}),
    Route("post", "/simulator/scenarios/{name}", "Start a named scenario", "simulator",
          body=ScenarioIn, body_required=False, path_params={"name": "cpu-spike, network-burst, task-run or alert-storm"},
          responses={"202": ("started", {"type": "object"}),
                     "404": ("unknown scenario; the names are listed", _ERRORS)}),
    Route("post", "/simulator/host", "Turn the simulated host on or off", "simulator",
          body=SimulatedHost, responses={"200": ("the new mode", {"type": "object"}), **_BAD_BODY}),
    Route("get", "/healthz", "Liveness", "ops", responses={"200": ("alive", _STATUS)}),
    Route("get", "/readyz", "Readiness (the store answers)", "ops",
          responses={"200": ("ready, and the store in use", _READY),
                     "503": ("store unavailable", _ERRORS)}),
    Route("get", "/metrics", "Prometheus exposition of the dashboard's own metrics: with "
          "DASHBOARD_METRICS_TOKEN, send it as a bearer token; without, a read like any other",
          "ops", responses={
              "200": "text/plain (Prometheus) or OpenMetrics",
              "401": ("no credential, or a wrong one (WWW-Authenticate: Bearer)", _ERRORS),
              "403": ("the credential may not read", _ERRORS),
              "429": _BAD_BODY["429"]}),
]

#: The payload models whose schemas the document lists.
MODELS = (EventIn, EventQuery, Task, TaskIn, TaskQuery, SimulatedEvents, MetricOverride,
           SimulatedHost, AlertIn, AckIn, MetricsIn, ScenarioIn, SamplesIn, StreamQuery,
           ApprovalIn, ApprovalAnswer, ApprovalQuery, Approval, SilenceIn, RulesIn,
           HistoryQuery, ProcessQuery, ProcessList, AuditQuery, ContainerQuery, ContainerList)
