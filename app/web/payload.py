"""Read a request's JSON body or query string into a payload schema (``app.domain.schemas``)."""

from __future__ import annotations

from flask import request
from pydantic import BaseModel, ValidationError

from app.domain.schemas import BadPayload, field_errors


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the request's query string against ``model`` (unknown parameters are refused).

    :raise BadPayload: 400 naming each bad parameter in ``details[].field``.
    """
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        details = field_errors(exc)
        names = ", ".join(sorted({d["field"] for d in details}))
        raise BadPayload(400, f"invalid query parameter: {names}", details) from None


def parse(model: type[BaseModel]) -> BaseModel:
    """Validate the request's JSON body against ``model``.

    :raise BadPayload: 415 for a body that is not ``application/json``, 400 for JSON that does
        not parse or is not an object, 422 with field paths for a schema error. (413 for an
        oversized body is raised by Werkzeug from ``DASHBOARD_MAX_BODY``.)
    """
    if not request.is_json:
        raise BadPayload(415, "the body must be JSON (Content-Type: application/json)")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadPayload(400, "the body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadPayload(422, "invalid payload", field_errors(exc)) from None
