"""The PyVRP model of one wave (one direction, workplace and time) and its solution.

Model of a wave to work with bus deadline ``D`` (the riders' deadline minus
``arrival_margin_s``):

* Depot 0 is a dummy start with zero-cost edges to every client; depot 1 is the workplace,
  where every route ends (open routes: a new bus is not routed from anywhere). Depot 2 sits at
  the workplace too: buses that ran an earlier trip start there, at the time they are free
  (:class:`ReuseGroup`), and drive empty to their first stop.
* One vehicle type per bus type for new buses (``num_available`` = buses not yet used, fixed
  cost, cost per metre and second scaled to integers by :data:`COST_SCALE`, shift
  ``[earliest_departure, D]``), plus one per group of buses free from an earlier trip: the
  same costs without the fixed cost (the bus is paid for), shift from when it is free. The
  solver thus chains trips onto buses where the empty run fits and buys a bus only otherwise.
* Clients are riders aggregated per stop (:func:`routing.shuttle._clients.make_clients`),
  each with ``pickup = riders``, ``service_duration = boarding_s x riders`` and the window
  ``[D - L, D]`` on the start of its boarding. With arrival at work at most ``D``, boarding
  at or after ``D - L`` guarantees a ride of at most ``L``; conversely any feasible trip can
  be shifted later until it arrives at ``D`` exactly, so the window is exact.
* The dwell per stop is added to every edge leaving a stop, so it is paid once per stop.

A wave home with departure ``E`` mirrors it: depot 0 is the workplace with the window
``[E, E]`` (riders board in the minutes before; the bus leaves at ``E``), depot 1 a dummy end
reached for free from every stop, clients carry ``delivery = riders`` and the window
``[E, E + L]`` on the start of their alighting (the ride ends when alighting starts). Buses
free by ``E`` minus the boarding of a full bus can be reused.

In both directions a catchment with several alternative stops and a single client becomes a
mutually exclusive, optional client group (the solver picks the stop), every client is optional
with a prize of ``unserved_penalty x riders`` (a short fleet leaves riders out, reported
``fleet_too_small``), and ``initial_routes`` (e.g. the lines running today) become PyVRP's
initial solution, so a re-optimisation starts from them and never ends worse.

Caps (``max_routes`` trips, ``max_new`` bought buses): PyVRP caps each vehicle type but not
their sum, so the wave is solved without the caps first (60 % of the budget); if the plan
exceeds them, the busiest trips that fit are kept, each vehicle type is limited to the kept
count and the search continues from them. The first plan is returned too, so the plan can
say what the cap costs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ._clients import (
    Client,
    Options,
    build_catchments,
    make_clients,
    packing_piece,
    screen_riders,
)
from .matrix import UNREACHABLE
from .model import Fleet, Rider, Unserved
from .vrp import (
    INT_MAX,
    Progress,
    VrpClient,
    VrpDepot,
    VrpProblem,
    VrpResult,
    VrpVehicleType,
    solve_vrp,
)

if TYPE_CHECKING:
    from .matrix import StopMatrix
    from .model import Direction
    from .settings import ShuttleSettings

__all__ = [
    "COST_SCALE",
    "Progress",
    "ReuseGroup",
    "RouteResult",
    "WaveResult",
    "solve_wave",
    "split_budget",
]

logger = logging.getLogger(__name__)

#: Costs are multiplied by this and rounded, because PyVRP takes integers only.
COST_SCALE = 10_000

#: Share of a wave's budget for the uncapped search when caps may bind.
_UNCAPPED_SHARE = 0.6

#: Fixed cost a bus of an earlier wave carries in a later wave, as a share of its type's.
REUSE_FIXED_SHARE = 0.0


@dataclass(frozen=True)
class ReuseGroup:
    """Buses of one type that ran an earlier trip and are free at the wave's workplace.

    ``available_s`` is when they can leave the workplace (their last trip's end, the empty
    drive back and the turnaround); ``bus_ids`` are the planner's indices of those buses.
    """

    bus_type: str
    available_s: int
    bus_ids: tuple[int, ...]


@dataclass(frozen=True)
class RouteResult:
    """One solved trip: bus type and the (stop index, rider ids) served, in driving order.

    ``reuse`` is the index of the :class:`ReuseGroup` whose bus runs it (``None``: a new bus).
    """

    bus_type: str
    visits: tuple[tuple[int, tuple[str, ...]], ...]
    direction: Direction = "to_work"
    reuse: int | None = None


@dataclass
class WaveResult:
    """What the solver decided for one wave (``uncapped``: the plan before caps applied)."""

    routes: list[RouteResult]
    unserved: list[Unserved]
    meta: dict[str, object] = field(default_factory=dict)
    uncapped: list[RouteResult] | None = None


@dataclass(frozen=True)
class _VehicleInfo:
    bus_type: str
    reuse: int | None


def _wave_matrices(
    matrix: StopMatrix,
    workplace: int,
    used: list[int],
    *,
    direction: Direction,
    dwell_s: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Duration and distance among the wave's locations (two depots, then ``used`` stops)."""
    idx = np.array([workplace, workplace, *used], dtype=np.intp)
    dur = matrix.duration[np.ix_(idx, idx)].astype(np.int64)
    dist = matrix.distance[np.ix_(idx, idx)].astype(np.int64)
    real_t, real_d = dur < UNREACHABLE, dist < UNREACHABLE
    big_dur = int(10 * max(1, int(dur[real_t].max(initial=1)) + dwell_s))
    big_dist = int(10 * max(1, int(dist[real_d].max(initial=1))))
    drive_t = np.where(real_t, dur, big_dur)
    drive_d = np.where(real_d, dist, big_dist)
    out_t = np.where(real_t, dur + dwell_s, big_dur)  # the dwell is paid leaving a stop
    out_d = drive_d.copy()
    if direction == "to_work":
        # 0: dummy start (free to every stop, never entered); 1: the workplace, where routes
        # end and reused buses start (empty drive to their first stop, no dwell).
        out_t[0, :], out_d[0, :] = 0, 0
        out_t[:, 0], out_d[:, 0] = big_dur, big_dist
        out_t[1, :], out_d[1, :] = drive_t[1, :], drive_d[1, :]
        out_t[1, 0], out_d[1, 0] = big_dur, big_dist
    else:
        # 0: the workplace, where routes start (drive to the first stop, no dwell);
        # 1: dummy end, reached for free from every stop, never left.
        out_t[0, :], out_d[0, :] = drive_t[0, :], drive_d[0, :]
        out_t[:, 0], out_d[:, 0] = big_dur, big_dist
        out_t[:, 1], out_d[:, 1] = 0, 0
        out_t[1, :], out_d[1, :] = big_dur, big_dist
    np.fill_diagonal(out_t, 0)
    np.fill_diagonal(out_d, 0)
    return out_t, out_d


def _vehicle_types(
    fleet: Fleet,
    reuse: Sequence[ReuseGroup],
    *,
    direction: Direction,
    wave_time: int,
    settings: ShuttleSettings,
) -> tuple[list[VrpVehicleType], list[_VehicleInfo]]:
    """New buses of each type, then the groups of buses free from earlier trips."""
    out: list[VrpVehicleType] = []
    info: list[_VehicleInfo] = []
    to_work = direction == "to_work"
    early = settings.earliest_departure_s if to_work else wave_time
    late = wave_time if to_work else INT_MAX
    seats = {t.name: t for t in fleet}

    def add(t: Any, count: int, *, fixed: bool, start: int, tw_early: int, reuse_at: int | None):
        out.append(
            VrpVehicleType(
                count=count,
                capacity=int(t.seats),
                start_depot=start,
                end_depot=1,
                fixed_cost=round(t.fixed_cost * COST_SCALE * (1.0 if fixed else REUSE_FIXED_SHARE)),
                unit_distance_cost=round(t.cost_per_km * COST_SCALE / 1000),
                unit_duration_cost=round(t.cost_per_hour * COST_SCALE / 3600),
                tw_early=int(tw_early),
                tw_late=int(late),
                name=t.name if reuse_at is None else f"{t.name}@{reuse_at}",
            )
        )
        info.append(_VehicleInfo(t.name, reuse_at))

    for t in fleet:
        if t.count > 0 and t.seats > 0:
            add(t, t.count, fixed=True, start=0, tw_early=early, reuse_at=None)
    for g, group in enumerate(reuse):
        bus = seats.get(group.bus_type)
        if bus is None or bus.seats <= 0 or not group.bus_ids:
            continue
        if to_work:
            if group.available_s >= wave_time:
                continue
            add(
                bus,
                len(group.bus_ids),
                fixed=False,
                start=2,
                tw_early=max(early, group.available_s),
                reuse_at=g,
            )
        else:
            boarding = settings.dwell_s + settings.boarding_s * int(bus.seats)
            if group.available_s + boarding > wave_time:
                continue
            add(bus, len(group.bus_ids), fixed=False, start=0, tw_early=early, reuse_at=g)
    return out, info


def _problem(
    clients: list[Client],
    groups: list[list[int]],
    matrix: StopMatrix,
    workplace: int,
    vtypes: list[VrpVehicleType],
    *,
    direction: Direction,
    wave_time: int,
    settings: ShuttleSettings,
) -> VrpProblem:
    used = sorted({c.location for c in clients})
    loc_of = {s: 2 + i for i, s in enumerate(used)}
    dur, dist = _wave_matrices(
        matrix, workplace, used, direction=direction, dwell_s=settings.dwell_s
    )
    to_work = direction == "to_work"
    early = settings.earliest_departure_s
    vrp_clients = []
    for c in clients:
        n = len(c.rider_ids)
        tw = (
            (max(early, wave_time - c.limit), wave_time)
            if to_work
            else (wave_time, wave_time + c.limit)
        )
        vrp_clients.append(
            VrpClient(
                loc_of[c.location],
                pickup=n if to_work else 0,
                delivery=0 if to_work else n,
                service_s=settings.boarding_s * n,
                tw_early=int(tw[0]),
                tw_late=int(tw[1]),
                prize=round(settings.unserved_penalty * COST_SCALE * n),
                required=False,
                group=c.group,
            )
        )
    depots: tuple[VrpDepot, ...]
    if to_work:
        depots = (VrpDepot(0), VrpDepot(1, tw_late=int(wave_time)), VrpDepot(1))
    else:
        depots = (VrpDepot(0, tw_early=int(wave_time), tw_late=int(wave_time)), VrpDepot(1))
    return VrpProblem(
        dur,
        dist,
        depots,
        tuple(vrp_clients),
        tuple(vtypes),
        tuple((tuple(members), False) for members in groups),
    )


def _initial_routes(
    clients: list[Client],
    info: list[_VehicleInfo],
    counts: list[int],
    initial_routes: Sequence[RouteResult],
) -> list[tuple[int, list[int]]]:
    """``initial_routes`` as (vehicle type, client indices), as closely as the clients allow.

    Each rider's client goes on the route (and after the visits) where the rider first
    appears; of a stop-choice group the member at that visit's stop is taken (else the
    group's first). Clients of riders not on any route stay unserved, and routes beyond the
    buses of their type, or of a type not in the fleet, are left out: the search inserts
    those riders. A route keeps its reused bus when that group is in the wave, else it takes
    a new bus of its type.
    """
    by_rider: dict[str, list[int]] = {}
    for k, c in enumerate(clients):
        for rid in c.rider_ids:
            by_rider.setdefault(rid, []).append(k)
    left = list(counts)
    placed: set[int] = set()
    chosen: set[int] = set()
    out: list[tuple[int, list[int]]] = []
    skipped = 0
    for route in initial_routes:
        cands_v = [v for v, i in enumerate(info) if i.bus_type == route.bus_type and left[v] > 0]
        same = [v for v in cands_v if info[v].reuse == route.reuse]
        pool = same or [v for v in cands_v if info[v].reuse is None]
        if not pool:
            skipped += 1
            continue
        seq: list[int] = []
        for stop, rids in route.visits:
            for rid in rids:
                cands = by_rider.get(rid)
                if not cands:
                    continue
                k = next((k for k in cands if clients[k].location == stop), cands[0])
                group = clients[k].group
                if k in placed or (group is not None and group in chosen):
                    continue
                placed.add(k)
                if group is not None:
                    chosen.add(group)
                seq.append(k)
        if seq:
            out.append((pool[0], seq))
            left[pool[0]] -= 1
    if skipped:
        logger.info("warm start: %d initial routes left out (bus type missing or used up)", skipped)
    return out


def _routes(
    result: VrpResult, clients: list[Client], info: list[_VehicleInfo], direction: Direction
) -> tuple[list[RouteResult], list[tuple[int, list[int]]], set[str]]:
    """Feasible routes as :class:`RouteResult` and as (vehicle type, clients); riders on
    infeasible routes."""
    routes: list[RouteResult] = []
    raw: list[tuple[int, list[int]]] = []
    dropped: set[str] = set()
    for route in result.routes:
        visits = tuple((clients[k].location, tuple(clients[k].rider_ids)) for k in route.visits)
        if not route.feasible:
            dropped.update(r for _, rids in visits for r in rids)
            continue
        vi = info[route.vehicle_type]
        routes.append(RouteResult(vi.bus_type, visits, direction, vi.reuse))
        raw.append((route.vehicle_type, list(route.visits)))
    return routes, raw, dropped


def _keep_within_caps(
    routes: list[RouteResult],
    raw: list[tuple[int, list[int]]],
    *,
    max_routes: int | None,
    max_new: int | None,
) -> list[int]:
    """Positions of the routes to keep: busiest first while both caps allow."""
    order = sorted(
        range(len(routes)),
        key=lambda i: (-sum(len(r) for _, r in routes[i].visits), i),
    )
    kept: list[int] = []
    new = 0
    for i in order:
        is_new = routes[i].reuse is None
        if max_routes is not None and len(kept) >= max_routes:
            break
        if is_new and max_new is not None and new >= max_new:
            continue
        kept.append(i)
        new += int(is_new)
    del raw
    return sorted(kept)


def solve_wave(
    riders: list[Rider],
    options: Options,
    district: dict[str, str],
    matrix: StopMatrix,
    workplace: int,
    fleet: Fleet,
    *,
    direction: Direction = "to_work",
    wave_time: int,
    limits: dict[str, int],
    settings: ShuttleSettings,
    time_limit: float,
    progress: Progress | None = None,
    label: str = "",
    initial_routes: Sequence[RouteResult] | None = None,
    reuse: Sequence[ReuseGroup] = (),
    max_routes: int | None = None,
    max_new: int | None = None,
) -> WaveResult:
    """Choose stops, buses and stop orders for one wave with PyVRP.

    Parameters
    ----------
    riders
        Riders of the wave.
    options
        Rider id to ``[(stop matrix index, walk metres)]`` within the maximum walk.
    district
        Rider id to district id.
    matrix
        Durations / distances among stops and workplaces.
    workplace
        Matrix index of this wave's workplace.
    fleet
        New buses available to this wave (counts are what is left to buy).
    direction
        ``"to_work"`` or ``"from_work"``.
    wave_time
        To work: the bus deadline at the workplace; home: the departure from the workplace.
    limits
        Rider id to maximum ride in seconds.
    settings
        Planner settings.
    time_limit
        Seconds of search.
    progress
        Called about once a second while searching.
    label
        Name of the wave in progress reports.
    initial_routes
        Trips to start the search from (e.g. the lines running today), in this wave's
        direction. Riders not in this wave are ignored.
    reuse
        Buses free from earlier trips that may run this wave's trips without a fixed cost.
    max_routes, max_new
        Caps on the wave's trips and on the new buses it buys (``None``: no cap).
    """
    to_work = direction == "to_work"
    bus_time = wave_time - settings.arrival_margin_s if to_work else wave_time
    feasible_opts, unserved = screen_riders(
        riders,
        options,
        matrix,
        workplace,
        direction=direction,
        wave_time=bus_time,
        limits=limits,
        settings=settings,
    )
    ids = [r.id for r in riders if r.id in feasible_opts]
    meta: dict[str, object] = {"riders": len(riders), "clients": 0, "groups": 0}
    vtypes, info = _vehicle_types(
        fleet, reuse, direction=direction, wave_time=bus_time, settings=settings
    )
    if not ids:
        return WaveResult([], unserved, meta)
    if not vtypes or (max_routes is not None and max_routes <= 0):
        why = "the fleet has no buses with seats" if not vtypes else "the line cap is 0"
        reason = "fleet_too_small" if not vtypes else "over_cap"
        for rid in ids:
            unserved.append(Unserved(rid, reason, why, direction=direction))  # type: ignore[arg-type]
        return WaveResult([], unserved, meta)
    max_seats = max(v.capacity for v in vtypes)
    catchments = build_catchments(
        ids, feasible_opts, district, max_alternatives=settings.max_alternatives
    )
    direct = matrix.duration[:, workplace] if to_work else matrix.duration[workplace, :]
    clients, groups = make_clients(
        catchments,
        limits,
        max_seats,
        direct=direct,
        slack_s=bus_time - settings.earliest_departure_s if to_work else INT_MAX,
        settings=settings,
        piece=packing_piece([v.capacity for v in vtypes]),
        whole=min(v.capacity for v in vtypes),
    )
    meta.update(clients=len(clients), groups=len(groups), catchments=len(catchments))
    problem = _problem(
        clients,
        groups,
        matrix,
        workplace,
        vtypes,
        direction=direction,
        wave_time=bus_time,
        settings=settings,
    )
    # Unchosen alternatives of a group leave their prizes uncollected: a constant that the
    # progress report subtracts so it shows route costs plus the penalty of dropped riders.
    offset = sum((len(m) - 1) * problem.clients[m[0]].prize for m in groups)

    def cost_of(best: float) -> float:
        return (best - offset) / COST_SCALE

    # Penalties for excess load / time warp must outweigh the prize of one rider, otherwise
    # the search happily overloads buses instead of dropping riders (vrp.penalty_cap).
    counts = [v.count for v in vtypes]
    init = _initial_routes(clients, info, counts, initial_routes) if initial_routes else []
    total = sum(counts)
    may_bind = (max_routes is not None and total > max_routes) or (
        max_new is not None
        and sum(c for c, i in zip(counts, info, strict=True) if i.reuse is None) > max_new
    )
    first_budget = time_limit * (_UNCAPPED_SHARE if may_bind else 1.0)
    result = solve_vrp(
        problem,
        time_limit=first_budget,
        seed=settings.seed,
        max_iterations=settings.max_iterations,
        progress=progress,
        label=label,
        cost_of=cost_of,
        initial_routes=init,
    )
    routes, raw, dropped = _routes(result, clients, info, direction)
    meta.update(
        runtime_s=result.runtime_s,
        iterations=result.iterations,
        first_feasible_s=result.first_feasible_s,
        solver_feasible=result.feasible,
        solver_cost=(result.route_cost / COST_SCALE) if result.route_cost is not None else None,
        **{k: v for k, v in result.meta.items()},
    )
    uncapped: list[RouteResult] | None = None
    capped_out: set[str] = set()
    new_routes = sum(1 for r in routes if r.reuse is None)
    if (max_routes is not None and len(routes) > max_routes) or (
        max_new is not None and new_routes > max_new
    ):
        uncapped = routes
        keep = _keep_within_caps(routes, raw, max_routes=max_routes, max_new=max_new)
        limited = [0] * len(vtypes)
        for i in keep:
            limited[raw[i][0]] += 1
        capped_types = tuple(replace(v, count=n) for v, n in zip(vtypes, limited, strict=True) if n)
        remap = [v for v, n in enumerate(limited) if n]
        back = {old: new for new, old in enumerate(remap)}
        capped_problem = VrpProblem(
            problem.duration,
            problem.distance,
            problem.depots,
            problem.clients,
            capped_types,
            problem.groups,
        )
        second = solve_vrp(
            capped_problem,
            time_limit=max(0.5, time_limit - result.runtime_s),
            seed=settings.seed,
            max_iterations=settings.max_iterations,
            progress=progress,
            label=f"{label} (capped)" if label else "capped",
            cost_of=cost_of,
            initial_routes=[(back[raw[i][0]], raw[i][1]) for i in keep],
        )
        capped_info = [info[v] for v in remap]
        routes, _, dropped = _routes(second, clients, capped_info, direction)
        served_now = {r for route in routes for _, rids in route.visits for r in rids}
        capped_out = {
            r for route in uncapped for _, rids in route.visits for r in rids
        } - served_now
        meta.update(
            capped_runtime_s=second.runtime_s,
            capped_iterations=second.iterations,
            capped_solver_cost=(
                second.route_cost / COST_SCALE if second.route_cost is not None else None
            ),
        )
    served = {r for route in routes for _, rids in route.visits for r in rids}
    for rid in ids:
        if rid in served:
            continue
        if rid in capped_out:
            unserved.append(
                Unserved(
                    rid,
                    "over_cap",
                    f"served without the cap; the cap of {max_routes} trips"
                    if max_routes is not None
                    else f"served without the cap; the cap of {max_new} more buses",
                    direction=direction,
                )
            )
        elif rid in dropped:
            unserved.append(
                Unserved(
                    rid,
                    "no_feasible_line",
                    "the optimiser found no feasible line for this rider within "
                    f"{time_limit:.0f} s",
                    direction=direction,
                )
            )
        else:
            unserved.append(
                Unserved(
                    rid,
                    "fleet_too_small",
                    "left out by the optimiser: not enough buses or seats (or serving costs "
                    "more than unserved_penalty)",
                    direction=direction,
                )
            )
    return WaveResult(routes, unserved, meta, uncapped)


def split_budget(total: float, sizes: list[int]) -> list[float]:
    """Split a time budget over waves in proportion to their sizes (each gets at least 10%)."""
    if not sizes:
        return []
    weights = [max(s, 1) for s in sizes]
    floor = 0.1 * total / len(sizes)
    rest = max(0.0, total - floor * len(sizes))
    return [floor + rest * w / sum(weights) for w in weights]
