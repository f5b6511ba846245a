"""The OpenAPI document: valid OpenAPI 3.1, covering every API route and the error shape."""

from __future__ import annotations

import re

from openapi_spec_validator import validate


def _documented_routes(doc: dict) -> set[tuple[str, str]]:
    out = set()
    for path, item in doc["paths"].items():
        for method in item:
            if method in ("get", "post", "put", "delete", "patch"):
                out.add((path, method.upper()))
    return out


def _app_routes(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            out.add((path, method))
    return out


def test_openapi_document_is_valid_openapi_31(client):
    """/api/openapi.json is an OpenAPI 3.1 document that passes the official schema."""
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)
    assert doc["servers"][0]["url"] == "http://localhost"


def test_every_api_route_is_documented_and_nothing_else(app):
    """Every route and method of the app (API, oEmbed and pages) is in the document, and
    every documented operation exists."""
    doc = app.test_client().get("/api/openapi.json").get_json()
    assert _documented_routes(doc) == _app_routes(app)


def test_every_error_response_uses_the_error_schema(client):
    """All 4xx/5xx responses in the document point at the shared Error schema."""
    doc = client.get("/api/openapi.json").get_json()
    responses = doc["components"]["responses"]
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            for status, answer in op["responses"].items():
                if int(status) < 400:
                    continue
                if "$ref" in answer:
                    answer = responses[answer["$ref"].rsplit("/", 1)[1]]
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)


def test_writes_declare_bearer_security(client):
    """Create, update and delete are marked as needing the bearer token."""
    doc = client.get("/api/openapi.json").get_json()
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    ops = [
        doc["paths"]["/api/stations"]["post"],
        doc["paths"]["/api/stations/{station_id}"]["put"],
        doc["paths"]["/api/stations/{station_id}"]["delete"],
    ]
    assert all(op["security"] == [{"bearerAuth": []}] for op in ops)
    assert "security" not in doc["paths"]["/api/nearest"]["get"]


def test_documented_station_properties_match_the_api(client):
    """The StationProperties schema lists exactly the properties the API returns."""
    doc = client.get("/api/openapi.json").get_json()
    documented = set(doc["components"]["schemas"]["StationProperties"]["properties"])
    feature = client.get("/api/stations?limit=1").get_json()["features"][0]
    assert set(feature["properties"]) == documented
