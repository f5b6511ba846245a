"""The OpenAPI 3.1 document of the warmheart API, served at ``/api/openapi.json``.

Written by hand next to :mod:`webmap.api`; a test checks that every API route is documented
and that the document validates against the OpenAPI 3.1 schema.
"""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from stations.model import KINDS

from ._params import LANGUAGES

__all__ = ["build_openapi"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _resp(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _param(
    name: str,
    description: str,
    schema: dict[str, Any],
    *,
    required: bool = False,
    where: str = "query",
    example: Any = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "in": where,
        "required": required,
        "description": description,
        "schema": schema,
    }
    if example is not None:
        out["example"] = example
    return out


def _json(
    schema: dict[str, Any], description: str, media: str = "application/json"
) -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": schema}}}


_KINDS = list(KINDS)

_LON = _param(
    "lon",
    "Longitude (WGS-84 degrees).",
    {"type": "number", "minimum": -180, "maximum": 180},
    required=True,
    example=24.9384,
)
_LAT = _param(
    "lat",
    "Latitude (WGS-84 degrees).",
    {"type": "number", "minimum": -90, "maximum": 90},
    required=True,
    example=60.1699,
)
_KIND = _param(
    "kind",
    "Station kind(s), repeated or comma-separated.",
    {"type": "string"},
    example="warm_station",
)
_AMENITY = _param(
    "amenity",
    "Required amenities (all of them), repeated or comma-separated.",
    {"type": "string"},
    example="drinking_water",
)
_OPEN_AT = _param(
    "open_at",
    "Only stations open at this ISO 8601 date-time (local time of the station when no offset "
    "is given) or `now`.",
    {"type": "string"},
    example="2026-01-15T08:30",
)
_LANG = _param(
    "lang",
    "Language of station names where a variant exists.",
    {"type": "string", "enum": list(LANGUAGES)},
)

_READ_ERRORS = {
    "400": _resp("BadRequest"),
    "429": _resp("TooManyRequests"),
    "500": _resp("ServerError"),
}
_WRITE_ERRORS = {
    "400": _resp("BadRequest"),
    "401": _resp("Unauthorized"),
    "403": _resp("Forbidden"),
    "500": _resp("ServerError"),
}

_NULLABLE_STR = {"type": ["string", "null"]}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "message": {"type": "string"},
                },
            }
        },
    },
    "Point": {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"const": "Point"},
            "coordinates": {
                "type": "array",
                "items": {"type": "number"},
                "minItems": 2,
                "maxItems": 2,
            },
        },
    },
    "LineString": {
        "type": "object",
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"const": "LineString"},
            "coordinates": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "number"}},
            },
        },
    },
    "StationProperties": {
        "type": "object",
        "required": ["id", "kind", "name"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": _KINDS},
            "name": {"type": "string", "description": "In `lang` where a variant exists."},
            "names": {"type": "object", "additionalProperties": {"type": "string"}},
            "address": _NULLABLE_STR,
            "host_type": _NULLABLE_STR,
            "amenities": {"type": "array", "items": {"type": "string"}},
            "opening_hours": {
                "type": ["string", "null"],
                "description": "OSM opening_hours syntax.",
            },
            "open_now": {
                "type": ["boolean", "null"],
                "description": "Open at open_at (default now); null if unknown.",
            },
            "access": {"type": "string", "enum": ["public", "employees"]},
            "capacity": {"type": ["integer", "null"]},
            "certification": _NULLABLE_STR,
            "seven_have": {"type": "array", "items": {"type": "string"}},
            "contact": _NULLABLE_STR,
            "notes": _NULLABLE_STR,
            "source": _NULLABLE_STR,
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "StationFeature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "id": {"type": "string"},
            "geometry": _ref("Point"),
            "properties": _ref("StationProperties"),
        },
    },
    "StationCollection": {
        "type": "object",
        "required": ["type", "features", "numberMatched", "numberReturned", "next"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "numberMatched": {"type": "integer"},
            "numberReturned": {"type": "integer"},
            "next": {
                "type": ["string", "null"],
                "format": "uri",
                "description": "URL of the next page, null on the last.",
            },
            "features": {"type": "array", "items": _ref("StationFeature")},
        },
    },
    "StationInput": {
        "description": (
            "A GeoJSON Point Feature whose properties are station fields (id optional on "
            "create), or a flat object with lon/lat. On update only the given fields change."
        ),
        "type": "object",
        "properties": {
            "type": {"const": "Feature"},
            "geometry": _ref("Point"),
            "properties": {"type": "object"},
        },
    },
    "NearestResult": {
        "type": "object",
        "required": ["origin", "results", "reason"],
        "properties": {
            "origin": {
                "type": "object",
                "properties": {
                    "lon": {"type": "number"},
                    "lat": {"type": "number"},
                    "snap_distance_m": {"type": ["number", "null"]},
                },
            },
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["station", "walk_time_s", "walk_distance_m", "open", "route"],
                    "properties": {
                        "station": _ref("StationFeature"),
                        "walk_time_s": {"type": "integer"},
                        "walk_distance_m": {"type": "integer"},
                        "open": {"type": ["boolean", "null"]},
                        "route": _ref("LineString"),
                    },
                },
            },
            "reason": {
                "type": ["string", "null"],
                "description": "Why results are empty (off the map, none in reach).",
            },
        },
    },
    "IsochroneCollection": {
        "type": "object",
        "required": ["type", "features"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"const": "Feature"},
                        "geometry": {
                            "type": "object",
                            "properties": {"type": {"enum": ["Polygon", "MultiPolygon"]}},
                        },
                        "properties": {
                            "type": "object",
                            "required": ["minutes"],
                            "properties": {"minutes": {"type": "integer"}},
                        },
                    },
                },
            },
        },
    },
    "RouteFeature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"const": "Feature"},
            "geometry": _ref("LineString"),
            "properties": {
                "type": "object",
                "required": ["length_m", "time_s"],
                "properties": {
                    "length_m": {"type": "number", "description": "Door to door (m)."},
                    "time_s": {"type": "number", "description": "Door to door (s)."},
                    "network_length_m": {"type": "number"},
                    "network_time_s": {"type": "number"},
                    "snap_m": {"type": "array", "items": {"type": "number"}},
                },
            },
        },
    },
    "LinesCollection": {
        "type": "object",
        "required": ["type", "features", "kpis", "unserved"],
        "properties": {
            "type": {"const": "FeatureCollection"},
            "kpis": {"type": ["object", "null"]},
            "unserved": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["rider_id", "reason"],
                    "properties": {
                        "rider_id": {"type": "string"},
                        "reason": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
            "features": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "type": {"const": "Feature"},
                        "geometry": _ref("LineString"),
                        "properties": {
                            "type": "object",
                            "properties": {
                                "line_id": {"type": "string"},
                                "bus_type": {"type": "string"},
                                "seats": {"type": ["integer", "null"]},
                                "riders": {"type": "integer"},
                                "distance_m": {"type": "number"},
                                "duration_s": {"type": "integer"},
                                "stops": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "stop_id": {"type": "string"},
                                            "name": {"type": "string"},
                                            "lon": {"type": "number"},
                                            "lat": {"type": "number"},
                                            "arrival": {"type": "string"},
                                            "departure": {"type": "string"},
                                            "boarding": {"type": "integer"},
                                            "load": {"type": "integer"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "OEmbed": {
        "type": "object",
        "required": ["version", "type", "html", "width", "height"],
        "properties": {
            "version": {"const": "1.0"},
            "type": {"const": "rich"},
            "provider_name": {"type": "string"},
            "provider_url": {"type": "string"},
            "title": {"type": "string"},
            "html": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "cache_age": {"type": "integer"},
        },
    },
}


def _error_response(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


_RESPONSES = {
    "BadRequest": _error_response("Malformed or out-of-range parameters or body."),
    "Unauthorized": _error_response("Missing or wrong bearer token; nothing was changed."),
    "Forbidden": _error_response("Writes are disabled (no WARMHEART_ADMIN_TOKEN configured)."),
    "NotFound": _error_response("No such station (or path)."),
    "TooManyRequests": _error_response("Rate limit of public reads exceeded; see Retry-After."),
    "ServerError": _error_response("Unexpected server error."),
}

_GEO = "application/geo+json"
_STATION_ID = _param("station_id", "Station id.", {"type": "string"}, required=True, where="path")

_PATHS: dict[str, Any] = {
    "/api/stations": {
        "get": {
            "operationId": "listStations",
            "summary": "Stations as GeoJSON, filtered and paged",
            "parameters": [
                _param(
                    "bbox",
                    "minlon,minlat,maxlon,maxlat (WGS-84).",
                    {"type": "string"},
                    example="24.92,60.16,24.96,60.18",
                ),
                _KIND,
                _AMENITY,
                _OPEN_AT,
                _param(
                    "limit",
                    "Page size.",
                    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                ),
                _param(
                    "offset", "Features to skip.", {"type": "integer", "minimum": 0, "default": 0}
                ),
                _LANG,
            ],
            "responses": {
                "200": _json(_ref("StationCollection"), "Stations.", _GEO),
                **_READ_ERRORS,
            },
        },
        "post": {
            "operationId": "createStation",
            "summary": "Create a station (admin token)",
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("StationInput")}},
            },
            "responses": {"201": _json(_ref("StationFeature"), "Created.", _GEO), **_WRITE_ERRORS},
        },
    },
    "/api/stations/{station_id}": {
        "parameters": [_STATION_ID],
        "get": {
            "operationId": "getStation",
            "summary": "One station",
            "parameters": [_OPEN_AT, _LANG],
            "responses": {
                "200": _json(_ref("StationFeature"), "The station.", _GEO),
                "404": _resp("NotFound"),
                **_READ_ERRORS,
            },
        },
        "put": {
            "operationId": "updateStation",
            "summary": "Update a station's fields (admin token)",
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("StationInput")}},
            },
            "responses": {
                "200": _json(_ref("StationFeature"), "Updated.", _GEO),
                "404": _resp("NotFound"),
                **_WRITE_ERRORS,
            },
        },
        "delete": {
            "operationId": "deleteStation",
            "summary": "Delete a station (admin token)",
            "security": [{"bearerAuth": []}],
            "responses": {
                "204": {"description": "Deleted."},
                "404": _resp("NotFound"),
                **_WRITE_ERRORS,
            },
        },
    },
    "/api/nearest": {
        "get": {
            "operationId": "nearestStations",
            "summary": "The k nearest stations by walking time, with routes",
            "parameters": [
                _LON,
                _LAT,
                _param(
                    "k",
                    "How many stations.",
                    {"type": "integer", "minimum": 1, "maximum": 50, "default": 5},
                ),
                _KIND,
                _AMENITY,
                _OPEN_AT,
                _LANG,
            ],
            "responses": {"200": _json(_ref("NearestResult"), "Nearest stations."), **_READ_ERRORS},
        },
    },
    "/api/isochrone": {
        "get": {
            "operationId": "isochrone",
            "summary": "Area reachable on foot within the given minutes",
            "parameters": [
                _LON,
                _LAT,
                _param(
                    "minutes",
                    "1-6 comma-separated minutes, each 1-60.",
                    {"type": "string", "default": "5,10,15"},
                ),
            ],
            "responses": {
                "200": _json(_ref("IsochroneCollection"), "Isochrones.", _GEO),
                **_READ_ERRORS,
            },
        },
    },
    "/api/route": {
        "get": {
            "operationId": "walkingRoute",
            "summary": "Fastest walking route between two points",
            "parameters": [
                _param(
                    "from",
                    "lon,lat of the start.",
                    {"type": "string"},
                    required=True,
                    example="24.9384,60.1699",
                ),
                _param(
                    "to",
                    "lon,lat of the end.",
                    {"type": "string"},
                    required=True,
                    example="24.9414,60.1710",
                ),
            ],
            "responses": {
                "200": _json(_ref("RouteFeature"), "The route.", _GEO),
                "422": _error_response("The two points are not connected."),
                **_READ_ERRORS,
            },
        },
    },
    "/api/lines": {
        "get": {
            "operationId": "shuttleLines",
            "summary": "Shuttle lines of the loaded plan, with KPIs and unserved riders",
            "responses": {"200": _json(_ref("LinesCollection"), "Lines.", _GEO), **_READ_ERRORS},
        },
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "responses": {
                "200": {"description": "OpenAPI 3.1 document.", "content": {"application/json": {}}}
            },
        },
    },
    "/oembed": {
        "get": {
            "operationId": "oembed",
            "summary": "oEmbed (rich) for an /embed/... URL of this site",
            "parameters": [
                _param("url", "An /embed/... URL of this site.", {"type": "string"}, required=True),
                _param("format", "Only json.", {"type": "string", "default": "json"}),
                _param("maxwidth", "Largest iframe width.", {"type": "integer", "minimum": 1}),
                _param("maxheight", "Largest iframe height.", {"type": "integer", "minimum": 1}),
            ],
            "responses": {
                "200": _json(_ref("OEmbed"), "The oEmbed object."),
                "404": _error_response("Not an embed URL of this site."),
                "501": _error_response("Format other than json."),
                **_READ_ERRORS,
            },
        },
    },
}


def _page_error(description: str) -> dict[str, Any]:
    return {
        "description": description + " An HTML page when the client accepts HTML.",
        "content": {"application/json": {"schema": _ref("Error")}, "text/html": {}},
    }


def _page(operation: str, summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": operation,
            "tags": ["pages"],
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {"description": "HTML page.", "content": {"text/html": {}}},
                "400": _page_error("Malformed parameters."),
                "404": _page_error("Unknown embed name or asset."),
            },
        }
    }


_PAGE_LANG = _param(
    "lang",
    "Interface language (else Accept-Language).",
    {"type": "string", "enum": list(LANGUAGES)},
)
_CENTER = _param("center", "lon,lat of the map centre.", {"type": "string"})
_ZOOM = _param("zoom", "Map zoom.", {"type": "integer", "minimum": 1, "maximum": 19})
_PAGE_KIND = _param("kind", "Station kinds shown, repeated or comma-separated.", {"type": "string"})

_PAGES: dict[str, Any] = {
    "/": _page(
        "locatorPage",
        "Locator: stations, near me, walking route",
        [_PAGE_LANG, _PAGE_KIND, _AMENITY, _CENTER, _ZOOM],
    ),
    "/planner": _page(
        "plannerPage", "Planner: shuttle lines, stops, KPIs, unserved riders", [_PAGE_LANG]
    ),
    "/planner/download": _page(
        "plannerDownload", "The planner map as standalone HTML", [_PAGE_LANG]
    ),
    "/embed/{name}": _page(
        "embedPage",
        "Chrome-less map for iframes (stations, warm_station, nursing_room, shuttle_stop, lines)",
        [
            _param("name", "Which map.", {"type": "string"}, required=True, where="path"),
            _PAGE_LANG,
            _PAGE_KIND,
            _CENTER,
            _ZOOM,
        ],
    ),
    "/basemap.json": {
        "get": {
            "operationId": "streetBasemap",
            "tags": ["pages"],
            "summary": "The Area's walkable streets as a compact vector basemap (tiles off)",
            "parameters": [],
            "responses": {
                "200": {
                    "description": "classes, lines ([class, lon0, lat0, lon1, lat1, ...]) "
                    "and attribution.",
                    "content": {"application/json": {}},
                }
            },
        }
    },
    "/assets/{library}/{filename}": _page(
        "asset",
        "Self-hosted front-end assets (Leaflet, MarkerCluster, ...)",
        [
            _param("library", "Library.", {"type": "string"}, required=True, where="path"),
            _param("filename", "File.", {"type": "string"}, required=True, where="path"),
        ],
    ),
}


def build_openapi(*, server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict), with ``server_url`` as its server."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pkg_version = version("warmheart")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        pkg_version = "0"
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "warmheart API",
            "version": pkg_version,
            "description": (
                "Warm-heart stations, nursing rooms and shuttle stops on an OpenStreetMap walk "
                "graph; shuttle lines. Every 4xx/5xx answer is "
                '`{"error": {"status": <int>, "message": <str>}}`. Public reads are '
                "rate-limited per client; station writes need `Authorization: Bearer <token>`."
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "paths": {**deepcopy(_PATHS), **deepcopy(_PAGES)},
        "tags": [{"name": "pages", "description": "HTML pages (documented for completeness)."}],
        "components": {
            "schemas": deepcopy(_SCHEMAS),
            "responses": deepcopy(_RESPONSES),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
