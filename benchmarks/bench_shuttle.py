"""Shuttle planner: a day of shifts with buses running several trips, vs OR-Tools; solver quality.

Part 1 (``--part day``): the regional instance from ``../shared/osm/liechtenstein.osm.pbf``
(``benchmarks/_shuttle_instance.py``): one industrial workplace, 170 residential districts,
7,000 riders on residential buildings working one of three shifts (07:30 / 08:00 / 08:30)
and riding home 9 hours later, ride limit 60 min (5 % 30 min), 140 x 30-seat and 120 x 50-seat
buses. Three runs at the same time budget, each in a forked process (own peak memory):

* **planner**: ``plan_shuttles`` as shipped: six waves in time order, buses of earlier waves
  offered to later ones, trips re-chained as a minimum path cover at the end;
* **planner, waves apart**: the same, but every wave solved on its own with the whole fleet
  and the trips chained only afterwards (what the reuse-aware waves buy);
* **OR-Tools**: the planner's pipeline with OR-Tools routing as the solver of every wave on
  the same ``VrpProblem`` (same clients, windows, fleet, reused buses) and the same chaining.

All plans are scored by the same KPI code and the independent checker.

Part 2 (``--part solver``): the planner's solver layer against PyVRP called directly, at equal
time, on the public instances of ``../shared/bench/vrp`` (``benchmarks/_vrp_quality.py``),
with the gap to the best-known solutions.

Prints Markdown (progress on stderr); asserts nothing::

    .venv/bin/python benchmarks/bench_shuttle.py [--time-limit 120] [--part day|solver|all]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shuttle_instance import SHIFTS, build_instance
from _vrp_quality import run_quality

ROOT = Path(__file__).resolve().parent.parent
PBF = ROOT.parent / "shared" / "osm" / "liechtenstein.osm.pbf"
VRP = ROOT.parent / "shared" / "bench" / "vrp"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return float(line.split()[1]) / 1024.0
    return float("nan")


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def _bus_lower_bound(plan: Any) -> int:
    """Most trips running at once (a bus runs one at a time): a floor under the bus count."""
    events = []
    for ln in plan.lines:
        events += [(ln.start_s, 1), (ln.end_s + plan.settings.turnaround_s, -1)]
    level = best = 0
    for _, step in sorted(events):
        level += step
        best = max(best, level)
    return best


def _figures(plan: Any, area: Any, seconds: float, cpu: float, grew: float) -> dict[str, Any]:
    from routing.shuttle.check import check_plan

    k = plan.kpis
    violations = check_plan(plan, area)
    waves = plan.meta.get("waves", [])
    first_wave = waves[0].get("first_feasible_s") if waves else None
    prep = float(plan.meta.get("prepare_s", 0.0))
    firsts = plan.meta.get("first_feasible_s")
    dirs = k["by_direction"]
    return {
        "buses": k["buses"],
        "buses_by_type": k["buses_by_type"],
        "trips": k["trips"],
        "trips_home": dirs.get("from_work", {}).get("trips", 0),
        "floor": _bus_lower_bound(plan),
        "served": k["riders_served"],
        "rides": k["riders"],
        "walkers": k["walkers"],
        "unserved": {r: n for r, n in k["unserved_by_reason"].items() if r != "walks_to_work"},
        "cost": k["total_cost"],
        "fixed": k["fixed_cost"],
        "running": k["running_cost"],
        "vehicle_km": k["vehicle_km"],
        "deadhead_km": k["deadhead_km"],
        "vehicle_h": k["vehicle_hours"],
        "ride": k["ride_min"],
        "prep_s": prep,
        "first_wave_s": prep + first_wave if first_wave is not None else None,
        "first_day_s": prep + firsts if firsts is not None else None,
        "total_s": seconds,
        "cpu_s": cpu,
        "grew_mb": grew,
        "violations": len(violations),
        "violation_kinds": sorted({v.kind for v in violations}),
    }


def _run(kind: str, inst: Any, riders: list[Any], fleet: Any, settings: Any, queue: Any) -> None:
    """One configuration in a forked child: plan, check, report figures."""
    import routing.shuttle.plan as plan_mod
    import routing.shuttle.solve as solve_mod
    from routing.shuttle._waves import plan_day

    if kind == "waves apart":
        plan_mod.plan_day = lambda *a, **kw: plan_day(*a, reuse=False, **kw)  # type: ignore[assignment]
    elif kind == "ortools":
        from _shuttle_peers import solve_vrp_ortools

        solve_mod.solve_vrp = solve_vrp_ortools  # type: ignore[assignment]
    rss0 = _rss_mb()
    t0, c0 = time.perf_counter(), _cpu()
    plan = plan_mod.plan_shuttles(inst.area, riders, fleet, inst.workplace, settings=settings)
    seconds, cpu = time.perf_counter() - t0, _cpu() - c0
    queue.put(_figures(plan, inst.area, seconds, cpu, _peak_mb() - rss0))


def _in_child(kind: str, *args: Any, budget: float) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_run, args=(kind, *args, queue))
    proc.start()
    try:
        out = queue.get(timeout=4 * budget + 900)
    except Exception:
        proc.kill()
        proc.join()
        raise RuntimeError(f"{kind} run failed (exit code {proc.exitcode})") from None
    proc.join()
    return out


def _fmt(v: Any, digits: int = 1) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    return f"{v:,}" if isinstance(v, int) else str(v)


def day_part(args: argparse.Namespace) -> None:
    """Part 1: the Liechtenstein day, three configurations."""
    from routing.shuttle.model import BusType, Fleet, Rider
    from routing.shuttle.settings import ShuttleSettings, parse_clock

    if not PBF.is_file():
        print(f"skip: {PBF} not found")
        return
    t0 = time.perf_counter()
    inst = build_instance(PBF, n_districts=args.districts, n_riders=args.riders)
    riders = [
        Rider(
            str(r.id),
            float(r.lon),
            float(r.lat),
            max_ride_s=None if r.max_ride_min == 60 else int(r.max_ride_min * 60),
            deadline=parse_clock(r.deadline),
            evening_departure=None if args.morning_only else parse_clock(r.evening_departure),
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
    settings = ShuttleSettings(time_limit_s=args.time_limit, seed=args.seed)
    area = inst.area
    _say(
        f"instance built in {time.perf_counter() - t0:.0f} s: {len(riders)} riders, "
        f"{len(inst.districts)} districts, drive {area.drive.number_of_nodes()} nodes"
    )
    rows = {}
    for kind in ("planner", "waves apart", "ortools"):
        _say(f"running {kind} ({args.time_limit:.0f} s budget)...")
        rows[kind] = _in_child(kind, inst, riders, fleet, settings, budget=args.time_limit)
        r = rows[kind]
        _say(f"  {kind}: {r['buses']} buses, {r['trips']} trips, cost {r['cost']:,.0f}")
    base = rows["planner"]
    print(
        f"\n**Day of three shifts, to work and home** — {len(riders):,} riders "
        f"({sum(r.max_ride_s is not None for r in riders)} with a 30-min limit), shifts "
        f"{'/'.join(SHIFTS)}{' (to work only)' if args.morning_only else ', home 9 h later'}; "
        f"fleet {', '.join(f'{t.count} x {t.seats} seats' for t in fleet)}; "
        f"{args.time_limit:.0f} s solver budget per run (split over the waves), seed "
        f"{args.seed}; load average {os.getloadavg()[0]:.1f} at the start.\n"
    )
    print(
        "| run | buses (30/50) | trips (home) | floor | rides served | cost (fixed + running) "
        "| vehicle-km (empty) | ride mean/p95/max min | first wave / first day / final s "
        "| CPU s | +MB | violations |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for kind, r in rows.items():
        bt = r["buses_by_type"]
        ride = r["ride"]
        print(
            f"| {kind} | {r['buses']} ({bt.get('bus30', 0)}/{bt.get('bus50', 0)}) "
            f"| {r['trips']} ({r['trips_home']}) | {r['floor']} "
            f"| {r['served']:,} of {r['rides'] - r['walkers']:,} "
            f"| {_fmt(r['cost'], 0)} ({_fmt(r['fixed'], 0)} + {_fmt(r['running'], 0)}) "
            f"| {_fmt(r['vehicle_km'], 0)} ({_fmt(r['deadhead_km'], 0)}) "
            f"| {ride['mean']} / {ride['p95']} / {ride['max']} "
            f"| {_fmt(r['first_wave_s'])} / {_fmt(r['first_day_s'])} / {_fmt(r['total_s'])} "
            f"| {_fmt(r['cpu_s'], 0)} | {_fmt(r['grew_mb'], 0)} | {r['violations']} |"
        )
    print()
    for kind, r in rows.items():
        print(
            f"- {kind}: unserved rides by reason {r['unserved'] or 'none'}; {r['walkers']} "
            f"rides walked (riders living within the maximum walk of work); prepare "
            f"{r['prep_s']:.1f} s; checker: {r['violation_kinds'] or 'no violations'}"
        )
    print()
    for kind in ("waves apart", "ortools"):
        r = rows[kind]
        print(
            f"- Ratio {kind} / planner: buses {r['buses'] / base['buses']:.3f}, cost "
            f"{r['cost'] / base['cost']:.3f}, vehicle-km "
            f"{r['vehicle_km'] / base['vehicle_km']:.3f}, rides served "
            f"{r['served'] / max(base['served'], 1):.3f}"
        )
    print(
        "\n'floor': most trips running at once (plus the turnaround), a lower bound on buses "
        "for those trips. 'first day': preparation plus each wave's time to its first feasible "
        "solution (a complete plan if every wave stopped there); 'final': the whole run. "
        "'+MB': peak memory the run added to the process holding the Area and instance."
    )


def solver_part(args: argparse.Namespace) -> None:
    """Part 2: the planner's solver layer vs PyVRP direct on public instances."""
    if not VRP.is_dir():
        print(f"skip: {VRP} not found")
        return
    _say("solver quality on ../shared/bench/vrp ...")
    rows = run_quality(
        VRP, seconds=args.solver_seconds, big_seconds=args.solver_big_seconds, seed=args.seed
    )
    print(
        f"\n**Solver layer vs PyVRP direct** — equal CPU time per run ({args.solver_seconds:.0f} "
        f"s, {args.solver_big_seconds:.0f} s for 1,000 clients), seed {args.seed}, one run at a "
        f"time; load average {os.getloadavg()[0]:.1f}. Costs in the instances' units (DIMACS "
        "rounding), BKS evaluated by PyVRP on the same data.\n"
    )
    print("| instance | clients | BKS | PyVRP direct (gap) | planner path (gap) | path / direct |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        gd = f"{100 * r.gap_direct:.2f} %" if r.gap_direct is not None else "infeasible"
        gp = f"{100 * r.gap_planner:.2f} %" if r.gap_planner is not None else "infeasible"
        ratio = f"{r.ratio:.4f}" if r.ratio is not None else "-"
        print(
            f"| {r.kind}/{r.name} | {r.clients} | {r.bks:,.0f} | {_fmt(r.direct, 0)} ({gd}) "
            f"| {_fmt(r.planner, 0)} ({gp}) | {ratio} |"
        )
    ratios = [r.ratio for r in rows if r.ratio is not None]
    if ratios:
        print(
            f"\nPath / direct: mean {np.mean(ratios):.4f}, worst {max(ratios):.4f} "
            f"({sum(1 for x in ratios if x <= 1.005)} of {len(ratios)} within 0.5 %)."
        )


def main() -> None:
    """Parse the options, run the parts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=120.0)
    parser.add_argument("--riders", type=int, default=7000)
    parser.add_argument("--districts", type=int, default=170)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--part", choices=("day", "solver", "all"), default="all")
    parser.add_argument("--morning-only", action="store_true", help="Shifts to work only.")
    parser.add_argument("--solver-seconds", type=float, default=10.0)
    parser.add_argument("--solver-big-seconds", type=float, default=30.0)
    args = parser.parse_args()
    print("<!-- markdown -->")
    if args.part in ("day", "all"):
        day_part(args)
    if args.part in ("solver", "all"):
        solver_part(args)


if __name__ == "__main__":
    main()
