"""``/api/v1/rules``: read and replace the alert rules every host is checked against.

The list lives in the store (``app.domain.rules``); a replacement reaches every process's rule
runner and page through the log within moments. The write passes
:func:`app.web.auth.check_write` like every ``/api/`` write.
"""

from __future__ import annotations

from flask import current_app, jsonify

from app.domain import rules

from ..payload import parse
from ..access import needs
from ..credentials import principal
from ..auth import record

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


def _live():
    return current_app.extensions["dashboard"]


@needs("read")
def get_rules():
    """``{"rules": [...], "updated_at", "by"}``: the list in use (the configured one while the
    store has none yet)."""
    live = _live()
    state = live.store.get_state(rules.STATE_KEY)
    if state is None:
        state = {"rules": rules.dump(live.settings.alert_rules), "updated_at": None,
                 "by": "DASHBOARD_ALERT_RULES"}
    return jsonify(state)


@needs("admin")
def put_rules():
    """Replace the whole list with ``{"rules": [...]}``; 200 with the stored state.

    :raise 422: a malformed rule (field paths in ``details``) or repeated names.
    """
    from app.domain.schemas import RulesIn

    spec = parse(RulesIn)
    state = rules.replace(_live().store, spec.rules, by=principal().by)
    record("rules-replace", None, detail={"rules": [r["name"] for r in state["rules"]]})
    return jsonify(state)
