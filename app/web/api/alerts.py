"""``/api/v1/alerts``: raise, resolve, acknowledge and list alerts.

Writes pass :func:`app.web.auth.check_write` like every ``/api/`` write.
"""

from __future__ import annotations

from flask import current_app, jsonify, request

from app.domain import alerts
from app.domain.i18n import public

from ..errors import error_response
from ..payload import parse
from ..access import needs
from ..credentials import principal
from ..auth import record

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


#: Alerts ``GET /api/v1/alerts`` returns at most (the store keeps up to
#: ``app.domain.retention.MAX_ALERTS``).
LISTED = 1000


def _store():
    return current_app.extensions["dashboard"].store


def _unknown(alert_id: str):
    return error_response(404, f"no alert with id {alert_id!r}")


@needs("ingest")
def raise_alert():
    """Take ``{"name", "level", "message", "source"}``; 201 with ``{"id": "..."}``."""
    from app.domain.schemas import AlertIn

    spec = parse(AlertIn)
    alert = alerts.raise_alert(_store(), name=spec.name, level=spec.level,
                               message=spec.message, source=spec.source)
    return jsonify({"id": alert["id"]}), 201


@needs("ingest")
def resolve(alert_id: str):
    """Resolve the alert (no body); 200 with the alert, also when it was resolved already.

    :raise 404: unknown id.
    """
    alert = alerts.resolve(_store(), alert_id)
    return jsonify(public(alert)) if alert is not None else _unknown(alert_id)


@needs("operate")
def ack(alert_id: str):
    """Acknowledge the alert as the credential's holder (``acked_by``); 200 with it.

    :raise 404: unknown id. A body, when there is one, must be an empty object (415/400/422;
        a ``by`` is refused: the server sets it).
    """
    if request.content_length or request.data:
        from app.domain.schemas import AckIn

        parse(AckIn)
    alert = alerts.acknowledge(_store(), alert_id, principal().by)
    if alert is None:
        return _unknown(alert_id)
    record("alert-ack", alert_id)
    return jsonify(public(alert))


@needs("read")
def list_alerts():
    """Up to :data:`LISTED` alerts as a JSON list, firing first, newest first;
    ``?state=firing|resolved`` filters.

    :raise 400: another ``state``.
    """
    state = request.args.get("state")
    if state not in (None, "firing", "resolved"):
        return error_response(400, "state must be 'firing' or 'resolved'")
    return jsonify([public(alert) for alert in alerts.all_alerts(_store(), limit=LISTED,
                                                                  state=state)])
