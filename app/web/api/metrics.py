"""``/api/v1/metrics``: custom metrics in, the latest figures out."""

from __future__ import annotations

from flask import current_app, jsonify

from app.domain import custom

from ..errors import error_response
from ..payload import parse
from ..access import needs

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


@needs("ingest")
def post_metrics():
    """Take ``{"metrics": [{"name", "value", "type", "unit", "labels"}, ...]}`` (1 to 1000).

    202 with ``{"id": N, "count": len(metrics)}`` once stored.

    :raise 422: a schema error. :raise 409: the store would hold more distinct series than
        ``app.domain.custom.MAX_SERIES`` (a valid body that the current state refuses).
    """
    from app.domain.schemas import MetricsIn

    spec = parse(MetricsIn)
    live = current_app.extensions["dashboard"]
    try:
        item_id = custom.ingest(live.store, [m.model_dump() for m in spec.metrics],
                                history_host=live.settings.host_name)
    except custom.TooManySeries as exc:
        return error_response(409, str(exc))
    return jsonify({"id": item_id, "count": len(spec.metrics)}), 202


@needs("read")
def get_metrics():
    """``{"hosts": {host: latest sample}, "custom": [latest reading of each series]}``."""
    store = current_app.extensions["dashboard"].store
    hosts = {key.removeprefix("sample:"): sample
             for key, sample in store.states("sample:").items()}
    readings = sorted(custom.latest(store).values(), key=lambda r: r["key"])
    return jsonify({"hosts": hosts, "custom": readings})
