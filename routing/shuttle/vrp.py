"""The solver layer: a plain description of a vehicle routing problem and its PyVRP solve.

The planner (:mod:`routing.shuttle.solve`) states every wave as a :class:`VrpProblem`:
integer matrices, depots, clients, vehicle types and client groups, nothing about riders or
stops. :func:`solve_vrp` turns it into a :class:`pyvrp.ProblemData`, runs PyVRP under a
wall-clock budget that covers the whole solve (initial solution included), reports progress
and the time to the first feasible solution, and returns the routes as client indices with
their schedule. Keeping this layer separate lets the benchmark feed public instances
(``VrpProblem.from_data(pyvrp.read(...))``) through exactly the path the planner uses and
compare it with calling PyVRP directly.

PyVRP takes integers only: callers scale costs (see :data:`routing.shuttle.solve.COST_SCALE`)
and keep durations in seconds and distances in metres.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyvrp

__all__ = [
    "DEFAULT_MAX_PENALTY",
    "INT_MAX",
    "PENALTY_FACTOR",
    "Progress",
    "VrpClient",
    "VrpDepot",
    "VrpProblem",
    "VrpResult",
    "VrpRoute",
    "VrpVehicleType",
    "penalty_cap",
    "solve_vrp",
]

logger = logging.getLogger(__name__)

#: "Unconstrained" for time windows and shift ends (PyVRP's own default).
INT_MAX = int(np.iinfo(np.int64).max)
_UINT_MAX = int(np.iinfo(np.uint64).max)

#: Progress callback: (elapsed seconds, best feasible cost or None, label).
Progress = Callable[[float, float | None, str], None]

#: PyVRP's own cap on the penalty per unit of excess load or time warp.
DEFAULT_MAX_PENALTY = 100_000.0
#: The cap is raised to this many times the largest prize per unit of load.
PENALTY_FACTOR = 100.0


@dataclass(frozen=True)
class VrpDepot:
    """A depot: a location and the window in which routes may leave or reach it."""

    location: int
    tw_early: int = 0
    tw_late: int = INT_MAX
    service_s: int = 0


@dataclass(frozen=True)
class VrpClient:
    """A client visit: location, load picked up or delivered, service time and window."""

    location: int
    pickup: int = 0
    delivery: int = 0
    service_s: int = 0
    tw_early: int = 0
    tw_late: int = INT_MAX
    release_s: int = 0
    prize: int = 0
    required: bool = True
    group: int | None = None


@dataclass(frozen=True)
class VrpVehicleType:
    """A kind of vehicle: how many, capacity, depots, costs (integers), shift and reloads."""

    count: int
    capacity: int
    start_depot: int = 0
    end_depot: int = 0
    fixed_cost: int = 0
    unit_distance_cost: int = 1
    unit_duration_cost: int = 0
    tw_early: int = 0
    tw_late: int = INT_MAX
    shift_duration: int = INT_MAX
    reload_depots: tuple[int, ...] = ()
    max_reloads: int = _UINT_MAX
    name: str = ""


@dataclass(frozen=True, eq=False)
class VrpProblem:
    """A routing problem in integers: ``duration[i, j]`` / ``distance[i, j]`` between locations.

    ``groups`` are mutually exclusive client groups: ``(client indices, required)``.
    """

    duration: np.ndarray
    distance: np.ndarray
    depots: tuple[VrpDepot, ...]
    clients: tuple[VrpClient, ...]
    vehicle_types: tuple[VrpVehicleType, ...]
    groups: tuple[tuple[tuple[int, ...], bool], ...] = ()

    def __post_init__(self) -> None:
        n = self.duration.shape[0]
        if self.duration.shape != (n, n) or self.distance.shape != (n, n):
            msg = (
                f"Expected square duration and distance matrices of one size, got "
                f"{self.duration.shape} and {self.distance.shape}"
            )
            raise ValueError(msg)
        if not self.depots:
            msg = "Expected at least one depot, got none"
            raise ValueError(msg)

    @property
    def num_locations(self) -> int:
        """Number of locations (rows of the matrices)."""
        return int(self.duration.shape[0])

    def to_data(self) -> pyvrp.ProblemData:
        """The :class:`pyvrp.ProblemData` of this problem."""
        locations = [pyvrp.Location(0, 0) for _ in range(self.num_locations)]
        depots = [
            pyvrp.Depot(
                d.location, tw_early=d.tw_early, tw_late=d.tw_late, service_duration=d.service_s
            )
            for d in self.depots
        ]
        clients = [
            pyvrp.Client(
                c.location,
                delivery=[c.delivery],
                pickup=[c.pickup],
                service_duration=c.service_s,
                tw_early=c.tw_early,
                tw_late=c.tw_late,
                release_time=c.release_s,
                prize=c.prize,
                required=c.required,
                group=c.group,
            )
            for c in self.clients
        ]
        vtypes = [
            pyvrp.VehicleType(
                num_available=v.count,
                capacity=[v.capacity],
                start_depot=v.start_depot,
                end_depot=v.end_depot,
                fixed_cost=v.fixed_cost,
                tw_early=v.tw_early,
                tw_late=v.tw_late,
                shift_duration=v.shift_duration,
                unit_distance_cost=v.unit_distance_cost,
                unit_duration_cost=v.unit_duration_cost,
                reload_depots=list(v.reload_depots),
                max_reloads=v.max_reloads,
                name=v.name,
            )
            for v in self.vehicle_types
        ]
        groups = [pyvrp.ClientGroup(list(m), required=r) for m, r in self.groups]
        distances: list[Any] = [np.asarray(self.distance, dtype=np.int64)]
        durations: list[Any] = [np.asarray(self.duration, dtype=np.int64)]
        return pyvrp.ProblemData(locations, clients, depots, vtypes, distances, durations, groups)

    @classmethod
    def from_data(cls, data: pyvrp.ProblemData) -> VrpProblem:
        """The problem stated by a single-profile, single-load :class:`pyvrp.ProblemData`.

        Used to feed public benchmark instances (``pyvrp.read``) through :func:`solve_vrp`.
        """
        if data.num_profiles != 1 or data.num_load_dimensions > 1:
            msg = (
                f"Expected one routing profile and at most one load dimension, got "
                f"{data.num_profiles} and {data.num_load_dimensions}"
            )
            raise ValueError(msg)

        def first(values: Sequence[int]) -> int:
            return int(values[0]) if len(values) else 0

        depots = tuple(
            VrpDepot(d.location, d.tw_early, d.tw_late, d.service_duration) for d in data.depots()
        )
        clients = tuple(
            VrpClient(
                c.location,
                pickup=first(c.pickup),
                delivery=first(c.delivery),
                service_s=c.service_duration,
                tw_early=c.tw_early,
                tw_late=c.tw_late,
                release_s=c.release_time,
                prize=c.prize,
                required=c.required,
                group=c.group,
            )
            for c in data.clients()
        )
        vtypes = tuple(
            VrpVehicleType(
                count=v.num_available,
                capacity=first(v.capacity),
                start_depot=v.start_depot,
                end_depot=v.end_depot,
                fixed_cost=v.fixed_cost,
                unit_distance_cost=v.unit_distance_cost,
                unit_duration_cost=v.unit_duration_cost,
                tw_early=v.tw_early,
                tw_late=v.tw_late,
                shift_duration=v.shift_duration,
                reload_depots=tuple(v.reload_depots),
                max_reloads=v.max_reloads,
                name=v.name,
            )
            for v in data.vehicle_types()
        )
        groups = tuple((tuple(g.clients), bool(g.required)) for g in data.groups())
        return cls(
            np.asarray(data.duration_matrix(0), dtype=np.int64),
            np.asarray(data.distance_matrix(0), dtype=np.int64),
            depots,
            clients,
            vtypes,
            groups,
        )


@dataclass(frozen=True)
class VrpRoute:
    """One route of a solution.

    ``visits`` are client indices in driving order, ``trips`` the trip of each visit (0 unless
    the vehicle reloads), ``service_start`` the time service starts at each visit; ``start_s``
    and ``end_s`` bound the route; ``feasible`` is PyVRP's verdict on the route alone.
    """

    vehicle_type: int
    visits: tuple[int, ...]
    trips: tuple[int, ...]
    service_start: tuple[int, ...]
    start_s: int
    end_s: int
    distance: int
    duration: int
    feasible: bool


@dataclass
class VrpResult:
    """The best solution found, with the figures of the search.

    ``cost`` is PyVRP's objective of the best solution (fixed, distance and duration costs plus
    uncollected prizes), ``None`` when it is infeasible.
    """

    routes: list[VrpRoute]
    feasible: bool
    cost: float | None
    route_cost: float | None
    runtime_s: float
    iterations: int
    first_feasible_s: float | None
    meta: dict[str, object] = field(default_factory=dict)


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
        cost_of: Callable[[float], float],
        max_iterations: int = 0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._clock = clock
        self._max_iterations = max_iterations
        self._budget = budget
        self._cost_of = cost_of
        self._progress = progress
        self._label = label
        self.start = clock()
        self.first_feasible: float | None = None
        self.iterations = 0
        self._last = -math.inf

    def __call__(self, best_cost: float) -> bool:
        now = self._clock() - self.start
        self.iterations += 1
        feasible = best_cost < 1e300 and best_cost < INT_MAX
        if feasible and self.first_feasible is None:
            self.first_feasible = now
        if self._progress is not None and now - self._last >= 1.0:
            self._last = now
            self._progress(now, self._cost_of(best_cost) if feasible else None, self._label)
        if self._max_iterations and self.iterations > self._max_iterations:
            return True
        return now >= self._budget


def penalty_cap(problem: VrpProblem) -> float:
    """PyVRP's ``max_penalty`` for ``problem``: its default, raised so that the penalty for a
    unit of excess load (or time warp) can outweigh the prize of the unit it would carry.

    With optional clients whose prizes exceed the default cap, the search would otherwise
    overload a bus rather than leave a rider out; for problems without prizes (all clients
    required) this is PyVRP's own default.
    """
    per_unit = [c.prize / max(1, c.pickup + c.delivery) for c in problem.clients if c.prize > 0]
    return max(DEFAULT_MAX_PENALTY, PENALTY_FACTOR * max(per_unit, default=0.0))


def _initial(
    data: pyvrp.ProblemData, routes: Sequence[tuple[int, Sequence[int]]]
) -> pyvrp.Solution | None:
    built = [pyvrp.Route(data, list(visits), vt) for vt, visits in routes if visits]
    return pyvrp.Solution(data, built) if built else None


def solve_vrp(
    problem: VrpProblem,
    *,
    time_limit: float,
    seed: int = 0,
    max_iterations: int = 0,
    max_penalty: float | None = None,
    progress: Progress | None = None,
    label: str = "",
    cost_of: Callable[[float], float] = float,
    initial_routes: Sequence[tuple[int, Sequence[int]]] = (),
    clock: Callable[[], float] = time.perf_counter,
) -> VrpResult:
    """Solve ``problem`` with PyVRP within ``time_limit`` seconds (the whole solve).

    Parameters
    ----------
    problem
        The problem.
    time_limit
        Wall-clock seconds, initial solution included.
    seed
        PyVRP's random seed.
    max_iterations
        Stop after this many iterations (``0``: the time limit only).
    max_penalty
        PyVRP's largest penalty per unit of excess load or time warp (``None``:
        :func:`penalty_cap` of the problem).
    progress
        Called about once a second with ``(elapsed, cost_of(best) or None, label)``.
    cost_of
        Turns PyVRP's objective into the figure ``progress`` reports.
    initial_routes
        ``(vehicle type, client indices)`` to start from; PyVRP keeps the best solution it
        sees, so from a feasible start the result is no worse.
    clock
        What ``time_limit`` counts: wall-clock seconds (the planner), or e.g.
        ``time.process_time`` for CPU seconds (benchmarks on a shared machine).
    """
    data = problem.to_data()
    stop = _Stop(
        time_limit, progress, label, cost_of=cost_of, max_iterations=max_iterations, clock=clock
    )
    cap = penalty_cap(problem) if max_penalty is None else max_penalty
    params = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=cap))
    init = _initial(data, initial_routes) if initial_routes else None
    meta: dict[str, object] = {}
    if init is not None:
        meta["initial_routes"] = init.num_routes()
        meta["initial_feasible"] = bool(init.is_feasible())
    result = pyvrp.solve(
        data,
        stop=stop,
        seed=seed,
        collect_stats=False,
        display=False,
        params=params,
        initial_solution=init,
    )
    best = result.best
    routes: list[VrpRoute] = []
    for route in best.routes():
        visits: list[int] = []
        trips: list[int] = []
        starts: list[int] = []
        for act in route.schedule():
            if act.is_client():
                visits.append(int(act.idx))
                trips.append(int(act.trip))
                starts.append(int(act.start_time))
        routes.append(
            VrpRoute(
                vehicle_type=int(route.vehicle_type()),
                visits=tuple(visits),
                trips=tuple(trips),
                service_start=tuple(starts),
                start_s=int(route.start_time()),
                end_s=int(route.end_time()),
                distance=int(route.distance()),
                duration=int(route.duration()),
                feasible=bool(route.is_feasible()),
            )
        )
    feasible = bool(best.is_feasible())
    route_cost = (
        float(best.distance_cost() + best.duration_cost() + best.fixed_vehicle_cost())
        if feasible
        else None
    )
    return VrpResult(
        routes=routes,
        feasible=feasible,
        cost=float(result.cost()) if feasible else None,
        route_cost=route_cost,
        runtime_s=round(clock() - stop.start, 3),
        iterations=stop.iterations,
        first_feasible_s=round(stop.first_feasible, 3) if stop.first_feasible is not None else None,
        meta=meta,
    )
