"""The JSON / GeoJSON API, mounted under ``/api``.

Public reads (rate-limited): ``GET /api/stations``, ``/api/nearest``, ``/api/isochrone``,
``/api/route``, ``/api/lines``, ``/api/openapi.json``. Writes (bearer token):
``POST /api/stations``, ``PUT /api/stations/<id>``, ``DELETE /api/stations/<id>``. Shapes are
described in :mod:`webmap.openapi`; every error is ``{"error": {"status", "message"}}``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import BadRequest

from routing._errors import DisconnectedGraphError

from ._errors import ParameterError
from ._params import (
    parse_bbox,
    parse_choices,
    parse_int,
    parse_lang,
    parse_lonlat,
    parse_lonlat_pair,
    parse_minutes,
    parse_open_at,
)
from .app import error_response
from .auth import require_token
from .state import StationNotFound, WarmheartState

__all__ = ["bp"]

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__, url_prefix="/api")

GEOJSON = "application/geo+json"

#: Paging of ``/api/stations``.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: ``k`` of ``/api/nearest``.
DEFAULT_K = 5
MAX_K = 50


def get_state() -> WarmheartState:
    """The app's :class:`WarmheartState` (loaded once by ``create_app``)."""
    state: WarmheartState = current_app.extensions["warmheart"]
    return state


def _geojson(payload: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(payload)
    response.status_code = status
    response.mimetype = GEOJSON
    return response


def _conditional(response: Response) -> Response:
    """Add a strong ETag and answer ``304 Not Modified`` when the client already has it."""
    response.add_etag()
    response.make_conditional(request)  # updates ``response`` in place
    return response


@bp.errorhandler(ParameterError)
def _bad_parameter(exc: ParameterError) -> Response:
    return error_response(400, str(exc))


@bp.errorhandler(StationNotFound)
def _not_found(exc: StationNotFound) -> Response:
    return error_response(404, str(exc.args[0]))


def _filters(state: WarmheartState) -> tuple[list[str], list[str]]:
    kinds = parse_choices(request.args.getlist("kind"), "kind", state.kinds)
    amenities = parse_choices(request.args.getlist("amenity"), "amenity", state.amenities)
    return kinds, amenities


# ------------------------------------------------------------------------------------ reads


@bp.get("/stations")
def list_stations() -> Response:
    """Stations as a GeoJSON FeatureCollection, filtered and paged."""
    state = get_state()
    bbox = parse_bbox(request.args)
    kinds, amenities = _filters(state)
    open_at = parse_open_at(request.args)
    lang = parse_lang(request.args)
    limit = parse_int(request.args, "limit", default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    offset = parse_int(request.args, "offset", default=0, minimum=0, maximum=10**9)

    matched = state.query_stations(bbox=bbox, kinds=kinds, amenities=amenities, open_at=open_at)
    page = matched[offset : offset + limit]
    features = [state.station_feature(s, lang=lang, at=open_at) for s in page]
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
def get_station(station_id: str) -> Response:
    """One station as a GeoJSON Feature."""
    state = get_state()
    lang = parse_lang(request.args)
    open_at = parse_open_at(request.args)
    station = state.get_station(station_id)
    return _geojson(state.station_feature(station, lang=lang, at=open_at))


@bp.get("/nearest")
def nearest() -> Response:
    """The ``k`` nearest stations by walking time, with routes."""
    state = get_state()
    lon, lat = parse_lonlat(request.args)
    k = parse_int(request.args, "k", default=DEFAULT_K, minimum=1, maximum=MAX_K)
    kinds, amenities = _filters(state)
    open_at = parse_open_at(request.args)
    lang = parse_lang(request.args)
    try:
        result = state.nearest(
            lon, lat, k=k, kinds=kinds, amenities=amenities, open_at=open_at, lang=lang
        )
    except ValueError as exc:  # the locator's input checks
        raise ParameterError(str(exc)) from exc
    return _fast_json(result)


def _fast_json(payload: dict[str, Any]) -> Response:
    """``jsonify`` through orjson: compact UTF-8 JSON at a tenth of the CPU.

    For hot endpoints with big payloads (route coordinates); the parsed answer is the same
    (keys in insertion order, not sorted). A value orjson cannot write falls back to Flask's
    JSON provider.
    """
    try:
        body: bytes | str = orjson.dumps(payload)
    except TypeError:
        body = current_app.json.dumps(
            payload, sort_keys=False, ensure_ascii=False, separators=(",", ":")
        )
    return current_app.response_class(body, mimetype="application/json")


@bp.get("/isochrone")
def isochrone() -> Response:
    """Walking isochrones as a FeatureCollection of (Multi)Polygons."""
    state = get_state()
    lon, lat = parse_lonlat(request.args)
    minutes = parse_minutes(request.args)
    try:
        result = state.isochrone(lon, lat, minutes=minutes)
    except ValueError as exc:  # off the map, bad input
        raise ParameterError(str(exc)) from exc
    return _geojson(result)


@bp.get("/route")
def route() -> Response:
    """The shortest walking route between two points as a LineString Feature."""
    state = get_state()
    origin = parse_lonlat_pair(request.args, "from")
    destination = parse_lonlat_pair(request.args, "to")
    try:
        result = state.route(origin, destination)
    except DisconnectedGraphError as exc:
        return error_response(422, str(exc))
    except ValueError as exc:  # a point off the map
        raise ParameterError(str(exc)) from exc
    return _geojson(result)


@bp.get("/lines")
def lines() -> Response:
    """The shuttle plan's lines, KPIs and unserved riders."""
    return _conditional(_geojson(get_state().lines()))


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of this API."""
    from .openapi import build_openapi

    return jsonify(build_openapi(server_url=request.host_url.rstrip("/")))


# ----------------------------------------------------------------------------------- writes


def _json_body() -> dict[str, Any]:
    if not request.is_json:
        msg = f"Expected a JSON body (Content-Type: application/json), got {request.mimetype!r}"
        raise ParameterError(msg)
    try:
        body = request.get_json()
    except BadRequest:
        msg = "Expected a JSON body, got malformed JSON"
        raise ParameterError(msg) from None
    if not isinstance(body, dict):
        msg = f"Expected a JSON object (a GeoJSON Feature), got {type(body).__name__}"
        raise ParameterError(msg)
    return body


@bp.post("/stations")
@require_token
def create_station() -> Response:
    """Create a station from a GeoJSON Point Feature (or flat properties with lon/lat)."""
    state = get_state()
    body = _json_body()
    try:
        station = state.create_station(body)
    except ParameterError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ParameterError(_message(exc)) from exc
    feature = state.station_feature(station, lang=None, at=None)
    response = _geojson(feature, status=201)
    response.headers["Location"] = url_for(
        "api.get_station", station_id=feature["properties"]["id"]
    )
    logger.info("Created station %s", feature["properties"]["id"])
    return response


@bp.put("/stations/<station_id>")
@require_token
def update_station(station_id: str) -> Response:
    """Update a station: given properties (and geometry) replace the stored ones."""
    state = get_state()
    body = _json_body()
    try:
        station = state.update_station(station_id, body)
    except (ParameterError, StationNotFound):
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ParameterError(_message(exc)) from exc
    logger.info("Updated station %s", station_id)
    return _geojson(state.station_feature(station, lang=None, at=None))


@bp.delete("/stations/<station_id>")
@require_token
def delete_station(station_id: str) -> Response:
    """Delete a station."""
    get_state().delete_station(station_id)
    logger.info("Deleted station %s", station_id)
    return Response(status=204)


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__
