"""Coverage benchmark: warmheart's exact street coverage vs pandana, and a city-sized grid.

Side by side in one run, on the same graph and the same stations:

* **warmheart** — ``CoverageModel``: stations located on streets, one compiled multi-source
  Dijkstra bounded by the largest budget, every street piece cut where each of the three
  budgets (5/10/15 min) ends. Also the search alone, and one station added / removed.
* **pandana** — what a user of pandana would do: ``Network`` (contraction hierarchies),
  ``set_pois`` + ``nearest_pois`` (time to the nearest station per node), or
  ``nodes_in_range`` from the stations' nodes; covered street = edges with both ends within
  the budget (pandana knows nodes, not pieces of edges).

Stations sit exactly on walk nodes here, so both compute the same node times (checked).
Real graph: ``../shared/osm/liechtenstein.osm.pbf`` (else the Helsinki sample). Then the
synthetic 10⁶-node street grid with 9,000 stations (``--side``, ``--grid-stations``;
``--grid-pandana`` adds pandana there too: its CH build takes minutes).

Usage::

    .venv/bin/python benchmarks/bench_coverage.py [--stations 1000] [--side 1000] [--grid-pandana]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _planning_common import fmt, grid_area, load, measure, random_stations

MINUTES = (5, 10, 15)
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "osm"


def _pandana(area, stations, *, budget_s: float) -> dict[str, object]:
    import pandana
    import pandas as pd

    arrays = area.arrays("walk")
    coo = arrays.time.tocoo()
    nodes = pd.DataFrame({"x": arrays.x, "y": arrays.y})
    edges = pd.DataFrame({"from": coo.row, "to": coo.col, "t": coo.data})
    net, build = measure(
        pandana.Network, nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["t"]],
        twoway=False,
    )  # fmt: skip
    sx, sy = area.project([s.lon for s in stations], [s.lat for s in stations])

    def nearest() -> np.ndarray:
        net.set_pois("st", budget_s, 1, pd.Series(sx), pd.Series(sy), mapping_distance=50)
        got = net.nearest_pois(budget_s, "st", num_pois=1)
        return got[1].to_numpy()

    times, near = measure(nearest)
    snapped = net.get_node_ids(pd.Series(sx), pd.Series(sy))

    def in_range() -> np.ndarray:
        found = net.nodes_in_range(list(snapped.to_numpy()), budget_s)
        return found["destination"].to_numpy()

    reached, rng = measure(in_range)
    return {"build": build, "nearest": near, "in_range": rng, "times": times, "reached": reached}


def _street_both_ends(area, node_times: np.ndarray, budget_s: float) -> float:
    """Covered metres the node way: streets whose two ends are within the budget."""
    from stations._walkmodel import walk_model

    m = walk_model(area)
    ok = (node_times[m.u] <= budget_s) & (node_times[m.v] <= budget_s)
    return float(m.length[ok].sum())


def bench_real(area, count: int, *, seed: int) -> None:
    from stations.coverage import CoverageModel

    arrays = area.arrays("walk")
    stations = random_stations(area, count, seed=seed, jitter=0.0)
    CoverageModel(area, stations[:5], minutes=MINUTES)  # compile / load the kernels
    model, ours = measure(CoverageModel, area, stations, minutes=MINUTES)
    streets = model.result().layers["streets"]
    search = measure(model.recompute)[1]
    extra = random_stations(area, 1, seed=seed + 99, jitter=0.0, prefix="new")[0]
    add = measure(model.add, extra)[1]
    remove = measure(model.remove, extra.id)[1]
    print(
        f"\nreal graph {area.name}: {arrays.n:,} walk nodes, {arrays.edges.m:,} directed edges,"
        f" {count:,} stations on nodes; budgets {MINUTES} min; load {load()}"
    )
    print(f"  warmheart CoverageModel (locate + search + pieces, 3 budgets): {fmt(ours)}")
    print(f"  warmheart search + pieces again (recompute): {fmt(search)}")
    print(f"  warmheart add one station: {fmt(add)}; remove it: {fmt(remove)}")
    shares = ", ".join(f"{s:.4f}" for s in streets.share)
    print(f"  street share covered (pieces cut exactly): {shares}")
    try:
        peer = _pandana(area, stations, budget_s=max(MINUTES) * 60.0)
    except ImportError:
        print("  pandana not installed (pip install pandana): peer skipped")
        return
    times = np.where(peer["times"] >= max(MINUTES) * 60.0 - 1e-6, np.inf, peer["times"])
    ours_nodes = np.where(model.dist <= max(MINUTES) * 60.0, model.dist, np.inf)
    both = np.isfinite(times) & np.isfinite(ours_nodes)
    diff = float(np.abs(times[both] - ours_nodes[both]).max()) if both.any() else 0.0
    agree = int((np.isfinite(times) == np.isfinite(ours_nodes)).sum())
    print(f"  pandana Network (CH build): {fmt(peer['build'])}")
    print(f"  pandana set_pois + nearest_pois: {fmt(peer['nearest'])}")
    print(f"  pandana nodes_in_range from the stations: {fmt(peer['in_range'])}")
    print(
        f"  node times agree: max |diff| {diff:.4f} s on {int(both.sum()):,} nodes; "
        f"reached/not reached the same on {agree:,} of {arrays.n:,}"
    )
    node_way = [_street_both_ends(area, times, m * 60.0) / streets.total for m in MINUTES]
    print("  street share, whole edges with both ends in budget (pandana's view): "
          + ", ".join(f"{s:.4f}" for s in node_way))  # fmt: skip
    setup = peer["build"]["wall"] + peer["nearest"]["wall"]
    print(
        f"  ratio (pandana build + nearest_pois) / warmheart CoverageModel: "
        f"{setup / ours['wall']:.1f}x wall; nearest_pois alone / warmheart recompute: "
        f"{peer['nearest']['wall'] / search['wall']:.2f}x"
    )


def bench_grid(side: int, count: int, *, seed: int, with_pandana: bool) -> None:
    from stations.coverage import CoverageModel

    area, build = measure(grid_area, side, seed=seed)
    arrays = area.arrays("walk")
    stations = random_stations(area, count, seed=seed)
    print(
        f"\nsynthetic grid: {arrays.n:,} nodes, {arrays.edges.m:,} directed edges (built in "
        f"{build['wall']:.1f} s), {count:,} stations; budgets {MINUTES} min; load {load()}"
    )
    model, full = measure(CoverageModel, area, stations, minutes=MINUTES)
    again = measure(model.recompute)[1]
    shares = ", ".join(f"{s:.4f}" for s in model.result().layers["streets"].share)
    print(f"  warmheart CoverageModel, first (street index, locate, search, pieces): {fmt(full)}")
    print(f"  warmheart coverage for 3 budgets (search + pieces, model built): {fmt(again)}")
    print(f"  street share covered: {shares}")
    extra = random_stations(area, 3, seed=seed + 7, prefix="new")
    adds = [measure(model.add, s)[1]["wall"] for s in extra]
    removes = [measure(model.remove, s.id)[1]["wall"] for s in extra]
    print(
        f"  add one station: {np.median(adds) * 1000:.0f} ms median; remove one: "
        f"{np.median(removes) * 1000:.0f} ms median (full recompute {again['wall'] * 1000:.0f} ms)"
    )
    if with_pandana:
        peer = _pandana(area, stations, budget_s=max(MINUTES) * 60.0)
        print(f"  pandana Network (CH build): {fmt(peer['build'])}")
        print(f"  pandana set_pois + nearest_pois: {fmt(peer['nearest'])}")


def main() -> None:
    warnings.simplefilter("ignore")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--side", type=int, default=1000)
    parser.add_argument("--grid-stations", type=int, default=9000)
    parser.add_argument("--grid-pandana", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-real", action="store_true")
    args = parser.parse_args()
    from routing import load_area

    if not args.skip_real:
        source = SHARED / "liechtenstein.osm.pbf"
        area = load_area(str(source)) if source.is_file() else load_area("helsinki")
        bench_real(area, args.stations, seed=args.seed)
    bench_grid(args.side, args.grid_stations, seed=args.seed, with_pandana=args.grid_pandana)


if __name__ == "__main__":
    main()
