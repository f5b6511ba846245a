"""Shuttle planner benchmark: PyVRP planner vs OR-Tools routing vs a naive plan.

Regional instance from ``../shared/osm/liechtenstein.osm.pbf`` (see
``benchmarks/_shuttle_instance.py``): one industrial workplace, ~170 residential districts,
~7,000 riders on residential buildings, 30- and 50-seat buses, deadline 08:30, ride limit 60
min (5 % of riders 30 min).

1. The planner (``plan_shuttles``, PyVRP) runs with the time budget; the solver inputs it
   builds (screened riders, catchments, stop matrix) are captured.
2. OR-Tools routing gets the *same* clients, matrix, windows, capacities, fleet, fixed costs
   and penalties, and the same time budget (guided local search). Because how riders are
   split into clients is part of the planner's model, OR-Tools also runs on the earlier
   split (equal chunks of at most one largest bus per catchment and ride limit), so the
   planner is compared with OR-Tools' better result of the two.
3. A naive plan: one direct line per cluster of nearby stops, bus sized to demand.

All three are turned into plans by the planner's own timetable code, scored by the same KPI
code and checked by the independent checker. OR-Tools and the naive plan run in forked
processes so each reports its own peak memory. Prints figures; asserts nothing.

Usage::

    .venv/bin/python benchmarks/bench_shuttle.py [--time-limit 60] [--riders 7000]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shuttle_instance import build_instance
from _shuttle_peers import (
    PeerRoutes,
    VehicleType,
    VrpArrays,
    solve_naive,
    solve_ortools,
)

ROOT = Path(__file__).resolve().parent.parent
PBF = ROOT.parent / "shared" / "osm" / "liechtenstein.osm.pbf"


def _rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _current_rss_mb() -> float:
    """Current resident memory of this process (MB), from /proc (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _capture_solver_inputs() -> dict[str, Any]:
    """Wrap the planner's wave solver so the model it hands PyVRP can be reused.

    Records the wave inputs (stop matrix, options, limits, settings), the solver clients
    (stop and riders of each) and the :class:`pyvrp.ProblemData` itself, so OR-Tools gets
    exactly the same clients, windows, matrices and fleet, whatever the planner's model is.
    """
    import pyvrp

    import routing.shuttle.plan as plan_mod
    import routing.shuttle.solve as solve_mod

    captured: dict[str, Any] = {}
    original_wave = plan_mod.solve_wave
    original_clients = solve_mod._make_clients
    original_solve = pyvrp.solve

    def wave(riders, options, district, matrix, workplace, fleet, **kw):  # type: ignore[no-untyped-def]
        captured.update(
            riders=riders,
            options=options,
            district=district,
            matrix=matrix,
            workplace=workplace,
            fleet=fleet,
            **kw,
        )
        return original_wave(riders, options, district, matrix, workplace, fleet, **kw)

    def clients(*args, **kw):  # type: ignore[no-untyped-def]
        out = original_clients(*args, **kw)
        captured["clients"] = out[0]
        return out

    def solve(data, *args, **kw):  # type: ignore[no-untyped-def]
        captured["data"] = data
        return original_solve(data, *args, **kw)

    plan_mod.solve_wave = wave  # type: ignore[assignment]
    solve_mod._make_clients = clients  # type: ignore[assignment]
    pyvrp.solve = solve  # type: ignore[assignment]
    return captured


def _arrays_from_inputs(cap: dict[str, Any]) -> tuple[VrpArrays, list[Any], list[Any]]:
    """The captured PyVRP model as solver-neutral arrays (client ``k`` is location ``k + 1``)."""
    from routing.shuttle.solve import COST_SCALE

    data = cap["data"]
    clients = cap["clients"]
    pv_clients = data.clients()
    locs = np.array([1] + [c.location for c in pv_clients], dtype=np.intp)
    dur = np.asarray(data.duration_matrix(0), dtype=np.int64)[np.ix_(locs, locs)]
    dist = np.asarray(data.distance_matrix(0), dtype=np.int64)[np.ix_(locs, locs)]
    n = len(pv_clients) + 1
    demand = np.zeros(n, dtype=np.int64)
    early = np.zeros(n, dtype=np.int64)
    late = np.zeros(n, dtype=np.int64)
    service = np.zeros(n, dtype=np.int64)
    penalty = np.zeros(n)
    group = np.full(n, -1, dtype=np.int64)
    vt0 = data.vehicle_type(0)
    early[0] = vt0.tw_early
    late[0] = data.depot(1).tw_late
    for k, c in enumerate(pv_clients, start=1):
        demand[k] = c.pickup[0]
        early[k], late[k] = c.tw_early, c.tw_late
        service[k] = c.service_duration
        penalty[k] = c.prize / COST_SCALE
        group[k] = -1 if c.group is None else c.group
    fleet = {t.name: t for t in cap["fleet"]}
    vtypes = []
    for vt in data.vehicle_types():
        t = fleet[vt.name]
        vtypes.append(
            VehicleType(
                t.name,
                vt.capacity[0],
                vt.num_available,
                t.fixed_cost,
                t.cost_per_km,
                t.cost_per_hour,
            )
        )
    arrays = VrpArrays(dur, dist, demand, early, late, service, penalty, vtypes, group)
    return arrays, clients, []


def _capture_equal_split(cap: dict[str, Any]) -> dict[str, Any]:
    """The same wave modelled with the earlier client split, for OR-Tools' second run.

    Runs the wave solver once more for a single iteration with equal chunks of at most the
    largest bus (no 10-rider pieces); the capture hooks record its clients and ProblemData.
    """
    from dataclasses import replace

    import routing.shuttle.solve as solve_mod

    pack = dict(cap)
    original = solve_mod.packing_piece
    solve_mod.packing_piece = lambda seats: 10**9  # type: ignore[assignment]
    try:
        solve_mod.solve_wave(
            cap["riders"],
            cap["options"],
            cap["district"],
            cap["matrix"],
            cap["workplace"],
            cap["fleet"],
            deadline=cap["deadline"],
            limits=cap["limits"],
            settings=replace(cap["settings"], max_iterations=1),
            time_limit=60.0,
        )
    finally:
        solve_mod.packing_piece = original  # type: ignore[assignment]
    equal = dict(cap)
    cap.clear()
    cap.update(pack)
    return equal


def _plan_from_routes(
    peer: PeerRoutes,
    cap: dict[str, Any],
    arrays: VrpArrays,
    clients: list[Any],
    screened: list[Any],
    base_plan: Any,
    area: Any,
) -> Any:
    """Turn peer routes into a Plan with the planner's timetable and KPI code."""
    from dataclasses import replace

    from routing.shuttle.kpi import compute_kpis
    from routing.shuttle.model import Unserved
    from routing.shuttle.solve import RouteResult
    from routing.shuttle.timetable import attach_paths, build_line

    settings = cap["settings"]
    matrix = cap["matrix"]
    stops = list(base_plan.stops)
    walk = {(rid, s): w for rid, opts in cap["options"].items() for s, w in opts}
    lines, assignments, served = [], [], set()
    for t, route in peer.routes:
        visits = tuple((clients[k - 1].location, tuple(clients[k - 1].rider_ids)) for k in route)
        line, asg = build_line(
            f"L{len(lines) + 1:03d}",
            RouteResult(arrays.vehicle_types[t].name, visits),
            stops,
            matrix,
            cap["workplace"],
            base_plan.workplace,
            deadline=cap["deadline"],
            settings=settings,
            fleet=base_plan.fleet,
            walk=walk,
        )
        lines.append(line)
        assignments.extend(asg)
        served.update(a.rider_id for a in asg)
    unserved = [
        u for u in base_plan.unserved if u.reason not in ("fleet_too_small", "no_feasible_line")
    ]
    for c in clients:
        for rid in c.rider_ids:
            if rid not in served:
                unserved.append(Unserved(rid, "fleet_too_small"))
    drive = area.arrays("drive")
    on_graph = [s for s in stops if s.node >= 0]  # stops off the drive graph are never served
    node_of_stop = dict(
        zip(
            [s.id for s in on_graph],
            drive.index_of([s.node for s in on_graph]).tolist(),
            strict=True,
        )
    )
    wsnap = area.snap(
        [base_plan.workplace[0]], [base_plan.workplace[1]], network="drive", max_distance=np.inf
    )
    lines = attach_paths(lines, node_of_stop, {base_plan.workplace: int(wsnap.index[0])}, drive)
    order = {r.id: i for i, r in enumerate(base_plan.riders)}
    assignments.sort(key=lambda a: order[a.rider_id])
    unserved.sort(key=lambda u: order[u.rider_id])
    del screened
    return replace(
        base_plan,
        lines=tuple(lines),
        assignments=tuple(assignments),
        unserved=tuple(unserved),
        kpis=compute_kpis(lines, assignments, unserved, base_plan.fleet),
        meta={"solver": peer.solver},
    )


def _run_peer(kind: str, arrays: VrpArrays, time_limit: float, queue: Any) -> None:
    t0 = time.perf_counter()
    start = _current_rss_mb()
    if kind == "ortools":
        peer = solve_ortools(arrays, time_limit=time_limit)
    else:
        peer = solve_naive(arrays)
    queue.put((peer, _rss_mb() - start, time.perf_counter() - t0))


def _in_child(kind: str, arrays: VrpArrays, time_limit: float) -> tuple[PeerRoutes, float]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run_peer, args=(kind, arrays, time_limit, queue))
    proc.start()
    try:
        peer, rss, _ = queue.get(timeout=3 * time_limit + 300)
    except Exception:  # the child died (its traceback is on stderr) or hung
        proc.kill()
        proc.join()
        raise RuntimeError(f"{kind} run failed (exit code {proc.exitcode})") from None
    proc.join()
    return peer, rss


def _row(
    name: str,
    plan: Any,
    violations: list[Any],
    first: float | None,
    total: float,
    rss: float,
    penalty: float,
) -> dict[str, Any]:
    k = plan.kpis
    return {
        "solver": name,
        "first_s": first,
        "total_s": total,
        "peak_rss_mb": rss,
        "lines": k["lines"],
        "buses": k["buses_by_type"],
        "served": k["riders_served"],
        "unserved": k["riders_unserved"],
        "vehicle_km": k["vehicle_km"],
        "vehicle_h": k["vehicle_hours"],
        "ride": k["ride_min"],
        "seat_util": k["seat_utilisation"],
        "cost": k["total_cost"],
        "fixed": round(sum(plan.fleet[ln.bus_type].fixed_cost for ln in plan.lines), 2),
        "objective": round(k["total_cost"] + penalty * k["riders_unserved"], 2),
        "violations": len(violations),
        "violation_kinds": sorted({v.kind for v in violations}),
    }


def main() -> None:
    """Build the instance, run the three planners, print the table and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--riders", type=int, default=7000)
    parser.add_argument("--districts", type=int, default=170)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not PBF.is_file():
        print(f"skip: {PBF} not found")
        return

    from routing.shuttle.check import check_plan
    from routing.shuttle.model import BusType, Fleet, Rider
    from routing.shuttle.plan import plan_shuttles
    from routing.shuttle.settings import ShuttleSettings

    t0 = time.perf_counter()
    inst = build_instance(PBF, n_districts=args.districts, n_riders=args.riders)
    area = inst.area
    t_inst = time.perf_counter() - t0
    riders = [
        Rider(
            str(r.id),
            float(r.lon),
            float(r.lat),
            max_ride_s=None if r.max_ride_min == 60 else int(r.max_ride_min * 60),
        )
        for r in inst.riders.itertuples()
    ]
    fleet = Fleet(
        tuple(
            BusType(
                str(f.type),
                int(f.seats),
                int(f.count),
                float(f.fixed_cost),
                float(f.cost_per_km),
                float(f.cost_per_hour),
            )
            for f in inst.fleet.itertuples()
        )
    )
    settings = ShuttleSettings(
        time_limit_s=args.time_limit, seed=args.seed, deadline="08:30", default_max_ride_min=60
    )
    print(
        f"Instance: {area.name} (drive {area.drive.number_of_nodes()} nodes, walk "
        f"{area.walk.number_of_nodes()} nodes), workplace {inst.workplace_name} at "
        f"{inst.workplace[0]:.5f},{inst.workplace[1]:.5f}; {len(inst.districts)} districts, "
        f"{len(riders)} riders ({sum(r.max_ride_s is not None for r in riders)} at 30 min); "
        f"fleet {[(t.name, t.seats, t.count) for t in fleet]}; built in {t_inst:.1f} s"
    )
    rss0 = _current_rss_mb()

    captured = _capture_solver_inputs()
    t0 = time.perf_counter()
    plan = plan_shuttles(area, riders, fleet, inst.workplace, settings=settings)
    t_plan = time.perf_counter() - t0
    rss_plan = _rss_mb() - rss0
    prep = float(plan.meta.get("prepare_s", 0.0))
    first = plan.meta.get("first_feasible_s")
    print(
        f"Planner: prepare {prep:.1f} s, search {plan.meta['waves'][0].get('runtime_s')} s "
        f"({plan.meta['waves'][0].get('iterations')} iterations), total {t_plan:.1f} s;"
        f" {plan.meta['waves'][0].get('clients')} clients, "
        f"{plan.meta['waves'][0].get('groups')} groups, "
        f"{plan.meta.get('usable_stops')} usable stops"
    )

    arrays, clients, screened = _arrays_from_inputs(captured)
    equal = _capture_equal_split(captured)
    arrays_eq, clients_eq, _ = _arrays_from_inputs(equal)
    peer_or, rss_or = _in_child("ortools", arrays, args.time_limit)
    plan_or = _plan_from_routes(peer_or, captured, arrays, clients, screened, plan, area)
    peer_eq, rss_eq = _in_child("ortools", arrays_eq, args.time_limit)
    plan_eq = _plan_from_routes(peer_eq, captured, arrays_eq, clients_eq, screened, plan, area)
    peer_nv, rss_nv = _in_child("naive", arrays, args.time_limit)
    plan_nv = _plan_from_routes(peer_nv, captured, arrays, clients, screened, plan, area)

    penalty = settings.unserved_penalty
    rows = [
        _row(
            "pyvrp (planner)",
            plan,
            check_plan(plan, area),
            (prep + first) if first is not None else None,
            t_plan,
            rss_plan,
            penalty,
        ),
        _row(
            "ortools",
            plan_or,
            check_plan(plan_or, area),
            prep + peer_or.seconds_to_first,
            prep + peer_or.seconds_total,
            rss_or,
            penalty,
        ),
        _row(
            "ortools (eq.)",
            plan_eq,
            check_plan(plan_eq, area),
            prep + peer_eq.seconds_to_first,
            prep + peer_eq.seconds_total,
            rss_eq,
            penalty,
        ),
        _row(
            "naive",
            plan_nv,
            check_plan(plan_nv, area),
            prep + peer_nv.seconds_to_first,
            prep + peer_nv.seconds_total,
            rss_nv,
            penalty,
        ),
    ]
    print(
        f"RSS after loading the area and instance: {rss0:.0f} MB; '+MB' is the peak memory "
        "each solver added on top (planner: incl. walk/drive matrices)"
    )
    head = (
        f"{'solver':<16} {'first s':>8} {'total s':>8} {'+MB':>7} {'lines':>6} "
        f"{'served':>7} {'unserv':>6} {'veh-km':>8} {'veh-h':>6} {'ride mean/p95/max':>18} "
        f"{'cost':>10} {'objective':>11} {'viol':>5}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ride = r["ride"]
        ride_s = f"{ride['mean']}/{ride['p95']}/{ride['max']}" if ride["mean"] else "-"
        first_s = f"{r['first_s']:.1f}" if r["first_s"] is not None else "-"
        print(
            f"{r['solver']:<16} {first_s:>8} {r['total_s']:>8.1f} {r['peak_rss_mb']:>7.0f} "
            f"{r['lines']:>6} {r['served']:>7} {r['unserved']:>6} {r['vehicle_km']:>8.1f} "
            f"{r['vehicle_h']:>6.1f} {ride_s:>18} {r['cost']:>10.0f} {r['objective']:>11.0f} "
            f"{r['violations']:>5}"
        )
    for r in rows:
        print(
            f"  {r['solver']}: buses {r['buses']}, seat utilisation {r['seat_util']}, "
            f"fixed cost {r['fixed']:.0f} + running cost {r['cost'] - r['fixed']:.0f}, "
            f"violations {r['violation_kinds'] or 'none'}"
        )
    base = rows[0]
    for r in rows[1:]:
        print(
            f"Ratio {r['solver']} / planner: cost {r['cost'] / base['cost']:.3f}, "
            f"running cost {(r['cost'] - r['fixed']) / (base['cost'] - base['fixed']):.3f}, "
            f"objective {r['objective'] / base['objective']:.3f}, "
            f"vehicle-km {r['vehicle_km'] / base['vehicle_km']:.3f}, lines "
            f"{r['lines'] / max(base['lines'], 1):.3f}"
        )
    print(
        f"Seed {args.seed}, time budget {args.time_limit:.0f} s each. 'ortools' has the "
        f"planner's {len(clients)} clients; 'ortools (eq.)' the equal split, "
        f"{len(clients_eq)} clients ({sum(1 for c in clients_eq if c.group is not None)} in "
        "stop-choice groups)"
    )
    for name, peer in (("ortools", peer_or), ("ortools (eq.)", peer_eq)):
        print(
            f"{name}: model built in {peer.seconds_build:.1f} s, search limit "
            f"{max(1.0, args.time_limit - peer.seconds_build):.1f} s, status {peer.status}"
        )


if __name__ == "__main__":
    main()
