"""Plan shuttle lines: the public entry points.

:func:`plan_shuttles` works on an :class:`~routing.area.Area` (snapping, districts, candidate
stops, walk and drive matrices on its graphs); :func:`plan_from_matrix` takes stops, a drive
matrix and walk distances directly, so the optimiser can be used and tested without a graph.
Both return a :class:`~routing.shuttle.model.Plan` that accounts for every rider.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from routing._errors import CoordinateError

from ..lonlat import valid_lonlat
from ._errors import ShuttleInputError, ShuttleWarning
from .districts import build_districts, candidate_stops
from .kpi import compute_kpis
from .matrix import UNREACHABLE, StopMatrix, drive_matrix, walk_distances
from .model import (
    Assignment,
    CandidateStop,
    District,
    Fleet,
    Line,
    Plan,
    Rider,
    Unserved,
    effective_limits,
    rider_index,
)
from .settings import ShuttleSettings
from .solve import Progress, RouteResult, solve_wave, split_budget
from .timetable import attach_paths, build_line

if TYPE_CHECKING:
    from routing.area import Area

__all__ = ["InitialRoute", "plan_from_matrix", "plan_shuttles", "routes_of_plan", "workplace_id"]

logger = logging.getLogger(__name__)

LonLat = tuple[float, float]

#: A line to start the optimiser from: bus type name and ``(stop id, rider ids)`` calls in
#: driving order, the riders at a stop in boarding order (see :func:`routes_of_plan`).
InitialRoute = tuple[str, Sequence[tuple[str, Sequence[str]]]]


def routes_of_plan(
    plan: Plan, *, skip_lines: Iterable[str] = (), riders: Iterable[str] | None = None
) -> list[InitialRoute]:
    """A plan's lines as :data:`InitialRoute` s: who boards where, in driving and boarding order.

    Feed them to ``initial_routes`` of :func:`plan_shuttles` to re-optimise from the plan.
    Lines in ``skip_lines`` are left out; with ``riders`` (ids) only those riders are kept.
    """
    skip = set(skip_lines)
    keep = set(riders) if riders is not None else None
    calls: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for a in plan.assignments:
        if a.line_id in skip or (keep is not None and a.rider_id not in keep):
            continue
        calls.setdefault((a.line_id, a.stop_id), []).append((a.board_time_s, a.rider_id))
    out: list[InitialRoute] = []
    for ln in plan.lines:
        visits: list[tuple[str, list[str]]] = []
        for v in ln.stops:
            # A line may call at a stop twice: a rider belongs to the call they board during.
            here = sorted(calls.get((ln.id, v.stop_id), []))
            riders_here = [rid for t, rid in here if v.arrival_s <= t <= v.departure_s]
            if riders_here:
                taken = set(riders_here)
                calls[(ln.id, v.stop_id)] = [(t, r) for t, r in here if r not in taken]
                visits.append((v.stop_id, riders_here))
        if visits:
            out.append((ln.bus_type, visits))
    return out


def _wave_routes(
    initial_routes: Sequence[InitialRoute] | None, stop_index: Mapping[str, int]
) -> list[RouteResult] | None:
    """Initial routes with stop ids replaced by matrix indices (unknown stops dropped)."""
    if not initial_routes:
        return None
    out: list[RouteResult] = []
    for bus_type, visits in initial_routes:
        kept = tuple((stop_index[sid], tuple(rids)) for sid, rids in visits if sid in stop_index)
        if kept:
            out.append(RouteResult(bus_type, kept))
    return out


def workplace_id(workplace: LonLat) -> str:
    """Location id of a workplace in stop matrices (``wp:<lon>,<lat>``)."""
    return f"wp:{workplace[0]:.7f},{workplace[1]:.7f}"


def snap_homes(
    area: Area, riders: Sequence[Rider], *, max_distance: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Riders' homes on the walk graph: ``(valid, home_idx, home_off)``, one entry per rider.

    ``valid`` says the coordinates are finite lon/lat; ``home_idx`` is the walk-graph node
    index, -1 for an invalid home or one more than ``max_distance`` metres from any walkable
    street; ``home_off`` the snap distance in metres (``inf`` where not snapped).
    """
    lon = np.array([r.lon for r in riders], dtype=float)
    lat = np.array([r.lat for r in riders], dtype=float)
    valid = valid_lonlat(lon, lat)
    home_idx = np.full(len(riders), -1, dtype=np.intp)
    home_off = np.full(len(riders), np.inf)
    if valid.any():
        snap = area.snap(lon[valid], lat[valid], network="walk", max_distance=max_distance)
        home_idx[valid] = snap.index
        home_off[valid] = np.where(snap.ok, snap.distance, np.inf)
    return valid, home_idx, home_off


def _check_inputs(riders: Sequence[Rider], fleet: Fleet) -> None:
    if not isinstance(fleet, Fleet):
        msg = f"Expected a Fleet, got {type(fleet).__name__}"
        raise ShuttleInputError(msg)
    if len(riders) == 0:
        msg = "Expected at least one rider, got an empty rider list"
        raise ShuttleInputError(msg)
    rider_index(riders)
    if fleet.total_buses == 0 or fleet.max_seats == 0:
        warnings.warn(
            "The fleet has no buses with seats: every rider will be reported fleet_too_small",
            ShuttleWarning,
            stacklevel=3,
        )


def _solver_version() -> str:
    try:
        return importlib.metadata.version("pyvrp")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _solve_waves(
    riders: Sequence[Rider],
    options: dict[str, list[tuple[int, float]]],
    district_of: Mapping[str, str],
    stops: Sequence[CandidateStop],
    matrix: StopMatrix,
    fleet: Fleet,
    *,
    workplace: LonLat,
    settings: ShuttleSettings,
    progress: Progress | None,
    initial_routes: list[RouteResult] | None = None,
) -> tuple[list[Line], list[Assignment], list[Unserved], dict[str, Any]]:
    """Group riders into waves (workplace, deadline), solve each, build the lines."""
    waves: dict[tuple[LonLat, int], list[Rider]] = {}
    limits: dict[str, int] = {}
    for r in riders:
        d, lim = effective_limits(r, settings)
        limits[r.id] = lim
        wp = r.workplace or workplace
        waves.setdefault((wp, d), []).append(r)
    keys = sorted(waves, key=lambda k: (k[1], k[0]))
    budgets = split_budget(settings.time_limit_s, [len(waves[k]) for k in keys])
    remaining = {t.name: t.count for t in fleet}
    lines: list[Line] = []
    assignments: list[Assignment] = []
    unserved: list[Unserved] = []
    wave_meta: list[dict[str, Any]] = []
    walk = {(rid, s): w for rid, opts in options.items() for s, w in opts}
    for n, (key, budget) in enumerate(zip(keys, budgets, strict=True)):
        wp, deadline = key
        wp_index = matrix.index(workplace_id(wp))
        wave_fleet = Fleet(
            tuple(
                t.__class__(
                    t.name, t.seats, remaining[t.name], t.fixed_cost, t.cost_per_km, t.cost_per_hour
                )
                for t in fleet
            )
        )
        label = f"wave {n + 1}/{len(keys)}" if len(keys) > 1 else "plan"
        res = solve_wave(
            waves[key],
            options,
            dict(district_of),
            matrix,
            wp_index,
            wave_fleet,
            deadline=deadline,
            limits=limits,
            settings=settings,
            time_limit=budget,
            progress=progress,
            label=label,
            initial_routes=initial_routes,
        )
        for route in res.routes:
            remaining[route.bus_type] -= 1
            line_id = f"L{len(lines) + 1:03d}"
            line, assigned = build_line(
                line_id,
                route,
                stops,
                matrix,
                wp_index,
                wp,
                deadline=deadline,
                settings=settings,
                fleet=fleet,
                walk=walk,
            )
            lines.append(line)
            assignments.extend(assigned)
        unserved.extend(res.unserved)
        wave_meta.append({"workplace": list(wp), "deadline": deadline, **res.meta})
    meta: dict[str, Any] = {"waves": wave_meta, "solver": f"pyvrp {_solver_version()}"}
    firsts = [
        float(m["first_feasible_s"]) for m in wave_meta if m.get("first_feasible_s") is not None
    ]
    meta["first_feasible_s"] = round(sum(firsts), 3) if firsts else None
    return lines, assignments, unserved, meta


def plan_from_matrix(
    riders: Sequence[Rider],
    stops: Sequence[CandidateStop],
    matrix: StopMatrix,
    walk: Mapping[tuple[str, str], float],
    fleet: Fleet,
    *,
    workplace: LonLat,
    settings: ShuttleSettings | None = None,
    district_of: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    initial_routes: Sequence[InitialRoute] | None = None,
) -> Plan:
    """Plan lines from a ready drive matrix and walk distances (no graph needed).

    Parameters
    ----------
    riders
        Riders; each rider's workplace (or ``workplace``) must be in ``matrix`` under
        :func:`workplace_id`.
    stops
        Candidate stops; their ids must be in ``matrix``.
    matrix
        Drive durations (s) and distances (m) among stops and workplaces.
    walk
        ``(rider id, stop id)`` to walking metres; pairs missing or beyond ``max_walk_m`` are
        not walkable.
    fleet
        Buses available.
    workplace
        Default workplace ``(lon, lat)``.
    settings
        Planner settings (defaults if omitted).
    district_of
        Rider id to district id (default: the rider's ``district`` or one district each).
    progress
        Called about once a second while the optimiser runs.
    initial_routes
        Lines to start the search from (see :func:`routes_of_plan`); calls at stops not in
        ``stops`` are dropped and their riders planned afresh.
    """
    settings = settings or ShuttleSettings()
    _check_inputs(riders, fleet)
    t0 = time.perf_counter()
    stop_index = {s.id: matrix.index(s.id) for s in stops}
    if sorted(stop_index.values()) != list(range(len(stops))):
        msg = "Expected the stops to be the first locations of the matrix, in the same order"
        raise ShuttleInputError(msg)
    options: dict[str, list[tuple[int, float]]] = {}
    for (rid, sid), w in walk.items():
        if sid in stop_index and w <= settings.max_walk_m:
            options.setdefault(rid, []).append((stop_index[sid], float(w)))
    districts = dict(district_of or {})
    for r in riders:
        districts.setdefault(r.id, r.district or f"rider-{r.id}")
    lines, assignments, unserved, meta = _solve_waves(
        riders,
        options,
        districts,
        stops,
        matrix,
        fleet,
        workplace=workplace,
        settings=settings,
        progress=progress,
        initial_routes=_wave_routes(initial_routes, stop_index),
    )
    meta["total_s"] = round(time.perf_counter() - t0, 3)
    return _make_plan(
        lines, assignments, unserved, riders, fleet, stops, workplace, settings, "", meta
    )


def _make_plan(
    lines: list[Line],
    assignments: list[Assignment],
    unserved: list[Unserved],
    riders: Sequence[Rider],
    fleet: Fleet,
    stops: Sequence[CandidateStop],
    workplace: LonLat,
    settings: ShuttleSettings,
    area_name: str,
    meta: dict[str, Any],
    districts: Sequence[District] = (),
) -> Plan:
    order = {r.id: i for i, r in enumerate(riders)}
    assignments.sort(key=lambda a: order[a.rider_id])
    unserved.sort(key=lambda u: order[u.rider_id])
    kpis = compute_kpis(lines, assignments, unserved, fleet)
    meta.setdefault("seed", settings.seed)
    return Plan(
        lines=tuple(lines),
        assignments=tuple(assignments),
        unserved=tuple(unserved),
        kpis=kpis,
        settings=settings,
        workplace=workplace,
        deadline=settings.deadline_s,
        riders=tuple(riders),
        fleet=fleet,
        stops=tuple(stops),
        area=area_name,
        meta=meta,
        districts=tuple(districts),
    )


def plan_shuttles(
    area: Area,
    riders: Sequence[Rider],
    fleet: Fleet,
    workplace: LonLat,
    *,
    settings: ShuttleSettings | None = None,
    stops: Sequence[CandidateStop] | None = None,
    progress: Progress | None = None,
    initial_routes: Sequence[InitialRoute] | None = None,
) -> Plan:
    """Plan commuter shuttle lines on an Area's walk and drive graphs.

    Parameters
    ----------
    area
        The Area (walk graph for walks to stops, drive graph for the buses).
    riders
        Riders (homes, optional own workplace, deadline, ride limit, district).
    fleet
        Bus types and how many of each.
    workplace
        Default workplace ``(lon, lat)`` for riders without their own.
    settings
        Planner settings (defaults if omitted).
    stops
        Candidate stops to use instead of the Area's bus stops and district access points.
    progress
        Called about once a second while the optimiser runs with
        ``(elapsed_s, best_cost_or_None, wave_label)``.
    initial_routes
        Lines to start the search from, e.g. ``routes_of_plan(old_plan)``: the search keeps
        the best plan it sees, so from a feasible start it ends no worse (in the optimiser's
        cost). Calls at stops no rider can use are dropped and their riders planned afresh.

    Returns
    -------
    Plan
        Lines with timetables and paths, one assignment per served rider, and every other
        rider in ``unserved`` with a reason (``off_map``, ``too_far_to_walk``,
        ``unreachable``, ``ride_limit_shorter_than_direct_drive``, ``deadline_too_early``,
        ``fleet_too_small``, ``no_feasible_line``).

    Raises
    ------
    ShuttleInputError
        No riders, duplicate rider ids, or a bad fleet.
    CoordinateError
        A workplace is not within ``max_home_snap_m`` of the drive graph.
    """
    settings = settings or ShuttleSettings()
    _check_inputs(riders, fleet)
    t0 = time.perf_counter()
    unserved: list[Unserved] = []

    # Homes on the walk graph; invalid or far-off homes are off the map.
    valid, home_idx, home_off = snap_homes(area, riders, max_distance=settings.max_home_snap_m)
    on_map = home_idx >= 0
    for i in np.flatnonzero(~on_map).tolist():
        r = riders[i]
        why = (
            "invalid coordinates"
            if not valid[i]
            else f"more than {settings.max_home_snap_m:.0f} m from any walkable street"
        )
        unserved.append(Unserved(r.id, "off_map", f"home ({r.lon}, {r.lat}): {why}"))
    placed = [riders[i] for i in np.flatnonzero(on_map).tolist()]

    # Workplaces on the drive graph.
    wps = sorted({r.workplace or workplace for r in riders})
    wlon = np.array([w[0] for w in wps])
    wlat = np.array([w[1] for w in wps])
    wsnap = area.snap(wlon, wlat, network="drive", max_distance=settings.max_home_snap_m)
    if not wsnap.ok.all():
        k = int(np.flatnonzero(~wsnap.ok)[0])
        msg = (
            f"Expected the workplace within {settings.max_home_snap_m:.0f} m of the drive "
            f"graph of {area.name!r}, got {wps[k]} ({wsnap.distance[k]:.0f} m away)"
        )
        raise CoordinateError(msg)

    districts, district_of = build_districts(area, placed, settings=settings)
    all_stops = (
        list(stops) if stops is not None else candidate_stops(area, districts, settings=settings)
    )
    options: dict[str, list[tuple[int, float]]] = {}
    kept: list[CandidateStop] = []
    if all_stops and placed:
        slon = np.array([s.lon for s in all_stops])
        slat = np.array([s.lat for s in all_stops])
        ssnap = area.snap(slon, slat, network="walk", max_distance=settings.max_walk_m)
        ok = ssnap.ok
        walk = walk_distances(
            area.arrays("walk"),
            ssnap.index[ok],
            ssnap.distance[ok],
            home_idx[on_map],
            home_off[on_map],
            limit=settings.max_walk_m,
        ).tocsc()
        cols = np.flatnonzero(ok)
        useful = np.flatnonzero(np.diff(walk.indptr) > 0)
        kept = [all_stops[int(cols[j])] for j in useful]
        sub = walk[:, useful].tocsr()
        for i, r in enumerate(placed):
            lo, hi = int(sub.indptr[i]), int(sub.indptr[i + 1])
            options[r.id] = [
                (int(j), float(w)) for j, w in zip(sub.indices[lo:hi], sub.data[lo:hi], strict=True)
            ]
    drive = area.arrays("drive")
    node_index: dict[int, int] = {}
    reachable_nodes = [s.node for s in kept if s.node >= 0]
    if reachable_nodes:
        node_index = dict(
            zip(reachable_nodes, drive.index_of(reachable_nodes).tolist(), strict=True)
        )
    ids = [s.id for s in kept] + [workplace_id(w) for w in wps]
    locs = [node_index.get(s.node, -1) for s in kept] + [int(i) for i in wsnap.index]
    loc_arr = np.array(locs, dtype=np.intp)
    has = loc_arr >= 0
    m = drive_matrix(drive, loc_arr[has], [i for i, h in zip(ids, has, strict=True) if h])
    dur = np.full((len(ids), len(ids)), UNREACHABLE, dtype=np.int64)
    dist = np.full((len(ids), len(ids)), UNREACHABLE, dtype=np.int64)
    pos = np.flatnonzero(has)
    dur[np.ix_(pos, pos)] = m.duration
    dist[np.ix_(pos, pos)] = m.distance
    np.fill_diagonal(dur, 0)
    np.fill_diagonal(dist, 0)
    matrix = StopMatrix(tuple(ids), dur, dist)
    t_prep = time.perf_counter() - t0
    logger.info(
        "%d riders, %d districts, %d usable stops, matrix %d x %d in %.1f s",
        len(placed),
        len(districts),
        len(kept),
        len(ids),
        len(ids),
        t_prep,
    )

    lines, assignments, wave_unserved, meta = _solve_waves(
        placed,
        options,
        district_of,
        kept,
        matrix,
        fleet,
        workplace=workplace,
        settings=settings,
        progress=progress,
        initial_routes=_wave_routes(initial_routes, {s.id: i for i, s in enumerate(kept)}),
    )
    unserved.extend(wave_unserved)
    node_of_stop = {s.id: node_index[s.node] for s in kept if s.node in node_index}
    wp_node = {w: int(i) for w, i in zip(wps, wsnap.index, strict=True)}
    lines = attach_paths(lines, node_of_stop, wp_node, drive, area=area)
    meta.update(
        prepare_s=round(t_prep, 3),
        total_s=round(time.perf_counter() - t0, 3),
        districts=len(districts),
        candidate_stops=len(all_stops),
        usable_stops=len(kept),
    )
    return _make_plan(
        lines,
        assignments,
        unserved,
        riders,
        fleet,
        kept,
        workplace,
        settings,
        area.name,
        meta,
        districts,
    )
