"""The OpenAPI document: valid OpenAPI 3.1, covering every API route and the error shape."""

from __future__ import annotations

import re

import pytest
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


# ------------------------------------------------------------- real responses vs the document

#: One request per documented operation (path, method, extra kwargs), answered for real.
EXERCISED = [
    ("/api/stations?limit=3&kind=warm_station", "GET", {}),
    ("/api/stations/ws-01?lang=en", "GET", {}),
    ("/api/nearest?lon=24.944&lat=60.17&k=3", "GET", {}),
    ("/api/isochrone?lon=24.944&lat=60.17&minutes=5,10", "GET", {}),
    ("/api/route?from=24.944,60.170&to=24.941,60.171", "GET", {}),
    ("/api/lines", "GET", {}),
    ("/api/openapi.json", "GET", {}),
    ("/oembed?url=http://localhost/embed/stations", "GET", {}),
    ("/", "GET", {}),
    ("/planner", "GET", {}),
    ("/planner/download", "GET", {}),
    ("/embed/stations", "GET", {}),
    ("/basemap.json", "GET", {}),
    ("/tiles/en/16/37308/18968.png", "GET", {}),
    ("/assets/warmheart/warmheart.css", "GET", {}),
    ("/api/coverage?kind=warm_station&minutes=5,10&at=Tu%2012:00", "GET", {}),
    ("/api/coverage/streets?minutes=5,10", "GET", {}),
    ("/api/coverage/hours?minutes=10", "GET", {}),
    ("/planner/stations", "GET", {}),
]

NEW_STATION = {
    "type": "Feature",
    "geometry": {"type": "Point", "coordinates": [24.944, 60.170]},
    "properties": {"kind": "warm_station", "name": "Contract hall", "id": "contract-1"},
}


def test_every_operation_answers_as_documented(app, admin_headers):
    """Each documented operation is called for real and its answer validates against the
    document (the test client checks every response; writes included)."""
    client = app.test_client()
    seen = set()
    for url, method, kwargs in EXERCISED:
        response = client.open(url, method=method, **kwargs)
        assert response.status_code == 200, (url, response.get_data(as_text=True)[:200])
        rule = app.url_map.bind("localhost").match(url.split("?")[0], return_rule=True)[0]
        seen.add((re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method))
    created = client.post("/api/stations", json=NEW_STATION, headers=admin_headers)
    assert created.status_code == 201
    update = {"properties": {"name": "Renamed hall"}, "type": "Feature"}
    assert (
        client.put("/api/stations/contract-1", json=update, headers=admin_headers).status_code
        == 200
    )
    assert client.delete("/api/stations/contract-1", headers=admin_headers).status_code == 204
    seen |= {("/api/stations", "POST"), ("/api/stations/{station_id}", "PUT")}
    seen |= {("/api/stations/{station_id}", "DELETE")}
    body = {"objective": "mclp", "add": 1, "minutes": 5, "demand": "hotspots"}
    proposal = client.post("/api/siting", json=body, headers=admin_headers)
    assert proposal.status_code == 200, proposal.get_data(as_text=True)
    adopt = {"proposal_id": proposal.get_json()["proposal_id"]}
    assert client.post("/api/siting/adopt", json=adopt, headers=admin_headers).status_code == 201
    seen |= {("/api/siting", "POST"), ("/api/siting/adopt", "POST")}
    seen |= _exercise_planner_jobs(client, admin_headers)
    doc = client.get("/api/openapi.json").get_json()
    assert _documented_routes(doc) == seen


def _exercise_planner_jobs(client, admin_headers) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Start a small planning job, follow it to the end, open its result page."""
    import io
    import time

    riders = "id,lon,lat\n" + "".join(f"r{i},24.94{i},60.17{i}\n" for i in range(5))
    started = client.post(
        "/api/planner/jobs",
        headers=admin_headers,
        data={
            "riders": (io.BytesIO(riders.encode()), "riders.csv"),
            "workplace": "24.9476,60.1698",
            "time_limit_s": "1",
            "evening_departure": "17:30",
        },
        content_type="multipart/form-data",
    )
    assert started.status_code == 202, started.get_data(as_text=True)
    job = started.get_json()
    for _ in range(120):
        job = client.get(started.headers["Location"]).get_json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.25)
    assert job["state"] == "done", job
    assert client.get("/api/planner/jobs/current").status_code == 200
    assert client.get(job["result_url"]).status_code == 200
    return {
        ("/api/planner/jobs", "POST"),
        ("/api/planner/jobs/{job_id}", "GET"),
        ("/api/planner/jobs/current", "GET"),
    }


def test_error_answers_are_documented_and_validate(client, admin_headers):
    """400, 401, 404, 413 and 422-style answers carry the documented Error body."""
    assert client.get("/api/nearest?lon=999&lat=0").status_code == 400
    assert client.get("/api/stations/nope").status_code == 404
    assert client.post("/api/stations", json=NEW_STATION).status_code == 401
    big = {"type": "Feature", "properties": {"notes": "x" * 1_100_000}}
    assert client.post("/api/stations", json=big, headers=admin_headers).status_code == 413
    assert client.get("/oembed?url=http://localhost/embed/stations&format=xml").status_code == 501


@pytest.mark.parametrize(
    ("url", "rename"),
    [
        ("/api/stations", ("name", "title")),
        ("/api/nearest?lon=24.944&lat=60.17", ("walk_time_s", "walk_seconds")),
        ("/api/lines", ("riders", "load")),
    ],
)
def test_a_renamed_response_field_fails_validation(app, monkeypatch, url, rename):
    """Renaming a field the server sends breaks the contract check (the test would fail)."""
    from _contract import ContractViolationError

    old, new = rename
    provider = app.json

    def renamed(*args, **kwargs):
        response = type(provider).response(provider, *args, **kwargs)
        text = response.get_data(as_text=True).replace(f'"{old}":', f'"{new}":')
        response.set_data(text)
        return response

    monkeypatch.setattr(provider, "response", renamed)
    with pytest.raises(ContractViolationError, match="schema violation"):
        app.test_client().get(url)


def test_vocabularies_in_the_document_come_from_the_model(client):
    """kinds, amenities, access, languages and unserved reasons are the model's own lists."""
    from routing.shuttle.model import UNSERVED_REASONS
    from stations.model import ACCESS, AMENITIES, KINDS, LANGUAGES

    doc = client.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    props = schemas["StationProperties"]["properties"]
    assert props["kind"]["enum"] == list(KINDS)
    assert props["amenities"]["items"]["enum"] == list(AMENITIES)
    assert props["access"]["enum"] == list(ACCESS)
    assert schemas["UnservedRider"]["properties"]["reason"]["enum"] == list(UNSERVED_REASONS)
    nearest = {p["name"]: p for p in doc["paths"]["/api/nearest"]["get"]["parameters"]}
    assert nearest["lang"]["schema"]["enum"] == list(LANGUAGES)
    assert nearest["kind"]["schema"]["items"]["enum"] == list(KINDS)
    assert nearest["lat"]["schema"] == {"type": "number", "minimum": -90.0, "maximum": 90.0}
    assert nearest["lat"]["required"] is True


def test_every_route_declares_its_contract(app):
    """No view is left out of the document: each carries an operation declaration."""
    from webmap.openapi import declared_operations

    missing = [(path, method) for path, method, spec in declared_operations(app) if spec is None]
    assert missing == []


def test_station_properties_order_is_the_model_order():
    """The properties the state writes are exactly the response model's fields."""
    from webmap.schemas import STATION_PROPERTIES, StationProperties

    assert tuple(StationProperties.model_fields) == STATION_PROPERTIES


def test_line_properties_are_the_encoders():
    """The lines schema lists exactly what the one Plan -> GeoJSON encoder writes."""
    from routing.shuttle.geojson import LINE_PROPERTIES
    from webmap.schemas import LineProperties

    assert tuple(LineProperties.model_fields) == LINE_PROPERTIES
