"""The station planner: coverage, gap maps, hour-of-week coverage and siting proposals.

Page ``/planner/stations`` (linked from ``/planner``) and its API:

* ``GET /api/coverage`` — covered shares per demand layer and budget, ranked gap cells;
* ``GET /api/coverage/streets`` — streets coloured by minutes to the nearest open station
  (pieces cut exactly where each budget ends);
* ``GET /api/coverage/hours`` — the 7 x 24 coverage table of a reference week;
* ``POST /api/siting`` (admin token) — proposed hosts with gains, bounds and gap;
* ``POST /api/siting/adopt`` (admin token) — turn a proposal into stations.

What one anonymous request may cost: the coverage reads are public but bounded (at most 3
budgets of at most 30 minutes, the Area's own demand layers only) and cached per (store
revision, kind, budgets, week, hour, layers), and computed one at a time, so a burst of
requests queues behind one search instead of multiplying it; the 7 x 24 table costs one
search per distinct open-set of the week and is cached the same way. Siting is the heavy
one (a greedy, swaps and a bound for up to 30 s): it needs the admin token, and one run at
a time (a second answers 429).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from pydantic import ValidationError

from . import maps, schemas
from ._errors import ParameterError
from ._params import CoverageQuery, CoverageStreetsQuery, HoursQuery, PageQuery, _CoverageAt
from .auth import require_token
from .errors import error_response
from .openapi import GEOJSON, HTML, WRITE_ERRORS, operation
from .state import get_state

__all__ = ["bp"]

bp = Blueprint("planning", __name__, template_folder="templates")

#: Cached coverage answers per app (each holds a CoverageModel: node times of the graph).
CACHE_SIZE = 24
#: Proposals kept for adoption.
PROPOSALS_KEPT = 32
#: Street pieces drawn in one answer at most (ask for a bbox beyond).
MAX_PIECES = 200_000


class _Planning:
    """Per-app caches and locks of the planner."""

    def __init__(self) -> None:
        self.lock = threading.Lock()  # one coverage computation at a time
        self.siting = threading.Lock()  # one siting run at a time
        self.cache: OrderedDict[Any, Any] = OrderedDict()
        self.proposals: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.cache:
                self.cache.move_to_end(key)
                return self.cache[key]
            value = compute()
            self.cache[key] = value
            while len(self.cache) > CACHE_SIZE:
                self.cache.popitem(last=False)
            return value


def _planning() -> _Planning:
    planning: _Planning = current_app.extensions.setdefault("warmheart_planning", _Planning())
    return planning


def _at(query: _CoverageAt) -> Any:
    from stations.weekly import parse_week_time

    return parse_week_time(query.at, week=query.week) if query.at else None


def _model(query: _CoverageAt, demand: tuple[str, ...]) -> Any:
    """The cached CoverageModel of (revision, kind, budgets, week, time, layers)."""
    from stations.coverage import CoverageModel, select_stations

    state = get_state()
    at = _at(query)
    key = ("model", state.revision, query.kind, tuple(query.minutes), str(at), demand)

    def compute() -> Any:
        chosen = select_stations(state.all_stations(), kind=query.kind, at=at)
        return CoverageModel(state.area, chosen, minutes=query.minutes, demand=demand)

    return _planning().cached(key, compute)


def _numbers(values: Any) -> list[float | int]:
    return [int(v) if float(v).is_integer() else float(v) for v in values]


@bp.get("/api/coverage")
@operation(
    "coverage",
    "Covered share of streets, homes and worker hotspots per walking budget, and the gaps",
    query=CoverageQuery,
    responses={200: (schemas.CoverageSummary, "Coverage and ranked gap cells.")},
)
def coverage_summary(*, query: CoverageQuery) -> Response:
    """Coverage per demand layer and budget by the stations of ``kind`` open ``at``."""
    from stations._gaps import gap_cells

    model = _model(query, tuple(query.demand))
    result = model.result(kind=query.kind, at=str(_at(query)) if query.at else None)
    body = result.to_dict()
    body["area"] = get_state().area.name
    body["gaps"] = gap_cells(model, top=query.gaps)
    body["minutes"] = _numbers(model.minutes)
    return jsonify(body)


@bp.get("/api/coverage/streets")
@operation(
    "coverageStreets",
    "Streets by walking minutes to the nearest open station (GeoJSON)",
    query=CoverageStreetsQuery,
    responses={200: (schemas.CoverageStreets, "One MultiLineString per minute band.")},
    media=GEOJSON,
)
def coverage_streets(*, query: CoverageStreetsQuery) -> Response:
    """Street pieces in minute bands: within the first budget, ..., beyond the last."""
    from stations._gaps import street_bands

    model = _model(query, ("streets",))
    try:
        bands = street_bands(model, bbox=query.bbox, max_pieces=MAX_PIECES)
    except ValueError as exc:
        raise ParameterError(str(exc)) from exc
    edges = [None, *model.minutes]
    features = []
    for b, lines in enumerate(bands):
        low, high = edges[b], (model.minutes[b] if b < len(model.minutes) else None)
        label = f"≤ {high:g} min" if high is not None else f"> {model.minutes[-1]:g} min"
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "MultiLineString",
                    "coordinates": [line.round(6).tolist() for line in lines],
                },
                "properties": {
                    "band": b,
                    "label": label,
                    "min_minutes": low,
                    "max_minutes": high,
                },
            }
        )
    response = jsonify({"type": "FeatureCollection", "features": features})
    response.mimetype = GEOJSON
    return response


@bp.get("/api/coverage/hours")
@operation(
    "coverageHours",
    "Coverage at every full hour of a reference week (7 x 24)",
    query=HoursQuery,
    responses={200: (schemas.CoverageHours, "Shares per layer, budget, day and hour.")},
)
def coverage_hours(*, query: HoursQuery) -> Response:
    """The hour-of-week table: covered share per layer and budget, Monday 00:00 first."""
    from stations.weekly import coverage_by_hour

    state = get_state()
    key = ("hours", state.revision, query.kind, tuple(query.minutes), query.week,
           tuple(query.demand))  # fmt: skip

    def compute() -> Any:
        return coverage_by_hour(
            state.area,
            state.all_stations(),
            minutes=query.minutes,
            demand=tuple(query.demand),
            kind=query.kind,
            week=query.week,
        ).to_dict()

    return jsonify(_planning().cached(key, compute))


# ------------------------------------------------------------------------------------ siting


def _body(model: type[Any]) -> Any:
    from .api import _json_body

    try:
        return model.model_validate(_json_body())
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error.get("loc", ())) or "body"
        msg = f"Expected {where}: {error['msg']}, got {error.get('input')!r}"
        raise ParameterError(msg) from None


@bp.post("/api/siting")
@operation(
    "siteStations",
    "Propose new stations among the area's candidate hosts (admin token)",
    body=schemas.SitingRequest,
    responses={200: (schemas.SitingProposal, "Proposed sites with gains and bounds.")},
    errors=WRITE_ERRORS,
    secured=True,
)
@require_token
def site() -> Response:
    """Run a siting (greedy + swaps, HiGHS or Lagrangian bound) and keep the proposal."""
    from stations.siting import proposal_rows, site_stations

    body = _body(schemas.SitingRequest)
    planning = _planning()
    if not planning.siting.acquire(blocking=False):
        response = error_response(
            429, "Expected one siting run at a time, got another while one is running"
        )
        response.headers["Retry-After"] = "10"
        return response
    try:
        state = get_state()
        result, problem = site_stations(
            state.area,
            state.all_stations(),
            add=body.add,
            minutes=body.minutes,
            objective=body.objective,
            kind=body.kind,
            demand=body.demand,
            target=body.target,
            exclude=body.exclude,
            host_types=body.host_types,
            time_limit=body.time_limit,
        )
    except ValueError as exc:
        raise ParameterError(str(exc)) from exc
    finally:
        planning.siting.release()
    rows = proposal_rows(result, problem)
    proposal_id = secrets.token_hex(8)
    planning.proposals[proposal_id] = {"rows": rows, "kind": body.kind, "request": body}
    while len(planning.proposals) > PROPOSALS_KEPT:
        planning.proposals.popitem(last=False)
    data = result.to_dict()
    data.pop("chosen")
    return jsonify({"proposal_id": proposal_id, **data, "sites": rows})


@bp.post("/api/siting/adopt")
@operation(
    "adoptSites",
    "Turn a proposal's sites into stations (admin token)",
    body=schemas.AdoptRequest,
    responses={201: (schemas.AdoptResponse, "Stations added.")},
    errors=(*WRITE_ERRORS, 404),
    secured=True,
)
@require_token
def adopt() -> Response:
    """Add the proposal's sites (all, or ``ids``) to the registry, all or none."""
    from stations.siting import adopt_sites

    body = _body(schemas.AdoptRequest)
    proposal = _planning().proposals.get(body.proposal_id)
    if proposal is None:
        return error_response(404, f"Expected a recent proposal id, got {body.proposal_id!r}")
    rows = proposal["rows"]
    if body.ids is not None:
        unknown = set(body.ids) - {r["id"] for r in rows}
        if unknown:
            raise ParameterError(f"Expected ids of the proposal's sites, got {sorted(unknown)}")
        rows = [r for r in rows if r["id"] in set(body.ids)]
    request_ = proposal["request"]
    note = f"proposed by warmheart siting ({request_.objective}, {request_.minutes:g} min)"
    state = get_state()
    try:
        with state._lock:
            added = adopt_sites(rows, state.store, kind=proposal["kind"], note=note)
    except ValueError as exc:
        raise ParameterError(str(exc)) from exc
    response = jsonify({"added": [s.id for s in added]})
    response.status_code = 201
    return response


# -------------------------------------------------------------------------------------- page


class _CoverageScript(maps.WarmheartScript):
    """The shared front end plus ``coverage.js`` (the station planner's map code)."""

    def __init__(self, function: str, options: dict[str, Any], *, cluster: bool) -> None:
        from .assets import asset_url

        super().__init__(function, options, cluster=cluster)
        self.default_js = [*self.default_js, ("coverage_js", asset_url("warmheart", "coverage.js"))]


@bp.get("/planner/stations")
@operation(
    "stationPlannerPage",
    "Station planner: coverage map, gaps by hour of the week, siting proposals",
    query=PageQuery,
    responses={200: (None, "HTML page.")},
    media=HTML,
    errors=(400, 500),
    tag="pages",
)
def station_planner(*, query: PageQuery) -> str:
    """Streets coloured by minutes to the nearest open station, ranked gaps, proposals."""
    from .i18n import Translator
    from .pages import _context, _lang, _tiles

    lang = _lang()
    t = Translator(lang)
    state = get_state()
    bounds = state.area.bounds
    center = ((bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2)
    m = maps.base_map(center=center, zoom=maps.zoom_for_bounds(bounds), tiles=_tiles())
    tiles = _tiles()
    _CoverageScript(
        "coverage",
        {
            "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
            "datum": tiles.datum if tiles else "wgs84",
            "api": {
                "coverage": url_for("planning.coverage_summary"),
                "streets": url_for("planning.coverage_streets"),
                "hours": url_for("planning.coverage_hours"),
                "site": url_for("planning.site"),
                "adopt": url_for("planning.adopt"),
            },
            "messages": t.subset(("cov.",)),
        },
        cluster=False,
    ).add_to(m)
    parts = maps.render_parts(m, prefix=request.script_root)
    return render_template(
        "planner_stations.html",
        **_context(lang, parts=parts),
        planner_url=url_for("pages.planner", lang=lang),
        locator_url=url_for("pages.locator", lang=lang),
        kinds=state.kinds,
    )
