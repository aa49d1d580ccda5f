"""What code loaded at start needs of the payload schemas, without pydantic: the error a bad
payload raises and the limits that routes and checks use.

The schemas themselves (``app.domain.schemas`` and its siblings) load on the first request
that needs them: a worker at rest never imports pydantic (``docs/performance.md``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError

#: States after which a task takes no more updates (409).
FINAL_STATES = frozenset({"succeeded", "failed"})
#: ``task_id`` in ``/api/v1/tasks/<task_id>``: 1-100 characters of letters, digits, ``.``,
#: ``_``, ``-``.
TASK_ID_PATTERN = r"^[A-Za-z0-9._-]{1,100}$"
#: The longest a silence lasts, seconds (366 days): for ``duration`` and ``ends_at`` alike.
SILENCE_MAX = 366 * 86400


def field_errors(exc: ValidationError) -> list[dict]:
    """Turn pydantic's errors into ``[{"field": "a.b", "message": "..."}]`` for JSON replies."""
    return [{"field": ".".join(str(p) for p in err["loc"]) or "(body)", "message": err["msg"]}
            for err in exc.errors(include_url=False)]


class BadPayload(Exception):
    """A request's body or query string is not what its schema takes.

    :param status: the 4xx status it deserves (400, 415, 422).
    :param message: the ``error`` text of the JSON answer; ``details`` (optional) are
        ``[{"field", "message"}]`` as :func:`field_errors` makes them.
    """

    def __init__(self, status: int, message: str, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.details = details
