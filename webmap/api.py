"""The JSON / GeoJSON API, mounted under ``/api``.

Public reads (rate-limited): ``GET /api/stations``, ``/api/nearest``, ``/api/isochrone``,
``/api/route``, ``/api/lines``, ``/api/openapi.json``. Writes (bearer token):
``POST /api/stations``, ``PUT /api/stations/<id>``, ``DELETE /api/stations/<id>``.
Each view declares its parameters and answers once with :func:`webmap.openapi.operation`
(models in :mod:`webmap._params` and :mod:`webmap.schemas`); every error is
``{"error": {"status", "message"}}`` (:mod:`webmap.errors`).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from routing._errors import DisconnectedGraphError

from . import schemas
from ._bodies import parse_json_body
from ._errors import ParameterError, StationNotFound
from ._params import IsochroneQuery, NearestQuery, RouteQuery, StationQuery, StationsQuery
from .auth import require_token
from .errors import error_response
from .i18n import LANGUAGES
from .openapi import GEOJSON, WRITE_ERRORS, build_openapi, operation
from .state import get_state

__all__ = ["bp"]

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")

_STATION_ID = {"station_id": "Station id."}


def _geojson(payload: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.mimetype = GEOJSON
    return response


def _lang(given: str | None) -> str | None:
    """Names in ``?lang=``, else the best of Accept-Language we have, else as recorded."""
    if given:
        return given
    best = request.accept_languages.best_match(LANGUAGES)
    return str(best) if best else None


def _conditional(response: Response) -> Response:
    """Add a strong ETag and answer ``304 Not Modified`` when the client already has it."""
    response.add_etag()
    response.make_conditional(request)  # updates ``response`` in place
    return response


# ------------------------------------------------------------------------------------ reads


@bp.get("/stations")
@operation(
    "listStations",
    "Stations as GeoJSON, filtered and paged",
    query=StationsQuery,
    responses={200: (schemas.StationCollection, "Stations.")},
    media=GEOJSON,
)
def list_stations(*, query: StationsQuery) -> Response:
    """Stations as a GeoJSON FeatureCollection, filtered and paged."""
    state = get_state()
    matched = state.query_stations(
        bbox=query.bbox, kinds=query.kind, amenities=query.amenity, open_at=query.open_at
    )
    offset, limit = query.offset, query.limit
    page = matched[offset : offset + limit]
    lang = _lang(query.lang)
    features = [state.station_feature(s, lang=lang, at=query.open_at) for s in page]
    next_url = None
    if offset + limit < len(matched):
        args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("offset", "limit")]
        args += [("limit", str(limit)), ("offset", str(offset + limit))]
        next_url = f"{url_for('api.list_stations', _external=True)}?{urlencode(args)}"
    return _conditional(
        _geojson(
            {
                "type": "FeatureCollection",
                "numberMatched": len(matched),
                "numberReturned": len(features),
                "next": next_url,
                "features": features,
            }
        )
    )


@bp.get("/stations/<station_id>")
@operation(
    "getStation",
    "One station",
    query=StationQuery,
    responses={200: (schemas.StationFeature, "The station.")},
    media=GEOJSON,
    errors=(400, 404, 429, 500, 503),
    path_params=_STATION_ID,
)
def get_station(station_id: str, *, query: StationQuery) -> Response:
    """One station as a GeoJSON Feature."""
    state = get_state()
    station = state.get_station(station_id)
    return _geojson(state.station_feature(station, lang=_lang(query.lang), at=query.open_at))


@bp.get("/nearest")
@operation(
    "nearestStations",
    "The k nearest stations by walking time, with routes",
    query=NearestQuery,
    responses={200: (schemas.NearestResponse, "Nearest stations.")},
)
def nearest(*, query: NearestQuery) -> Response:
    """The ``k`` nearest stations by walking time, with routes."""
    try:
        result = get_state().nearest(
            query.lon,
            query.lat,
            k=query.k,
            kinds=query.kind,
            amenities=query.amenity,
            open_at=query.open_at,
            at=query.at,
            lang=_lang(query.lang),
        )
    except ValueError as exc:  # the locator's input checks
        raise ParameterError(str(exc)) from exc
    return jsonify(result)


@bp.get("/isochrone")
@operation(
    "isochrone",
    "Area reachable on foot within the given minutes",
    query=IsochroneQuery,
    responses={200: (schemas.IsochroneCollection, "Isochrones, largest first.")},
    media=GEOJSON,
)
def isochrone(*, query: IsochroneQuery) -> Response:
    """Walking isochrones as a FeatureCollection of (Multi)Polygons."""
    try:
        result = get_state().isochrone(query.lon, query.lat, minutes=query.minutes)
    except ValueError as exc:  # off the map, bad input
        raise ParameterError(str(exc)) from exc
    return _geojson(result)


@bp.get("/route")
@operation(
    "walkingRoute",
    "Fastest walking route between two points",
    query=RouteQuery,
    responses={200: (schemas.RouteFeature, "The route.")},
    media=GEOJSON,
    errors=(400, 422, 429, 500),
)
def route(*, query: RouteQuery) -> Response:
    """The shortest walking route between two points as a LineString Feature."""
    try:
        result = get_state().route(query.origin, query.destination)
    except DisconnectedGraphError as exc:
        return error_response(422, str(exc))
    except ValueError as exc:  # a point off the map
        raise ParameterError(str(exc)) from exc
    return _geojson(result)


@bp.get("/lines")
@operation(
    "shuttleLines",
    "Shuttle lines of the loaded plan, with KPIs and unserved riders",
    responses={200: (schemas.LinesCollection, "Lines.")},
    media=GEOJSON,
    errors=(429, 500),
)
def lines() -> Response:
    """The shuttle plan's lines, KPIs and unserved riders."""
    return _conditional(_geojson(get_state().lines()))


@bp.get("/openapi.json")
@operation(
    "openapi",
    "This document",
    responses={200: (None, "OpenAPI 3.1 document.")},
    errors=(429, 500),
)
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of this API."""
    doc = current_app.extensions.get("warmheart_openapi")
    if doc is None:
        doc = current_app.extensions["warmheart_openapi"] = build_openapi(current_app)
    return jsonify({**doc, "servers": [{"url": request.host_url.rstrip("/")}]})


# ----------------------------------------------------------------------------------- writes


def _json_body() -> dict[str, Any]:
    return parse_json_body(request.get_data(cache=False), request.mimetype)


@bp.post("/stations")
@operation(
    "createStation",
    "Create a station (admin token)",
    body=schemas.StationWrite,
    responses={201: (schemas.StationFeature, "Created.")},
    media=GEOJSON,
    errors=WRITE_ERRORS,
    secured=True,
)
@require_token
def create_station() -> Response:
    """Create a station from a GeoJSON Point Feature (or flat properties with lon/lat)."""
    state = get_state()
    body = _json_body()
    try:
        station = state.create_station(body)
    except ParameterError:
        raise
    except ValueError as exc:  # the registry's own checks (hours, position): worded for users
        raise ParameterError(str(exc)) from exc
    feature = state.station_feature(station, lang=None, at=None)
    response = _geojson(feature, status=201)
    response.headers["Location"] = url_for(
        "api.get_station", station_id=feature["properties"]["id"]
    )
    logger.info("Created station %s", feature["properties"]["id"])
    return response


@bp.put("/stations/<station_id>")
@operation(
    "updateStation",
    "Update a station's fields (admin token)",
    body=schemas.StationWrite,
    responses={200: (schemas.StationFeature, "Updated.")},
    media=GEOJSON,
    errors=(*WRITE_ERRORS, 404),
    path_params=_STATION_ID,
    secured=True,
)
@require_token
def update_station(station_id: str) -> Response:
    """Update a station: given properties (and geometry) replace the stored ones."""
    state = get_state()
    body = _json_body()
    try:
        station = state.update_station(station_id, body)
    except (ParameterError, StationNotFound):
        raise
    except ValueError as exc:  # the registry's own checks (hours, position): worded for users
        raise ParameterError(str(exc)) from exc
    logger.info("Updated station %s", station_id)
    return _geojson(state.station_feature(station, lang=None, at=None))


@bp.delete("/stations/<station_id>")
@operation(
    "deleteStation",
    "Delete a station (admin token)",
    responses={204: (None, "Deleted.")},
    errors=(*WRITE_ERRORS, 404),
    path_params=_STATION_ID,
    secured=True,
)
@require_token
def delete_station(station_id: str) -> Response:
    """Delete a station."""
    get_state().delete_station(station_id)
    logger.info("Deleted station %s", station_id)
    return Response(status=204)
