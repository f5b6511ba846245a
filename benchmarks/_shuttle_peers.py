"""The benchmark peer of the shuttle planner: OR-Tools routing on the planner's own model.

:func:`solve_vrp_ortools` has the signature of :func:`routing.shuttle.vrp.solve_vrp` and
takes the same :class:`~routing.shuttle.vrp.VrpProblem` the planner hands PyVRP for each wave:
the same clients (riders per stop), windows, service times, matrices, depots (dummy start or
end, the workplace, reused buses' start), vehicle types with counts, capacities, fixed and
unit costs and shifts, optional clients with prizes and mutually exclusive stop-choice
groups. Patched in for ``solve_vrp``, the planner's whole day (waves in time order, buses of
earlier waves offered to later ones, the final chaining) runs with OR-Tools as the solver,
so the two are compared on equal terms and at the same time per wave.

Mapping: one OR-Tools node per depot and per client (clients at one stop are separate
nodes); one vehicle per available bus, starting and ending at its type's depots; arc cost =
the type's cost per metre x distance; the type's cost per second on the route's span
(``SetSpanCostCoefficientForVehicle``, as PyVRP prices route duration, waiting included); a
time dimension with the service time of the node left plus the drive, windows on clients,
depots and vehicle shifts; a capacity dimension; each optional client (or group) a
disjunction with its prize as penalty. Guided local search from parallel cheapest insertion.

OR-Tools is a benchmark-only dependency (the ``bench`` extra).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from routing.shuttle.vrp import INT_MAX, VrpProblem, VrpResult, VrpRoute

__all__ = ["solve_vrp_ortools"]


def solve_vrp_ortools(
    problem: VrpProblem,
    *,
    time_limit: float,
    seed: int = 0,
    max_iterations: int = 0,
    max_penalty: float | None = None,
    progress: Callable[[float, float | None, str], None] | None = None,
    label: str = "",
    cost_of: Callable[[float], float] = float,
    initial_routes: Sequence[tuple[int, Sequence[int]]] = (),
) -> VrpResult:
    """Solve ``problem`` with OR-Tools routing within ``time_limit`` (model building included)."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    del seed, max_iterations, max_penalty, progress, label, cost_of, initial_routes
    started = time.perf_counter()
    n_depots = len(problem.depots)
    clients = problem.clients
    n_nodes = n_depots + len(clients)
    loc = np.array(
        [d.location for d in problem.depots] + [c.location for c in clients], dtype=np.intp
    )
    dur = problem.duration[np.ix_(loc, loc)].astype(np.int64)
    dist = problem.distance[np.ix_(loc, loc)].astype(np.int64)
    service = np.array(
        [d.service_s for d in problem.depots] + [c.service_s for c in clients], dtype=np.int64
    )
    transit = dur + service[:, None]
    horizon = int(min(INT_MAX // 4, 10 * 86_400 + int(transit.max(initial=0))))

    vehicles: list[int] = []
    for t, vt in enumerate(problem.vehicle_types):
        vehicles += [t] * vt.count
    starts = [problem.vehicle_types[t].start_depot for t in vehicles]
    ends = [problem.vehicle_types[t].end_depot for t in vehicles]
    manager = pywrapcp.RoutingIndexManager(n_nodes, len(vehicles), starts, ends)
    routing = pywrapcp.RoutingModel(manager)

    time_cb = routing.RegisterTransitMatrix(np.minimum(transit, horizon).tolist())
    routing.AddDimension(time_cb, horizon, horizon, False, "Time")
    time_dim = routing.GetDimensionOrDie("Time")
    for k, c in enumerate(clients):
        idx = manager.NodeToIndex(n_depots + k)
        time_dim.CumulVar(idx).SetRange(int(c.tw_early), int(min(c.tw_late, horizon)))
    for v, t in enumerate(vehicles):
        vt = problem.vehicle_types[t]
        sd, ed = problem.depots[vt.start_depot], problem.depots[vt.end_depot]
        lo = max(vt.tw_early, sd.tw_early)
        time_dim.CumulVar(routing.Start(v)).SetRange(
            int(lo), int(min(sd.tw_late, vt.tw_late, horizon))
        )
        time_dim.CumulVar(routing.End(v)).SetRange(0, int(min(ed.tw_late, vt.tw_late, horizon)))
        routing.AddVariableMaximizedByFinalizer(time_dim.CumulVar(routing.Start(v)))
        if vt.unit_duration_cost:
            time_dim.SetSpanCostCoefficientForVehicle(int(vt.unit_duration_cost), v)

    demand = [0] * n_depots + [int(c.pickup + c.delivery) for c in clients]
    demand_cb = routing.RegisterUnaryTransitVector(demand)
    caps = [int(problem.vehicle_types[t].capacity) for t in vehicles]
    routing.AddDimensionWithVehicleCapacity(demand_cb, 0, caps, True, "Load")

    for t, vt in enumerate(problem.vehicle_types):
        cost_cb = routing.RegisterTransitMatrix((dist * int(vt.unit_distance_cost)).tolist())
        for v, vtype in enumerate(vehicles):
            if vtype == t:
                routing.SetArcCostEvaluatorOfVehicle(cost_cb, v)
                routing.SetFixedCostOfVehicle(int(vt.fixed_cost), v)

    # A depot no vehicle starts or ends at would be a node to visit: keep it out.
    for node in set(range(n_depots)) - set(starts) - set(ends):
        idx = manager.NodeToIndex(node)
        routing.AddDisjunction([idx], 0)
        routing.ActiveVar(idx).SetValue(0)

    grouped: set[int] = set()
    for members, required in problem.groups:
        nodes = [manager.NodeToIndex(n_depots + k) for k in members]
        grouped.update(members)
        prize = max(int(clients[k].prize) for k in members)
        routing.AddDisjunction(nodes, -1 if required else prize, 1)
    for k, c in enumerate(clients):
        if k not in grouped and not c.required:
            routing.AddDisjunction([manager.NodeToIndex(n_depots + k)], int(c.prize))

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
    remaining = max(0.5, time_limit - (time.perf_counter() - started))
    params.time_limit.FromMilliseconds(int(remaining * 1000))
    solution = routing.SolveWithParameters(params)
    routes: list[VrpRoute] = []
    cost: float | None = None
    if solution is not None:
        cost = float(solution.ObjectiveValue())
        for v, t in enumerate(vehicles):
            idx = solution.Value(routing.NextVar(routing.Start(v)))
            visits: list[int] = []
            starts_at: list[int] = []
            d_total = 0
            prev = manager.IndexToNode(routing.Start(v))
            while not routing.IsEnd(idx):
                node = manager.IndexToNode(idx)
                visits.append(node - n_depots)
                starts_at.append(int(solution.Value(time_dim.CumulVar(idx))))
                d_total += int(dist[prev, node])
                prev = node
                idx = solution.Value(routing.NextVar(idx))
            if not visits:
                continue
            begin = int(solution.Value(time_dim.CumulVar(routing.Start(v))))
            finish = int(solution.Value(time_dim.CumulVar(routing.End(v))))
            routes.append(
                VrpRoute(
                    t,
                    tuple(visits),
                    (0,) * len(visits),
                    tuple(starts_at),
                    begin,
                    finish,
                    d_total,
                    finish - begin,
                    True,
                )
            )
    meta: dict[str, Any] = {"status": int(routing.status())}
    return VrpResult(
        routes=routes,
        feasible=solution is not None,
        cost=cost,
        route_cost=None,
        runtime_s=round(time.perf_counter() - started, 3),
        iterations=0,
        first_feasible_s=round(first[0], 3) if first else None,
        meta=meta,
    )
