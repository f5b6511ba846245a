"""Plan shuttle lines: the public entry points.

:func:`plan_shuttles` works on an :class:`~routing.area.Area` (snapping, districts, candidate
stops, walk and drive matrices on its graphs); :func:`plan_from_matrix` takes stops, a drive
matrix and walk distances directly, so the optimiser can be used and tested without a graph.
Both return a :class:`~routing.shuttle.model.Plan` that accounts for every rider.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from ._errors import ShuttleInputError, ShuttleWarning
from ._prepare import prepare_area_inputs, split_walkers
from ._waves import DayPlan, plan_day, workplace_id
from .kpi import assemble_plan
from .matrix import StopMatrix
from .model import (
    DIRECTIONS,
    CandidateStop,
    Direction,
    District,
    Fleet,
    Plan,
    Rider,
    rider_index,
)
from .settings import ShuttleSettings
from .solve import Progress, RouteResult
from .timetable import attach_paths

if TYPE_CHECKING:
    from routing.area import Area

__all__ = ["InitialRoute", "plan_from_matrix", "plan_shuttles", "routes_of_plan", "workplace_id"]

logger = logging.getLogger(__name__)

LonLat = tuple[float, float]

#: A line to start the optimiser from: bus type name, ``(stop id, rider ids)`` calls in
#: driving order (the riders at a stop in boarding order) and, optionally, the direction
#: (``"to_work"`` when left out); see :func:`routes_of_plan`.
InitialRoute = (
    tuple[str, Sequence[tuple[str, Sequence[str]]]]
    | tuple[str, Sequence[tuple[str, Sequence[str]]], Direction]
)


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
        # The time at the stop: boarding to work, alighting home.
        at_stop = a.board_time_s if a.direction == "to_work" else a.arrival_time_s
        calls.setdefault((a.line_id, a.stop_id), []).append((at_stop, a.rider_id))
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
            out.append((ln.bus_type, visits, ln.direction))
    return out


def _wave_routes(
    initial_routes: Sequence[InitialRoute] | None, stop_index: Mapping[str, int]
) -> list[RouteResult] | None:
    """Initial routes with stop ids replaced by matrix indices (unknown stops dropped)."""
    if not initial_routes:
        return None
    out: list[RouteResult] = []
    for route in initial_routes:
        bus_type, visits = route[0], route[1]
        direction: Direction = route[2] if len(route) > 2 else "to_work"
        if direction not in DIRECTIONS:
            msg = f"Expected an initial route direction among {list(DIRECTIONS)}, got {direction!r}"
            raise ShuttleInputError(msg)
        kept = tuple((stop_index[sid], tuple(rids)) for sid, rids in visits if sid in stop_index)
        if kept:
            out.append(RouteResult(bus_type, kept, direction))
    return out


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
        not walkable. ``(rider id, workplace_id(workplace))`` is the walk to work: riders
        within ``max_walk_m`` of it walk (``walks_to_work``) and are not bussed.
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
    to_work = {
        r.id: walk.get((r.id, workplace_id(r.workplace or workplace)), np.inf) for r in riders
    }
    bus_riders, unserved = split_walkers(riders, to_work, settings=settings)
    districts = dict(district_of or {})
    for r in riders:
        districts.setdefault(r.id, r.district or f"rider-{r.id}")
    day = plan_day(
        bus_riders,
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
    day.unserved[:0] = unserved
    day.meta["total_s"] = round(time.perf_counter() - t0, 3)
    return _make_plan(day, riders, fleet, stops, workplace, settings, "")


def _make_plan(
    day: DayPlan,
    riders: Sequence[Rider],
    fleet: Fleet,
    stops: Sequence[CandidateStop],
    workplace: LonLat,
    settings: ShuttleSettings,
    area_name: str,
    districts: Sequence[District] = (),
) -> Plan:
    day.meta.setdefault("seed", settings.seed)
    return assemble_plan(
        day.lines,
        day.assignments,
        day.unserved,
        riders=riders,
        fleet=fleet,
        settings=settings,
        workplace=workplace,
        stops=stops,
        vehicles=day.vehicles,
        area=area_name,
        meta=day.meta,
        districts=districts,
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
    covered: Mapping[str, Collection[Direction]] | None = None,
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
    covered
        Rider id to the directions already served elsewhere (kept lines of a redesign):
        those are not planned, and the rider appears in neither ``assignments`` nor
        ``unserved`` for them.

    Returns
    -------
    Plan
        Lines with timetables and paths, one assignment per served rider, and every other
        rider in ``unserved`` with a reason per direction (``walks_to_work``, ``off_map``,
        ``too_far_to_walk``, ``unreachable``, ``ride_limit_shorter_than_direct_drive``,
        ``deadline_too_early``, ``fleet_too_small``, ``no_feasible_line``, ``over_cap``).
        Trips are chained onto buses (``plan.vehicles``).

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
    prep = prepare_area_inputs(area, riders, workplace, settings=settings, stops=stops)
    t_prep = time.perf_counter() - t0
    if covered:
        prep.unserved = [u for u in prep.unserved if u.direction not in covered.get(u.rider_id, ())]
    day = plan_day(
        prep.bus_riders,
        prep.options,
        prep.district_of,
        prep.stops,
        prep.matrix,
        fleet,
        workplace=workplace,
        settings=settings,
        progress=progress,
        initial_routes=_wave_routes(initial_routes, {s.id: i for i, s in enumerate(prep.stops)}),
        covered=covered,
    )
    day.unserved[:0] = prep.unserved
    day.lines = attach_paths(
        day.lines, prep.drive, {s.id: i for i, s in enumerate(prep.stops)}, prep.workplace_points()
    )
    day.meta.update(
        prepare_s=round(t_prep, 3),
        total_s=round(time.perf_counter() - t0, 3),
        districts=len(prep.districts),
        candidate_stops=prep.candidate_count,
        usable_stops=len(prep.stops),
        walkers=sum(
            1 for u in prep.unserved if u.reason == "walks_to_work" and u.direction == "to_work"
        ),
    )
    return _make_plan(
        day, riders, fleet, prep.stops, workplace, settings, area.name, prep.districts
    )
