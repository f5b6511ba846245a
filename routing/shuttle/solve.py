"""The PyVRP model of one wave (one workplace, one deadline) and its solution.

Model, per wave with bus deadline ``D`` (the riders' deadline minus ``arrival_margin_s``):

* Depot 0 is a dummy start with zero-cost edges to every client; depot 1 is the workplace,
  where every route ends (open routes: buses are not routed back anywhere).
* One vehicle type per bus type: ``num_available = count``, ``capacity = seats``, fixed cost,
  cost per metre and per second (costs scaled to integers by :data:`COST_SCALE`), shift
  ``[earliest_departure, D]``.
* Clients are riders aggregated per stop: riders of one *catchment* (see
  :func:`build_catchments`) with the same ride limit ``L``. Up to the smallest bus's seats
  stay one client; more are split into whole loads of the largest bus plus pieces of the
  seats' common divisor (10 riders for 30- and 50-seat buses, see :func:`chunk_sizes`), so
  pieces fill buses exactly: fixed costs dominate, and equal chunks (say 2 x 35 riders) would
  each need a 50-seat bus run part empty. Each client carries ``pickup = riders``,
  ``service_duration = boarding_s x riders`` and the window ``[D - L, D]`` on the start of
  its boarding. With arrival at work at most ``D``, boarding at or after ``D - L``
  guarantees a ride of at most ``L``; conversely any feasible trip can be shifted later
  until it arrives at ``D`` exactly, so the window loses no feasible plan — it is exact.
  Riders with different limits at one stop are separate clients (same location, zero
  travel between them); the bus boards them one group
  after the other, and each rider's ride counts from the start of their group's boarding.
* The dwell per stop is added to every edge leaving a stop for another location, so it is
  paid once per stop however many clients the bus serves there.
* A catchment with several alternative stops and a single client becomes a mutually
  exclusive, optional client group: the solver picks the stop (one stop per district
  catchment). Catchments needing several clients keep their best stop.
* ``initial_routes`` (e.g. the lines running today) become PyVRP's initial solution, so a
  re-optimisation starts from them and, from a feasible start, never ends worse.
* Every client is optional with a prize of ``unserved_penalty x riders``: when buses or seats
  run short the solver leaves riders out and they are reported as ``fleet_too_small``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyvrp

from .matrix import UNREACHABLE
from .model import Fleet, Rider, Unserved

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .matrix import StopMatrix
    from .settings import ShuttleSettings

__all__ = [
    "COST_SCALE",
    "Catchment",
    "Progress",
    "RouteResult",
    "WaveResult",
    "build_catchments",
    "screen_riders",
    "solve_wave",
]

logger = logging.getLogger(__name__)

#: Costs are multiplied by this and rounded, because PyVRP takes integers only.
COST_SCALE = 10_000

#: Largest penalty per unit of excess load or time warp, in prizes of one rider.
_PENALTY_FACTOR = 100.0

#: Smallest client piece when the seat counts share no useful divisor.
_MIN_PIECE = 5

#: Progress callback: (elapsed seconds, best feasible cost or None, wave label).
Progress = Callable[[float, float | None, str], None]

Options = dict[str, list[tuple[int, float]]]


@dataclass(frozen=True)
class Catchment:
    """Riders of one district who can all walk to each of ``alternatives`` (matrix indices)."""

    district: str
    rider_ids: tuple[str, ...]
    alternatives: tuple[int, ...]


@dataclass
class _Client:
    location: int  # stop matrix index
    rider_ids: list[str]
    limit: int
    catchment: int
    group: int | None = None


@dataclass(frozen=True)
class RouteResult:
    """One solved route: bus type and the (stop index, rider ids) served, in driving order."""

    bus_type: str
    visits: tuple[tuple[int, tuple[str, ...]], ...]


@dataclass
class WaveResult:
    """What the solver decided for one wave."""

    routes: list[RouteResult]
    unserved: list[Unserved]
    meta: dict[str, object] = field(default_factory=dict)


def screen_riders(
    riders: list[Rider],
    options: Options,
    matrix: StopMatrix,
    workplace: int,
    *,
    bus_deadline: int,
    limits: dict[str, int],
    settings: ShuttleSettings,
) -> tuple[Options, list[Unserved]]:
    """Keep each rider's stops from which a bus can serve them at all; report the rest.

    A stop is usable for rider ``i`` when the workplace is reachable from it, a direct bus
    (board, dwell, drive) takes at most the rider's limit, and that bus need not leave before
    ``earliest_departure``. Riders without any usable stop get the reason of the test that
    removed their last stop, in the order above.
    """
    kept: Options = {}
    unserved: list[Unserved] = []
    for r in riders:
        opts = options.get(r.id, [])
        if not opts:
            unserved.append(
                Unserved(
                    r.id,
                    "too_far_to_walk",
                    f"no candidate stop within {settings.max_walk_m:.0f} m walk of the home",
                )
            )
            continue
        lim = limits[r.id]
        reach = [(s, w) for s, w in opts if matrix.duration[s, workplace] < UNREACHABLE]
        if not reach:
            unserved.append(
                Unserved(
                    r.id,
                    "unreachable",
                    "no stop within walking distance is connected to the workplace by road",
                )
            )
            continue
        direct = {
            s: settings.boarding_s + settings.dwell_s + int(matrix.duration[s, workplace])
            for s, _ in reach
        }
        fits = [(s, w) for s, w in reach if direct[s] <= lim]
        if not fits:
            best = min(direct.values())
            unserved.append(
                Unserved(
                    r.id,
                    "ride_limit_shorter_than_direct_drive",
                    f"the fastest direct bus takes {best / 60:.1f} min, the rider's limit is "
                    f"{lim / 60:.1f} min",
                )
            )
            continue
        early = settings.earliest_departure_s
        timely = [(s, w) for s, w in fits if bus_deadline - direct[s] >= early]
        if not timely:
            best = min(direct[s] for s, _ in fits)
            unserved.append(
                Unserved(
                    r.id,
                    "deadline_too_early",
                    f"a direct bus needs {best / 60:.1f} min; leaving at "
                    f"{settings.earliest_departure} it cannot arrive by the deadline",
                )
            )
            continue
        kept[r.id] = sorted(timely, key=lambda sw: sw[1])
    return kept, unserved


def build_catchments(
    rider_ids: list[str],
    options: Options,
    district: dict[str, str],
    *,
    max_alternatives: int,
) -> list[Catchment]:
    """Split each district's riders into catchments that can share one stop.

    Greedy cover per district: take the stop most of the remaining riders can walk to; the
    riders who can form a catchment, whose alternatives are the stops *all* of them can walk
    to (best total walk first, at most ``max_alternatives``). Repeat until no rider is left.
    Deterministic (ties broken by total walk, then stop index).
    """
    by_district: dict[str, list[str]] = {}
    for rid in rider_ids:
        by_district.setdefault(district.get(rid, ""), []).append(rid)
    out: list[Catchment] = []
    for d in sorted(by_district):
        remaining = list(by_district[d])
        walk = {rid: dict(options[rid]) for rid in remaining}
        while remaining:
            count: dict[int, int] = {}
            total: dict[int, float] = {}
            for rid in remaining:
                for s, w in walk[rid].items():
                    count[s] = count.get(s, 0) + 1
                    total[s] = total.get(s, 0.0) + w
            best = min(count, key=lambda s: (-count[s], total[s], s))
            covered = [rid for rid in remaining if best in walk[rid]]
            common = set(walk[covered[0]])
            for rid in covered[1:]:
                common &= set(walk[rid])
            ranked = sorted(common, key=lambda s: (sum(walk[r][s] for r in covered), s))
            alts = [best] + [s for s in ranked if s != best]
            # Best total walk first; ``best`` is kept even if another common stop walks less.
            alts = sorted(
                alts[: max(1, max_alternatives)],
                key=lambda s: (sum(walk[r][s] for r in covered), s),
            )
            out.append(Catchment(d, tuple(covered), tuple(alts)))
            cset = set(covered)
            remaining = [rid for rid in remaining if rid not in cset]
    return out


def chunk_sizes(n: int, cap: int, *, piece: int, whole: int = 0) -> list[int]:
    """Split ``n`` riders into client sizes that pack well into buses.

    As many chunks of ``cap`` (the largest bus, or less when the ride limit allows fewer
    boardings) as fit, the rest in pieces of ``piece`` riders (the last one smaller). With
    ``piece`` a common divisor of the seat counts (10 for 30- and 50-seat buses) any mix of
    pieces fills a bus exactly, so splitting never forces a half-empty bus; ``piece >= cap``
    gives equal chunks of at most ``cap`` instead. Up to ``whole`` riders (and at most
    ``cap``) stay one chunk.
    """
    if n <= 0:
        return []
    cap = max(1, cap)
    if piece >= cap or n <= max(piece, min(whole, cap)):
        k = math.ceil(n / cap)
        return [n // k + (1 if j < n % k else 0) for j in range(k)]
    full, rest = divmod(n, cap)
    sizes = [cap] * full
    sizes += [piece] * (rest // piece)
    if rest % piece:
        sizes.append(rest % piece)
    return sizes


def packing_piece(seats: list[int]) -> int:
    """Client piece size for a fleet: the seats' greatest common divisor, at least 5."""
    g = 0
    for s in seats:
        g = math.gcd(g, s)
    return max(g, _MIN_PIECE)


def _whole_client(types: list[Any]) -> int:
    """Riders of one limit and catchment kept as one client: up to the smallest bus."""
    return min(int(t.seats) for t in types)


def _make_clients(
    catchments: list[Catchment],
    limits: dict[str, int],
    max_seats: int,
    *,
    to_work: NDArray[np.int64],
    bus_deadline: int,
    settings: ShuttleSettings,
    piece: int | None = None,
    whole: int = 0,
) -> tuple[list[_Client], list[list[int]]]:
    """Riders of each catchment as solver clients, and the mutually exclusive groups.

    A client is at most ``max_seats`` riders, and small enough that boarding all of them
    still fits the ride limit and the earliest departure on a direct trip from the farthest
    alternative stop (``to_work``: drive seconds from each stop to the workplace), so a
    rider :func:`screen_riders` kept is never left out just for being in a big group.
    Riders beyond whole busloads are split into pieces of ``piece`` riders (see
    :func:`chunk_sizes`; ``None``: equal chunks of at most ``max_seats``); up to ``whole``
    riders of one limit stay one client.
    """
    clients: list[_Client] = []
    groups: list[list[int]] = []
    b = max(settings.boarding_s, 1)
    for ci, c in enumerate(catchments):
        by_limit: dict[int, list[str]] = {}
        for rid in c.rider_ids:
            by_limit.setdefault(limits[rid], []).append(rid)
        slowest = max(int(to_work[s]) for s in c.alternatives) + settings.dwell_s
        by_time = (bus_deadline - settings.earliest_departure_s - slowest) // b
        chunks: list[tuple[int, list[str]]] = []
        for lim in sorted(by_limit):
            ids = by_limit[lim]
            cap = max(1, min(max_seats, (lim - slowest) // b, by_time))
            start = 0
            for size in chunk_sizes(len(ids), cap, piece=piece or cap, whole=whole):
                chunks.append((lim, ids[start : start + size]))
                start += size
        if len(chunks) == 1 and len(c.alternatives) > 1:
            lim, ids = chunks[0]
            members = []
            for s in c.alternatives:
                members.append(len(clients))
                clients.append(_Client(s, ids, lim, ci, group=len(groups)))
            groups.append(members)
        else:
            for lim, ids in chunks:
                clients.append(_Client(c.alternatives[0], ids, lim, ci))
    return clients, groups


class _Stop:
    """Stopping criterion: a wall-clock budget that reports progress and first feasibility.

    The clock starts when the criterion is made, before PyVRP builds its initial solution,
    so the budget covers the whole solve (``MaxRuntime`` starts at the first iteration).
    """

    def __init__(
        self,
        budget: float,
        progress: Progress | None,
        label: str,
        *,
        offset: int = 0,
        max_iterations: int = 0,
    ) -> None:
        self._max_iterations = max_iterations
        self._budget = budget
        self._offset = offset
        self._progress = progress
        self._label = label
        self.start = time.perf_counter()
        self.first_feasible: float | None = None
        self.iterations = 0
        self._last = -math.inf

    def __call__(self, best_cost: float) -> bool:
        now = time.perf_counter() - self.start
        self.iterations += 1
        feasible = best_cost < 1e300 and best_cost < np.iinfo(np.int64).max
        if feasible and self.first_feasible is None:
            self.first_feasible = now
        if self._progress is not None and now - self._last >= 1.0:
            self._last = now
            self._progress(
                now, (best_cost - self._offset) / COST_SCALE if feasible else None, self._label
            )
        if self._max_iterations and self.iterations > self._max_iterations:
            return True
        return now >= self._budget


def _initial_solution(
    data: pyvrp.ProblemData,
    clients: list[_Client],
    types: list[Any],
    initial_routes: Sequence[RouteResult],
) -> pyvrp.Solution | None:
    """A PyVRP solution following ``initial_routes`` as closely as the clients allow.

    Each rider's client goes on the route (and after the visits) where the rider first
    appears; of a stop-choice group the member at that visit's stop is taken (else the
    group's first). Clients of riders not on any route stay unserved, and routes beyond the
    buses of their type, or of a type not in the fleet, are left out: the search inserts
    those riders. Riders at one stop are taken in the order given, so list them by boarding
    time. ``None`` when no route is left.
    """
    by_rider: dict[str, list[int]] = {}
    for k, c in enumerate(clients):
        for rid in c.rider_ids:
            by_rider.setdefault(rid, []).append(k)
    type_of = {t.name: i for i, t in enumerate(types)}
    left = {i: int(t.count) for i, t in enumerate(types)}
    placed: set[int] = set()
    chosen: set[int] = set()
    routes: list[pyvrp.Route] = []
    skipped = 0
    for route in initial_routes:
        t = type_of.get(route.bus_type)
        if t is None or left[t] <= 0:
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
            routes.append(pyvrp.Route(data, seq, t))
            left[t] -= 1
    if skipped:
        logger.info("warm start: %d initial routes left out (bus type missing or used up)", skipped)
    return pyvrp.Solution(data, routes) if routes else None


def _solve_params(settings: ShuttleSettings) -> pyvrp.SolveParams:
    prize_unit = settings.unserved_penalty * COST_SCALE
    return pyvrp.SolveParams(
        penalty=pyvrp.PenaltyParams(max_penalty=max(100_000.0, _PENALTY_FACTOR * prize_unit))
    )


def solve_wave(
    riders: list[Rider],
    options: Options,
    district: dict[str, str],
    matrix: StopMatrix,
    workplace: int,
    fleet: Fleet,
    *,
    deadline: int,
    limits: dict[str, int],
    settings: ShuttleSettings,
    time_limit: float,
    progress: Progress | None = None,
    label: str = "",
    initial_routes: Sequence[RouteResult] | None = None,
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
        Buses available to this wave.
    deadline
        The riders' deadline (seconds since midnight).
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
        Routes to start the search from (e.g. the lines running today): bus type and
        ``(stop matrix index, rider ids)`` visits in driving order, riders at a stop in
        boarding order. Riders not in this wave are ignored. The search never returns a
        worse plan than a feasible start (PyVRP keeps the best solution it has seen).
    """
    bus_deadline = deadline - settings.arrival_margin_s
    feasible_opts, unserved = screen_riders(
        riders,
        options,
        matrix,
        workplace,
        bus_deadline=bus_deadline,
        limits=limits,
        settings=settings,
    )
    ids = [r.id for r in riders if r.id in feasible_opts]
    meta: dict[str, object] = {"riders": len(riders), "clients": 0, "groups": 0}
    if not ids:
        return WaveResult([], unserved, meta)
    types = [t for t in fleet if t.count > 0 and t.seats > 0]
    if not types:
        for rid in ids:
            unserved.append(Unserved(rid, "fleet_too_small", "the fleet has no buses with seats"))
        return WaveResult([], unserved, meta)
    max_seats = max(t.seats for t in types)
    catchments = build_catchments(
        ids, feasible_opts, district, max_alternatives=settings.max_alternatives
    )
    clients, groups = _make_clients(
        catchments,
        limits,
        max_seats,
        to_work=matrix.duration[:, workplace],
        bus_deadline=bus_deadline,
        settings=settings,
        piece=packing_piece([t.seats for t in types]),
        whole=_whole_client(types),
    )
    meta.update(clients=len(clients), groups=len(groups), catchments=len(catchments))

    # Locations: 0 dummy start, 1 workplace, then the stops the clients use.
    used = sorted({c.location for c in clients})
    loc_of = {s: 2 + i for i, s in enumerate(used)}
    mat_idx = np.array([workplace, workplace, *used], dtype=np.intp)
    dur = matrix.duration[np.ix_(mat_idx, mat_idx)].astype(np.int64)
    dist = matrix.distance[np.ix_(mat_idx, mat_idx)].astype(np.int64)
    real = dur < UNREACHABLE
    big_dur = int(10 * max(1, int(dur[real].max(initial=1)) + settings.dwell_s))
    big_dist = int(10 * max(1, int(dist[dist < UNREACHABLE].max(initial=1))))
    dur = np.where(real, dur + settings.dwell_s, big_dur)
    dist = np.where(dist < UNREACHABLE, dist, big_dist)
    np.fill_diagonal(dur, 0)
    np.fill_diagonal(dist, 0)
    dur[0, :] = 0
    dist[0, :] = 0
    dur[:, 0] = big_dur
    dist[:, 0] = big_dist
    dur[1, :] = big_dur
    dist[1, :] = big_dist
    dur[0, 0] = dist[0, 0] = dur[1, 1] = dist[1, 1] = 0

    locations = [pyvrp.Location(0, 0), pyvrp.Location(0, 0)] + [
        pyvrp.Location(int(s), 0) for s in used
    ]
    early = settings.earliest_departure_s
    pv_clients = []
    for c in clients:
        n = len(c.rider_ids)
        tw_early = max(early, bus_deadline - c.limit)
        pv_clients.append(
            pyvrp.Client(
                loc_of[c.location],
                pickup=[n],
                service_duration=settings.boarding_s * n,
                tw_early=int(tw_early),
                tw_late=int(bus_deadline),
                prize=round(settings.unserved_penalty * COST_SCALE * n),
                required=False,
                group=c.group,
            )
        )
    depots = [pyvrp.Depot(0), pyvrp.Depot(1, tw_early=0, tw_late=int(bus_deadline))]
    vtypes = [
        pyvrp.VehicleType(
            num_available=t.count,
            capacity=[t.seats],
            start_depot=0,
            end_depot=1,
            fixed_cost=round(t.fixed_cost * COST_SCALE),
            tw_early=int(early),
            tw_late=int(bus_deadline),
            unit_distance_cost=round(t.cost_per_km * COST_SCALE / 1000),
            unit_duration_cost=round(t.cost_per_hour * COST_SCALE / 3600),
            name=t.name,
        )
        for t in types
    ]
    pv_groups = [pyvrp.ClientGroup(members, required=False) for members in groups]
    dist_mats: list[Any] = [dist]
    dur_mats: list[Any] = [dur]
    data = pyvrp.ProblemData(locations, pv_clients, depots, vtypes, dist_mats, dur_mats, pv_groups)
    # Unchosen alternatives of a group leave their prizes uncollected: a constant that the
    # progress report subtracts so it shows route costs plus the penalty of dropped riders.
    offset = sum((len(members) - 1) * pv_clients[members[0]].prize for members in groups)
    stop = _Stop(time_limit, progress, label, offset=offset, max_iterations=settings.max_iterations)
    # Penalties for excess load / time warp must outweigh the prize of one rider, otherwise the
    # search happily overloads buses instead of dropping riders (PyVRP caps them at 1e5).
    params = _solve_params(settings)
    init = _initial_solution(data, clients, types, initial_routes) if initial_routes else None
    if init is not None:
        meta.update(
            initial_routes=init.num_routes(),
            initial_feasible=bool(init.is_feasible()),
            initial_cost=_route_cost(init) if init.is_feasible() else None,
        )
    result = pyvrp.solve(
        data,
        stop=stop,
        seed=settings.seed,
        collect_stats=False,
        display=False,
        params=params,
        initial_solution=init,
    )
    best = result.best
    meta.update(
        runtime_s=round(time.perf_counter() - stop.start, 3),
        iterations=stop.iterations,
        first_feasible_s=(
            round(stop.first_feasible, 3) if stop.first_feasible is not None else None
        ),
        solver_feasible=bool(result.is_feasible()),
        solver_cost=_route_cost(best) if result.is_feasible() else None,
    )

    routes: list[RouteResult] = []
    served: set[str] = set()
    dropped: set[str] = set()
    for route in best.routes():
        visits: list[tuple[int, tuple[str, ...]]] = []
        rids: list[str] = []
        for act in route.schedule():
            if act.is_client():
                c = clients[act.idx]
                visits.append((c.location, tuple(c.rider_ids)))
                rids.extend(c.rider_ids)
        if not route.is_feasible():
            dropped.update(rids)
            continue
        served.update(rids)
        routes.append(RouteResult(types[route.vehicle_type()].name, tuple(visits)))
    for rid in ids:
        if rid in served:
            continue
        if rid in dropped:
            unserved.append(
                Unserved(
                    rid,
                    "no_feasible_line",
                    "the optimiser found no feasible "
                    f"line for this rider within {time_limit:.0f} s",
                )
            )
        else:
            unserved.append(
                Unserved(
                    rid,
                    "fleet_too_small",
                    "left out by the optimiser: not "
                    "enough buses or seats (or serving costs more than "
                    "unserved_penalty)",
                )
            )
    return WaveResult(routes, unserved, meta)


def _route_cost(sol: pyvrp.Solution) -> float:
    """Fixed, distance and duration cost of a solution in currency units (no prizes)."""
    return (sol.distance_cost() + sol.duration_cost() + sol.fixed_vehicle_cost()) / COST_SCALE


def split_budget(total: float, sizes: list[int]) -> list[float]:
    """Split a time budget over waves in proportion to their sizes (each gets at least 10%)."""
    if not sizes:
        return []
    weights = [max(s, 1) for s in sizes]
    floor = 0.1 * total / len(sizes)
    rest = max(0.0, total - floor * len(sizes))
    return [floor + rest * w / sum(weights) for w in weights]
