"""``/api/v1/silences``: silence alerts for a while, list the active silences, end one.

Writes pass :func:`app.web.auth.check_write` like every ``/api/`` write; the matching lives in
``app.domain.silences``.
"""

from __future__ import annotations

import time

from flask import current_app, jsonify

from app.domain import silences
from app.domain.payloads import SILENCE_MAX

from ..errors import error_response
from ..payload import parse
from ..access import needs
from ..credentials import principal
from ..auth import record

# Payload schemas are imported by the views that use them: they load on the first request
# that needs them, and a worker at rest never imports pydantic (docs/performance.md).


def _store():
    return current_app.extensions["dashboard"].store


@needs("operate")
def post_silence():
    """``{"matchers": {"name"?, "host"?, "level"?}, "duration" | "ends_at", "comment"?}``
    -> 201 with the silence, ``created_by`` the credential's holder; 200 with the active
    silence of the same matchers, extended, if there is one. An ``ends_at`` over a year ahead
    is capped to a year, like ``duration``.

    :raise 422: a bad body, an end in the past, or too many active silences (in all, or of
        this creator: ``app.domain.silences.MAX_ACTIVE`` and ``MAX_PER_CREATOR``).
    """
    from app.domain.silence_schemas import SilenceIn

    spec = parse(SilenceIn)
    now = time.time()
    ends_at = now + spec.duration if spec.ends_at is None else min(spec.ends_at, now + SILENCE_MAX)
    try:
        silence, new = silences.create(_store(), spec.matchers.model_dump(exclude_none=True),
                                       ends_at, by=principal().by, comment=spec.comment, now=now)
    except ValueError as exc:
        return error_response(422, str(exc))
    record("silence-create" if new else "silence-extend", silence["id"],
           detail={"matchers": silence["matchers"], "ends_at": silence["ends_at"]})
    return jsonify(silence), 201 if new else 200


@needs("read")
def list_silences():
    """The silences that have not ended, the latest ending first."""
    return jsonify(silences.active(_store()))


@needs("operate")
def delete_silence(silence_id: str):
    """End the silence now; 200 with it (also when it had ended already).

    :raise 404: unknown id.
    """
    silence = silences.expire(_store(), silence_id)
    if silence is None:
        return error_response(404, f"no silence with id {silence_id!r}")
    record("silence-end", silence_id)
    return jsonify(silence)
