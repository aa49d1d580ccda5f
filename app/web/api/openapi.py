"""The OpenAPI 3.1 document served at ``/api/v1/openapi.json``, built on the first request from
the rows of ``app.web.api.operations.ROUTES`` (to document an endpoint, add a row there) and
those of the compatibility layer (``operations_compat``). Those rows name the payload schemas,
so they load with the first request for the document: a worker at rest never imports pydantic
(``docs/performance.md``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from flask import Flask, current_app, jsonify

from .route import JSON, REF, Route, ref
from ..access import needs


def openapi_path(rule: str) -> str:
    """``/a/<x>``, ``/a/<int:x>`` or ``/a/<any(b, c):x>`` -> ``/a/{x}``: the OpenAPI path of a
    Flask rule."""
    return re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule)


#: What a refusal answers, for every operation that needs a credential.
_REFUSALS = {
    "401": ("no credential, or a wrong one (WWW-Authenticate: Bearer)", {"$ref": REF.format(model="Error")}),
    "403": ("the credential lacks the scope (or role) this needs; the error names it, or no "
            "credential is configured and the client is not local", {"$ref": REF.format(model="Error")}),
    "429": ("too many failed credentials from this client lately; see Retry-After",
            {"$ref": REF.format(model="Error")}),
}


#: gunicorn's answer to a request line over its ``limit_request_line`` (4,094 bytes).
_TOO_LONG = "text/html: the request line (path and query string) is over 4,094 bytes"


def _operation(route: Route, need: tuple[str, ...]) -> dict:
    """The OpenAPI operation of ``route``, whose view declares ``need``
    (``app.web.access.needs``): its security, the scope it says it needs and the refusals
    come from that declaration, not from the row."""
    op: dict = {"summary": route.summary, "tags": [route.tag], "responses": {}}
    if need != ("open",):
        op["description"] = ("Needs a key with the " + " or ".join(f"`{n}`" for n in need)
                             + " scope, or a signed-in person whose role has it.")
    params = []
    for name, spec in route.path_params.items():
        text, schema = (spec, {"type": "string"}) if isinstance(spec, str) else spec
        params.append({"name": name, "in": "path", "required": True, "description": text,
                       "schema": schema})
    params += [{"name": name, "in": "header", "required": False, "description": text,
                "schema": {"type": "string"}} for name, text in route.header_params.items()]
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template=REF)
        for name, prop in schema["properties"].items():
            params.append({"name": name, "in": "query",
                           "required": name in schema.get("required", ()), "schema": prop})
    if params:
        op["parameters"] = params
    if route.query is not None:
        route = replace(route, responses={**route.responses, "414": _TOO_LONG})
    if route.body is not None:
        op["requestBody"] = {"required": route.body_required,
                             "content": {JSON: {"schema": ref(route.body.__name__)}}}
    op["security"] = [] if need == ("open",) else [{"bearer": []}]
    responses = dict(route.responses)
    if need != ("open",):
        responses = {**_REFUSALS, **responses}
    for status, spec in responses.items():
        if isinstance(spec, dict):  # a whole response object (several content types)
            op["responses"][status] = spec
        elif isinstance(spec, str):
            op["responses"][status] = {"description": spec}
        else:
            text, schema = spec
            if not isinstance(schema, dict):  # a row's mistake, caught at the first request
                raise TypeError(f"{route.method} {route.path} {status}: the schema is not an "
                                "object")
            op["responses"][status] = {"description": text, "content": {JSON: {"schema": schema}}}
    return op


def build(app: Flask) -> dict:
    """Return the OpenAPI 3.1 document for the rows of ``operations.ROUTES`` and
    ``operations_compat.ROUTES`` that ``app`` serves."""
    from .operations import MODELS, ROUTES
    from .operations_compat import ROUTES as COMPAT_ROUTES

    served = {(openapi_path(rule.rule), method.lower()):
              getattr(app.view_functions[rule.endpoint], "needs", ("admin",))
              for rule in app.url_map.iter_rules() for method in rule.methods or ()}
    paths: dict[str, dict] = {}
    for route in (*ROUTES, *COMPAT_ROUTES):
        need = served.get((route.path, route.method))
        if need is not None:
            paths.setdefault(route.path, {})[route.method] = _operation(route, need)
    schemas: dict = {"Error": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}}}}}
    for model in MODELS:
        schema = model.model_json_schema(ref_template=REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return {
        "openapi": "3.1.0",
        "info": {"title": "live-dashboard API", "version": "1",
                 "description": "Send an API key as `Authorization: Bearer <key>`; each "
                                "operation says which scope it needs. With no account, key or "
                                "token configured, a client on this machine needs none."},
        "paths": paths,
        "components": {"schemas": schemas,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


@needs("read")
def openapi():
    """``GET /api/v1/openapi.json``: the document, built on the first request, not at start:
    building it compiles every pydantic model, memory an idle worker never needs."""
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build(current_app)
    return jsonify(document)
