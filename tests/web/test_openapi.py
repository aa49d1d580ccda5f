"""The OpenAPI document: valid shape, pydantic request schemas, and a row for every endpoint."""

from app.web.api.openapi import openapi_path
from app.web.api.operations import ROUTES
from app.web.api.operations_compat import ROUTES as COMPAT_ROUTES


def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_every_api_rule_is_documented(app, client):
    doc = document(client)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = openapi_path(rule.rule)
        assert path in doc["paths"], f"{rule.rule} has no row in app.web.api.operations.ROUTES"
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in doc["paths"][path], f"{method} {rule.rule} is undocumented"


def test_every_row_names_a_rule_the_app_has(app):
    served = {(openapi_path(r.rule), m.lower()) for r in app.url_map.iter_rules()
              for m in r.methods}
    for route in (*ROUTES, *COMPAT_ROUTES):
        assert (route.path, route.method) in served, route


def test_request_schemas_come_from_pydantic_and_refs_resolve(client):
    doc = document(client)
    assert doc["openapi"].startswith("3.1")
    put = doc["paths"]["/api/v1/tasks/{task_id}"]["put"]
    ref = put["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["properties"]["state"]["enum"] == ["pending", "running", "succeeded", "failed"]
    assert put["security"] == [{"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    params = {p["name"] for p in doc["paths"]["/api/v1/events"]["get"]["parameters"]}
    assert params == {"level", "since", "limit"}
    text = str(doc)
    for name in __import__("re").findall(r"#/components/schemas/(\w+)", text):
        assert name in doc["components"]["schemas"]
    for path in ("/healthz", "/readyz", "/metrics", "/simulator/scenarios/{name}",
                 "/api/v1/tasks/{task_id}/stream"):
        assert path in doc["paths"]


def test_simulator_rows_are_left_out_when_it_is_off(make_app):
    doc = make_app(SIMULATOR=False).test_client().get("/api/v1/openapi.json").get_json()
    assert not any(path.startswith("/simulator") for path in doc["paths"])


def test_the_served_document_is_valid_openapi(client):
    # openapi-spec-validator knows OpenAPI 3.1 and its JSON Schema dialect: it caught the 409
    # and 410 answers whose schema was a (description, schema) pair, which Schemathesis'
    # command line stopped on.
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    doc = document(client)
    try:
        validate(doc)
    except OpenAPIValidationError as exc:  # the message names the path in the document
        raise AssertionError(f"invalid OpenAPI: {exc}") from None
