"""Read a request's JSON body or query string into a payload schema (``app.domain.schemas``).

pydantic loads with the first model handed in, not with this module: a worker at rest never
imports it (``docs/performance.md``); hence ``ValidationError`` is imported where it is caught.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import request

from app.domain.payloads import BadPayload, field_errors

if TYPE_CHECKING:
    from pydantic import BaseModel


def parse_query(model: type[BaseModel]) -> BaseModel:
    """Validate the request's query string against ``model`` (unknown parameters are refused).

    :raise BadPayload: 400 naming each bad parameter in ``details[].field``, or a parameter
        given twice (``?state=a&state=b`` would otherwise mean its first value, silently).
    """
    from pydantic import ValidationError

    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise BadPayload(400, f"invalid query parameter: {', '.join(repeated)}",
                         [{"field": name, "message": "give it once"} for name in repeated])
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        details = field_errors(exc)
        names = ", ".join(sorted({d["field"] for d in details}))
        raise BadPayload(400, f"invalid query parameter: {names}", details) from None


#: Levels of JSON nesting a body may have; no payload of ours needs more than 4.
MAX_DEPTH = 32


def _deeper_than(value, limit: int) -> bool:
    """Whether ``value`` (decoded JSON) nests more than ``limit`` arrays/objects; iterative,
    so that no depth can exhaust the stack."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def parse(model: type[BaseModel]) -> BaseModel:
    """Validate the request's JSON body against ``model``.

    :raise BadPayload: 415 for a body that is not ``application/json``, 400 for JSON that does
        not parse, is not an object or nests deeper than :data:`MAX_DEPTH`, 422 with field
        paths for a schema error. (413 for an
        oversized body is raised by Werkzeug from ``DASHBOARD_MAX_BODY``.)
    """
    from pydantic import ValidationError

    if not request.is_json:
        raise BadPayload(415, "the body must be JSON (Content-Type: application/json)")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # the json module's own limit, far past ours
        body = None
    if not isinstance(body, dict):
        raise BadPayload(400, "the body must be a JSON object (nested at most "
                              f"{MAX_DEPTH} levels)")
    if _deeper_than(body, MAX_DEPTH):
        raise BadPayload(400, f"the body is nested deeper than {MAX_DEPTH} levels")
    try:
        # strict: JSON's true and false are not numbers, nor is "1" (the document says so).
        return model.model_validate(body, strict=True)
    except ValidationError as exc:
        raise BadPayload(422, "invalid payload", field_errors(exc)) from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    """:func:`parse`, validating the raw body with pydantic's own JSON parser first (no
    ``json.loads``, no depth walk, no Python objects in between): the ingest path's cost per
    request. A body that this refuses, for any reason, goes through :func:`parse`, so a bad one
    gets exactly its answer; one that this accepts is one that :func:`parse` accepts too (the
    models are strict, forbid unknown fields and hold no type that JSON spells as a string,
    such as dates, so the two modes agree).

    :raise BadPayload: as :func:`parse`.
    """
    if request.is_json:
        try:
            return model.model_validate_json(request.get_data(cache=True), strict=True)
        except ValueError:  # ValidationError is one
            pass
    return parse(model)
