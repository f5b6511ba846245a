"""Benchmark peers for the shuttle planner: OR-Tools routing and a naive plan.

Both work on :class:`VrpArrays`, the solver-neutral view of one shuttle instance (the same
matrices, demands, windows and fleet that PyVRP gets), and both return :class:`PeerRoutes`:
for each route the bus type and the client indices in visiting order (the workplace, index 0,
is implied as the last stop). The benchmark turns those routes into plans and scores them with
the planner's own KPI code and independent checker, so the three plans are compared on equal
terms.

OR-Tools is a benchmark-only dependency (the ``bench`` extra).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["PeerRoutes", "VehicleType", "VrpArrays", "solve_naive", "solve_ortools"]

#: OR-Tools wants integer costs: work in 1/100 of a currency unit.
COST_SCALE = 100


@dataclass(frozen=True)
class VehicleType:
    """One bus type: seats, how many there are, and its costs."""

    name: str
    capacity: int
    count: int
    fixed_cost: float
    cost_per_km: float
    cost_per_hour: float


@dataclass
class VrpArrays:
    """Solver-neutral arrays of one instance. Location 0 is the workplace (where routes end).

    Attributes
    ----------
    duration, distance
        Integer travel seconds and metres between locations, shape ``(n, n)``.
    demand
        Riders boarding at each location (0 at the workplace).
    early, late
        Pickup time window per location, seconds since midnight; ``late[0]`` is the deadline
        and ``early[0]`` the earliest departure of any bus.
    service
        Dwell plus boarding seconds spent at each location.
    penalty
        Cost of leaving a location's riders unserved (currency units).
    group
        Client group per location (``-1``: none); at most one location per group is visited.
    vehicle_types
        The fleet.
    """

    duration: NDArray[np.int64]
    distance: NDArray[np.int64]
    demand: NDArray[np.int64]
    early: NDArray[np.int64]
    late: NDArray[np.int64]
    service: NDArray[np.int64]
    penalty: NDArray[np.float64]
    vehicle_types: list[VehicleType]
    group: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n(self) -> int:
        """Number of locations including the workplace."""
        return int(self.demand.shape[0])


@dataclass
class PeerRoutes:
    """Routes of a peer solver: ``(vehicle type index, [client locations in order])``."""

    routes: list[tuple[int, list[int]]]
    seconds_to_first: float
    seconds_total: float
    solver: str
    status: str = ""
    seconds_build: float = 0.0


def _groups(arrays: VrpArrays) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    if arrays.group.size:
        for loc in range(1, arrays.n):
            g = int(arrays.group[loc])
            if g >= 0:
                out.setdefault(g, []).append(loc)
    return out


def solve_ortools(
    arrays: VrpArrays, *, time_limit: float, seed: int = 0, workers: int = 1
) -> PeerRoutes:
    """Solve the instance with OR-Tools routing (guided local search) within ``time_limit``.

    The model mirrors the PyVRP one: a dummy start node with free arcs to every stop (open
    routes ending at the workplace), one vehicle per available bus with its type's capacity,
    fixed cost and per-km / per-hour arc costs, pickup time windows with waiting allowed,
    the deadline at the workplace, and each stop (or group of alternative stops) optional
    with its penalty via ``AddDisjunction``.
    """
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    del seed, workers  # OR-Tools' routing search is deterministic and single-threaded.
    started = time.perf_counter()
    n = arrays.n
    start_node = n  # dummy start depot
    n_nodes = n + 1
    vehicles: list[int] = []
    for t, vt in enumerate(arrays.vehicle_types):
        vehicles += [t] * vt.count
    n_vehicles = len(vehicles)
    manager = pywrapcp.RoutingIndexManager(
        n_nodes, n_vehicles, [start_node] * n_vehicles, [0] * n_vehicles
    )
    routing = pywrapcp.RoutingModel(manager)

    dur = np.zeros((n_nodes, n_nodes), dtype=np.int64)
    dist = np.zeros((n_nodes, n_nodes), dtype=np.int64)
    dur[:n, :n] = arrays.duration
    dist[:n, :n] = arrays.distance
    # Nothing leaves the workplace; the dummy start reaches every stop for free.
    big = 10 * 86400
    dur[0, 1:n] = big
    dist[0, 1:n] = big
    dur[:, start_node] = big
    dist[:, start_node] = big
    dur[start_node, :] = 0
    dist[start_node, :] = 0
    # start -> workplace directly is the empty route of an unused bus (no fixed cost).

    # Time dimension: service at the origin plus the drive.
    service = np.append(arrays.service, 0)
    transit_time = dur + service[:, None]
    time_cb = routing.RegisterTransitMatrix(transit_time.tolist())
    horizon = int(arrays.late[0]) + 1
    routing.AddDimension(time_cb, horizon, horizon, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for loc in range(1, n):
        idx = manager.NodeToIndex(loc)
        if arrays.early[loc] > arrays.late[loc]:
            # An empty window (PyVRP accepts one and never serves the client): same here.
            routing.ActiveVar(idx).SetValue(0)
            continue
        time_dim.CumulVar(idx).SetRange(int(arrays.early[loc]), int(arrays.late[loc]))
    for v in range(n_vehicles):
        # A bus leaves its first stop no earlier than ``early[0]`` and reaches work by the
        # deadline ``late[0]`` (the vehicle shift of the PyVRP model).
        time_dim.CumulVar(routing.Start(v)).SetRange(int(arrays.early[0]), int(arrays.late[0]))
        time_dim.CumulVar(routing.End(v)).SetRange(0, int(arrays.late[0]))
        routing.AddVariableMinimizedByFinalizer(time_dim.CumulVar(routing.Start(v)))

    # Capacity per vehicle.
    demand = np.append(arrays.demand, 0).astype(np.int64)
    demand_cb = routing.RegisterUnaryTransitVector(demand.tolist())
    caps = [int(arrays.vehicle_types[t].capacity) for t in vehicles]
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, caps, True, "Capacity")

    # Arc costs per type (cost per km and per hour, scaled to integers) and fixed costs.
    for t, vt in enumerate(arrays.vehicle_types):
        cost = (
            dist * (vt.cost_per_km * COST_SCALE / 1000.0)
            + transit_time * (vt.cost_per_hour * COST_SCALE / 3600.0)
        ).round()
        cost[dur >= big] = big * COST_SCALE
        cb = routing.RegisterTransitMatrix(cost.astype(np.int64).tolist())
        for v, vtype in enumerate(vehicles):
            if vtype == t:
                routing.SetArcCostEvaluatorOfVehicle(cb, v)
                routing.SetFixedCostOfVehicle(round(vt.fixed_cost * COST_SCALE), v)

    # Optional stops: one disjunction per stop, or per group of alternative stops.
    groups = _groups(arrays)
    grouped = {loc for locs in groups.values() for loc in locs}
    for loc in range(1, n):
        if loc not in grouped:
            penalty = round(float(arrays.penalty[loc]) * COST_SCALE)
            routing.AddDisjunction([manager.NodeToIndex(loc)], penalty)
    for locs in groups.values():
        # At most one stop of a group (PyVRP's mutually exclusive, optional client group).
        penalty = round(max(float(arrays.penalty[loc]) for loc in locs) * COST_SCALE)
        routing.AddDisjunction([manager.NodeToIndex(loc) for loc in locs], penalty, 1)

    first: list[float] = []

    def on_solution() -> None:
        if not first:
            first.append(time.perf_counter() - started)

    routing.AddAtSolutionCallback(on_solution)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    built = time.perf_counter() - started
    remaining = max(1.0, time_limit - built)
    params.time_limit.FromMilliseconds(int(remaining * 1000))
    solution = routing.SolveWithParameters(params)
    total = time.perf_counter() - started
    status = str(routing.status())
    routes: list[tuple[int, list[int]]] = []
    if solution is not None:
        for v in range(n_vehicles):
            idx = routing.Start(v)
            stops: list[int] = []
            idx = solution.Value(routing.NextVar(idx))
            while not routing.IsEnd(idx):
                stops.append(manager.IndexToNode(idx))
                idx = solution.Value(routing.NextVar(idx))
            if stops:
                routes.append((vehicles[v], stops))
    return PeerRoutes(
        routes=routes,
        seconds_to_first=first[0] if first else float("nan"),
        seconds_total=total,
        solver="ortools",
        status=status,
        seconds_build=built,
    )


def solve_naive(
    arrays: VrpArrays,
    *,
    cluster_radius_s: int = 300,
    x: NDArray[np.float64] | None = None,
    y: NDArray[np.float64] | None = None,
) -> PeerRoutes:
    """A planner's rule of thumb: one direct line per cluster of nearby stops.

    Stops are taken farthest-from-work first; each seeds a cluster that absorbs the unassigned
    stops within ``cluster_radius_s`` seconds of driving from the seed, as long as the riders
    fit the largest bus. Each cluster becomes one line (stops ordered farthest first, then
    straight to the workplace), run by the smallest bus that seats its riders. In groups of
    alternative stops, only the stop nearest the workplace is used. Time windows are not
    looked at: the naive plan's lateness and ride-limit violations show up in the checker.
    """
    del x, y
    started = time.perf_counter()
    groups = _groups(arrays)
    use = np.ones(arrays.n, dtype=bool)
    use[0] = False
    use &= arrays.demand > 0
    for locs in groups.values():
        keep = min(locs, key=lambda loc: int(arrays.duration[loc, 0]))
        for loc in locs:
            if loc != keep:
                use[loc] = False
    types = sorted(range(len(arrays.vehicle_types)), key=lambda t: arrays.vehicle_types[t].capacity)
    max_cap = max(arrays.vehicle_types[t].capacity for t in types)
    left = {int(loc) for loc in np.flatnonzero(use)}
    available = {t: arrays.vehicle_types[t].count for t in types}
    routes: list[tuple[int, list[int]]] = []
    for seed in sorted(left, key=lambda loc: -int(arrays.duration[loc, 0])):
        if seed not in left:
            continue
        left.discard(seed)
        cluster = [seed]
        load = int(arrays.demand[seed])
        for other in sorted(left, key=lambda loc: int(arrays.duration[seed, loc])):
            if int(arrays.duration[seed, other]) > cluster_radius_s:
                break
            if load + int(arrays.demand[other]) <= max_cap:
                cluster.append(other)
                load += int(arrays.demand[other])
                left.discard(other)
        cluster.sort(key=lambda loc: -int(arrays.duration[loc, 0]))
        fitting = [t for t in types if arrays.vehicle_types[t].capacity >= load and available[t]]
        if not fitting:
            fitting = [t for t in types if available[t]]
        if not fitting:
            break  # fleet exhausted: the rest stays unserved
        t = fitting[0]
        available[t] -= 1
        routes.append((t, cluster))
    total = time.perf_counter() - started
    return PeerRoutes(
        routes=routes, seconds_to_first=total, seconds_total=total, solver="naive", status="ok"
    )
