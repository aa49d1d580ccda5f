"""The documented operations of the compatibility layer (``app.web.compat``): the paths of the
systems this dashboard grew from, as rows like ``app.web.api.operations.ROUTES``, which the
OpenAPI document lists after those. The agent backend's rows are left out of the document when
``DASHBOARD_COMPAT_PREFIX`` moves its paths (a row whose rule the app does not have is)."""

from __future__ import annotations

from app.domain.approval_schemas import ApprovalAnswer

from .operations import _BAD_BODY, _ERRORS, _STANDS
from .route import Route, ref
from .stream_schemas import ResumeQuery

_SESSION = {"session_id": "the agent's session: the source of what it posts"}
_AGENTOS_FIGURES = {"type": "object", "properties": {
    "counters": {"type": "object", "properties": {
        name: {"type": "integer"} for name in ("tasks_total", "tasks_succeeded", "tasks_failed")}},
    "gauges": {"type": "object", "properties": {
        name: {"type": ["number", "null"], "description": "percent"}
        for name in ("cpu_percent", "memory_percent", "success_rate")}}}}
_AGENTOS_EVENT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "level": {"type": "string", "enum": ["info", "warning", "error"]},
    "message": {"type": "string"}, "source": {"type": ["string", "null"]},
    "timestamp": {"type": "string", "description": "ISO-8601, UTC"}}}

#: Every documented operation of the compatibility layer.
ROUTES: list[Route] = [
    Route("get", "/api/metrics/stream", "The agent OS dashboard's figures once a second "
          "(Server-Sent Events)", "compat", responses={
              "200": "text/event-stream: an unnamed message `data: {counters, gauges}` (as GET "
                     "/api/metrics) at once and then once a second"}),
    Route("get", "/api/metrics", "The agent OS dashboard's figures: task totals, CPU, memory, "
          "success rate", "compat", responses={"200": ("the figures", _AGENTOS_FIGURES)}),
    Route("get", "/api/events", "The agent OS dashboard's latest 10 events, newest first",
          "compat", responses={"200": ("events", {"type": "array", "items": _AGENTOS_EVENT})}),
    Route("get", "/api/events/{name}", "The SSE demo's streams (Server-Sent Events)", "compat",
          query=ResumeQuery, path_params={"name": ("metrics, alerts or all", {
              "type": "string", "enum": ["metrics", "alerts", "all"]})},
          header_params={"Last-Event-ID": "resume after this log id"}, responses={
              "200": "text/event-stream: unnamed messages {type: metric, name, value, "
                     "timestamp} (one per figure of this host's samples) and {type: alert, "
                     "level, message, timestamp, source} (one per event); `id:` the log id",
              "400": ("a bad query parameter", _ERRORS),
              "404": ("not one of the streams' names", _ERRORS)}),
    Route("get", "/api/sse/events/{session_id}", "The agent backend's session stream "
          "(Server-Sent Events); takes the key from ?token= with DASHBOARD_QUERY_TOKENS=1",
          "compat", path_params=_SESSION, responses={
              "200": "text/event-stream: unnamed messages {session_id, type, data, timestamp}, "
                     "type permission_request, permission_cleared, tool_status, tool_result "
                     "or heartbeat"}),
    Route("post", "/api/sse/permission-response/{session_id}", "Answer the session's pending "
          "approval (the agent backend's)", "compat", body=ApprovalAnswer,
          path_params=_SESSION, responses={
              "200": ("answered", {"type": "object", "properties": {
                  "success": {"type": "boolean"}, "message": {"type": "string"},
                  "approval": ref("Approval")}}),
              "404": ("no pending approval of that session", _ERRORS),
              "409": ("answered or withdrawn already", _STANDS), "410": ("expired", _STANDS),
              **_BAD_BODY}),
    Route("get", "/api/sse/health/{session_id}", "Whether the session has a live stream (the "
          "agent backend's)", "compat", path_params=_SESSION, responses={
              "200": ("its streams", {"type": "object", "properties": {
                  "success": {"type": "boolean"}, "data": {"type": "object", "properties": {
                      "chat_session_id": {"type": "string"}, "user_id": {"type": "string"},
                      "connected": {"type": "boolean"}, "subscriber_count": {"type": "integer"},
                      "manager_status": {"type": "string"}}}}})}),
]
