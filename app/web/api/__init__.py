"""The JSON API under ``/api/v1``: ingest for other programs, snapshots, approvals and the task
and approval streams.

One module per resource holds its view functions; :data:`ROUTES` below is the one place that
binds them to URLs on :data:`bp` (the modules import nothing from here, so nothing is circular).
Every route needs a row in ``app.web.api.operations.ROUTES`` too (a test checks it). The JSON event
stream (``/api/v1/stream``) has a blueprint of its own in :mod:`app.web.api.stream`, since its
aliases live outside ``/api/v1``.
"""

from __future__ import annotations

from flask import Blueprint

from . import (alerts, approvals, audit, containers, events, history, hosts, metrics, openapi,
               processes, rules, samples, silences, tasks)

bp = Blueprint("api", __name__, url_prefix="/api/v1")

#: (method, rule, view); the endpoint is ``api.<view name>``.
ROUTES = [
    ("POST", "/events", events.post_event),
    ("GET", "/events", events.get_events),
    ("PUT", "/tasks/<task_id>", tasks.put_task),
    ("GET", "/tasks/<task_id>", tasks.get_task),
    ("GET", "/tasks", tasks.get_tasks),
    ("GET", "/tasks/<task_id>/stream", tasks.task_stream),
    ("GET", "/openapi.json", openapi.openapi),
    ("POST", "/alerts", alerts.raise_alert),
    ("POST", "/alerts/<alert_id>/resolve", alerts.resolve),
    ("POST", "/alerts/<alert_id>/ack", alerts.ack),
    ("GET", "/alerts", alerts.list_alerts),
    ("POST", "/silences", silences.post_silence),
    ("GET", "/silences", silences.list_silences),
    ("DELETE", "/silences/<silence_id>", silences.delete_silence),
    ("GET", "/rules", rules.get_rules),
    ("PUT", "/rules", rules.put_rules),
    ("POST", "/metrics", metrics.post_metrics),
    ("GET", "/metrics", metrics.get_metrics),
    ("POST", "/samples", samples.post_samples),
    ("GET", "/hosts", hosts.list_hosts),
    ("GET", "/hosts/<name>", hosts.get_host),
    ("DELETE", "/hosts/<name>", hosts.delete_host),
    ("GET", "/history", history.get_history),
    ("GET", "/processes", processes.get_processes),
    ("GET", "/containers", containers.get_containers),
    ("POST", "/approvals", approvals.post_approval),
    ("GET", "/approvals", approvals.list_approvals),
    ("GET", "/approvals/<approval_id>", approvals.get_approval),
    ("DELETE", "/approvals/<approval_id>", approvals.withdraw),
    ("POST", "/approvals/<approval_id>/response", approvals.respond),
    ("GET", "/approvals/<approval_id>/stream", approvals.approval_stream),
    ("GET", "/audit", audit.get_audit),
]
for method, rule, view in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=[method])
