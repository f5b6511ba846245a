"""Siting benchmark: warmheart (greedy + swaps, certified bound) vs spopt, and 10⁴ x 10⁵.

1. Side by side on the same generated instances of increasing size (clustered demand in a
   40 x 40 km city, candidates mostly near demand, walking minutes = 1.3 x straight line at
   4.5 km/h): maximal covering (radius 10 min) and p-median, **spopt** (``from_cost_matrix``,
   HiGHS through pulp, decisions read as ``> 0.5``) against **warmheart** ``solve_siting``
   (sparse pairs). Time, objective, warmheart's certified gap, peak memory added; sizes grow
   until spopt cannot build or solve within ``--spopt-limit`` seconds.
2. The large instance: 10,000 candidates x 100,000 demand points, MCLP and p-median with
   ``p`` = 400 and a 10-minute radius: goal a solution within 0.5 % certified gap in 60 s.

Usage::

    .venv/bin/python benchmarks/bench_siting.py [--spopt-limit 120] [--large-only]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _planning_common import fmt, load, measure

RADIUS = 10.0  # minutes
MIN_PER_KM = 60.0 / 4.5 * 1.3
#: spopt's p-median builds one pulp variable per demand x candidate: beyond this, not tried.
SPOPT_PMEDIAN_CELLS = 3_000_000


def city(n: int, k: int, *, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Demand points (km), candidate points (km) and demand weights of a clustered city."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(2, 38, (60, 2))
    sizes = rng.dirichlet(np.ones(60)) * 0.8 * n
    parts = [rng.normal(c, 1.5, (int(s), 2)) for c, s in zip(centres, sizes, strict=True)]
    rest = n - sum(len(p) for p in parts)
    demand = np.clip(np.vstack([*parts, rng.uniform(0, 40, (rest, 2))]), 0, 40)
    near = demand[rng.choice(n, int(0.7 * k))] + rng.normal(0, 0.2, (int(0.7 * k), 2))
    cands = np.clip(np.vstack([near, rng.uniform(0, 40, (k - len(near), 2))]), 0, 40)
    weight = rng.integers(1, 20, n).astype(float)
    return demand, cands, weight


def sparse_problem(demand, cands, weight, *, radius: float | None):
    """The warmheart problem: pairs within ``radius`` minutes (all pairs when ``None``)."""
    from scipy.spatial import cKDTree

    from stations.siting import SitingProblem

    if radius is None:
        cost = np.hypot(*(demand[:, None, :] - cands[None, :, :]).transpose(2, 0, 1))
        d, c = np.indices(cost.shape)
        d, c, t = d.ravel(), c.ravel(), cost.ravel() * MIN_PER_KM
    else:
        pairs = cKDTree(demand).sparse_distance_matrix(
            cKDTree(cands), radius / MIN_PER_KM, output_type="coo_matrix"
        )
        d, c, t = pairs.row, pairs.col, pairs.data * MIN_PER_KM
    return SitingProblem.from_pairs(
        d,
        c,
        t,
        demand_ids=[f"d{i}" for i in range(len(demand))],
        candidate_ids=[f"c{j}" for j in range(len(cands))],
        weight=weight,
    )


def spopt_run(kind: str, demand, cands, weight, p: int, limit: float):
    """spopt's answer: (objective value, stats) or (None, reason)."""
    import pulp
    from spopt.locate import MCLP, PMedian

    def run():
        cost = np.hypot(*(demand[:, None, :] - cands[None, :, :]).transpose(2, 0, 1))
        cost *= MIN_PER_KM
        solver = pulp.HiGHS(msg=False, timeLimit=limit)
        if kind == "mclp":
            model = MCLP.from_cost_matrix(cost, weight, service_radius=RADIUS, p_facilities=p)
        else:
            model = PMedian.from_cost_matrix(cost, weight, p_facilities=p)
        model.solve(solver)
        opened = [j for j, var in enumerate(model.fac_vars) if var.value() > 0.5]
        sub = cost[:, opened]
        if kind == "mclp":
            return float(weight[(sub <= RADIUS).any(axis=1)].sum())
        return float(weight @ sub.min(axis=1))

    try:
        return measure(run)
    except MemoryError:
        return None, "out of memory"


def side_by_side(limit: float, *, seed: int, objectives: tuple[str, ...], largest: int) -> None:
    from stations.siting import solve_siting

    sizes = [(500, 50, 5), (2000, 200, 20), (5000, 500, 50), (10000, 1000, 100), (20000, 2000, 200)]
    sizes = [size for size in sizes if size[0] <= largest]
    print(f"\nwarmheart vs spopt (HiGHS via pulp), radius {RADIUS:g} min; load {load()}")
    print("| objective | demand x candidates, p | spopt time / value / +MB | warmheart time / "
          "value / gap / +MB | time ratio |")  # fmt: skip
    print("|---|---|---|---|---|")
    for kind in objectives:
        spopt_ok = True
        for n, k, p in sizes:
            demand, cands, weight = city(n, k, seed=seed)
            radius = RADIUS if kind == "mclp" else None
            if kind == "pmedian" and n * k > 4_000_000:
                problem = sparse_problem(demand, cands, weight, radius=30.0)
                radius = 30.0
            else:
                problem = sparse_problem(demand, cands, weight, radius=radius)
            ours, stats = measure(
                solve_siting, problem, objective=kind, p=p, radius=radius, time_limit=60.0
            )
            theirs = "—"
            ratio = "—"
            if spopt_ok and kind == "pmedian" and n * k > SPOPT_PMEDIAN_CELLS:
                spopt_ok = False
                theirs = f"not built: {n * k:,} assignment variables in pulp"
            if spopt_ok:
                value, spopt_stats = spopt_run(kind, demand, cands, weight, p, limit)
                if value is None or spopt_stats["wall"] > limit:
                    spopt_ok = False
                    theirs = f"stopped ({spopt_stats if value is None else 'over the limit'})"
                else:
                    wall, peak = spopt_stats["wall"], spopt_stats["peak_mb"]
                    theirs = f"{wall:.1f} s / {value:,.1f} / +{peak:.0f}"
                    ratio = f"{spopt_stats['wall'] / stats['wall']:.1f}x"
            ours_text = (
                f"{stats['wall']:.1f} s / {ours.value:,.1f} / {ours.gap:.3%} / "
                f"+{stats['peak_mb']:.0f}"
            )
            size = f"{n:,} x {k:,}, p={p}"
            print(f"| {kind} | {size} | {theirs} | {ours_text} | {ratio} |", flush=True)


def large(*, seed: int, p: int) -> None:
    from stations.siting import solve_siting

    demand, cands, weight = city(100_000, 10_000, seed=seed)
    problem, build = measure(sparse_problem, demand, cands, weight, radius=RADIUS)
    print(
        f"\nlarge: 100,000 demand x 10,000 candidates, {problem.cost.size:,} pairs within "
        f"{RADIUS:g} min (built in {build['wall']:.1f} s, +{build['peak_mb']:.0f} MB); "
        f"p = {p}; load {load()}"
    )
    for kind in ("mclp", "pmedian"):
        result, stats = measure(
            solve_siting, problem, objective=kind, p=p, radius=RADIUS, time_limit=60.0
        )
        print(
            f"  {kind}: {fmt(stats)}; value {result.value:,.1f}, bounds [{result.lower:,.1f}, "
            f"{result.upper:,.1f}], certified gap {result.gap:.3%}; {result.method}"
        )


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spopt-limit", type=float, default=120.0)
    parser.add_argument("--p", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--large-only", action="store_true")
    parser.add_argument("--objectives", default="mclp,pmedian", help="side-by-side objectives")
    parser.add_argument("--largest", type=int, default=20000, help="largest demand count")
    args = parser.parse_args()
    from stations.siting import solve_siting

    warm = sparse_problem(*city(300, 30, seed=1), radius=RADIUS)  # compile the kernels
    solve_siting(warm, objective="mclp", p=3, radius=RADIUS, exact=False)
    if not args.large_only:
        objectives = tuple(args.objectives.split(","))
        side_by_side(args.spopt_limit, seed=args.seed, objectives=objectives, largest=args.largest)
    large(seed=args.seed, p=args.p)


if __name__ == "__main__":
    main()
