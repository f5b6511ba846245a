"""Label set-up and updates of the station locator: the one-pass K-best search (numba).

Split out of ``bench_locator.py`` (which compares whole queries before/after and against
pandana). On the walk graph of ``../shared/osm/liechtenstein.osm.pbf``:

* set-up for 1,000 and 10,000 stations (``--setup-stations``): the one-pass K-best label
  search against the previous method kept here for comparison (a bounded scipy Dijkstra per
  station on the reversed graph, merged chunk by chunk) and pandana's precompute (CH build
  + ``set_pois``); the labels of both methods are compared;
* label updates with 10,000 stations (insert one; delete 1 to 1,000 by region repair and
  by rebuild, the measurement behind ``REPAIR_MAX_FRACTION``);
* numba's compile time in a fresh process with an empty cache versus the cached load;
* ``--stress``: a synthetic city-scale grid (``--stress-side`` squared nodes, streets
  40-120 m, 15% of the links missing, 1.25 m/s) with 9,000 stations: the one-pass build
  (wall and CPU time: the machine is shared), updates, and the previous method timed on 20
  stations and extrapolated linearly.

Seeds here are single nodes (the kernel's input); the locator seeds each station at both
ends of its edge. Prints figures and ratios; asserts nothing about timing.

    .venv/bin/python benchmarks/bench_labels.py [--setup-stations 1000,10000] [--stress]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import dijkstra

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.grids: the synthetic city grid

from tests.grids import street_grid  # noqa: E402

DEFAULT_SOURCE = ROOT.parent / "shared" / "osm" / "liechtenstein.osm.pbf"


# ------------------------------------------------------------- the previous label build
# Kept here (not in the package) to measure against: one bounded scipy Dijkstra per station
# on the reversed graph, each chunk's (chunk, n) distance matrix merged into the K best.


def old_labels(reverse, nodes, offsets, slots, *, k: int, horizon: float):
    """Labels (time, slot, next, radius) the way ``stations._labels`` built them before."""
    n = reverse.shape[0]
    T = np.full((n, k), np.inf, dtype=np.float32)
    S = np.full((n, k), -1, dtype=np.int32)
    N = np.full((n, k), -1, dtype=np.int32)
    R = np.full(n, horizon, dtype=np.float32)
    chunk = max(1, min(128, 20_000_000 // max(n, 1)))
    for start in range(0, len(nodes), chunk):
        idx = nodes[start : start + chunk]
        off = offsets[start : start + chunk]
        sl = slots[start : start + chunk]
        dist, pred = dijkstra(reverse, indices=idx, limit=horizon, return_predecessors=True)
        dist = np.atleast_2d(dist)
        pred = np.atleast_2d(pred)
        dist += off[:, None]
        dist[dist > horizon] = np.inf
        cand_t = dist.T
        keep = cand_t < T[:, k - 1, None]
        touched = np.flatnonzero(keep.any(axis=1))
        if touched.size == 0:
            continue
        cand_t = np.where(keep[touched], cand_t[touched], np.inf).astype(np.float32)
        cand_s = np.broadcast_to(sl, cand_t.shape)
        cand_n = np.maximum(pred.T[touched], -1).astype(np.int32)
        all_t = np.concatenate([T[touched], cand_t], axis=1)
        all_s = np.concatenate([S[touched], cand_s], axis=1)
        all_n = np.concatenate([N[touched], cand_n], axis=1)
        best = _old_k_smallest(all_t, k)
        new_t = np.take_along_axis(all_t, best, axis=1)
        new_s = np.take_along_axis(all_s, best, axis=1)
        new_n = np.take_along_axis(all_n, best, axis=1)
        empty = ~np.isfinite(new_t)
        new_s[empty] = -1
        new_n[empty] = -1
        T[touched], S[touched], N[touched] = new_t, new_s, new_n
        full = ~empty[:, k - 1]
        R[touched] = np.where(full, np.minimum(R[touched], new_t[:, k - 1]), R[touched])
    return T, S, N, R


def _old_k_smallest(values, k: int):
    m, width = values.shape
    if width <= 2 * k:
        return np.argsort(values, axis=1, kind="stable")[:, :k]
    kth = np.partition(values, k - 1, axis=1)[:, k - 1, None]
    pick = values < kth
    tie = values == kth
    need = k - pick.sum(axis=1)
    over = np.flatnonzero(tie.sum(axis=1) > need)
    if over.size:
        tie[over] &= np.cumsum(tie[over], axis=1) <= need[over, None]
    pick |= tie
    cols = np.nonzero(pick)[1].reshape(m, k)
    order = np.argsort(np.take_along_axis(values, cols, axis=1), axis=1, kind="stable")
    return np.take_along_axis(cols, order, axis=1)


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_compile() -> None:
    """numba compile in a fresh process with an empty cache, then the cached load."""
    code = (
        "import time, numpy as np; from scipy import sparse; "
        "from stations._labels import build_labels, remove_sources; t0 = time.perf_counter(); "
        "r = sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]])); "
        "lab = build_labels(r, np.array([0, 1]), np.zeros(2), np.array([0, 1], np.int32), "
        "k=2, horizon=9.0); remove_sources(lab, r, np.array([0], np.int32), nodes=np.array([1]), "
        "offsets=np.zeros(1), live=np.array([1], np.int32), max_fraction=1.0); "
        "print(time.perf_counter() - t0)"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code],
                    env=env,
                    cwd=ROOT,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(2)
        ]
    print(
        f"numba      first call in a fresh process: {runs[0]:.1f} s with an empty cache "
        f"(compile), {runs[1]:.1f} s from the on-disk cache (numba import + load)"
    )


def bench_setup(area, arrays, counts, *, k: int, horizon: float, seed: int) -> None:
    """Label set-up for each station count: previous scipy method vs one pass vs pandana."""
    from stations._labels import build_labels, search_graph

    reverse = arrays.time.T.tocsr()
    graph, t_graph = _timed(search_graph, reverse)
    print(
        f"\nset-up: K={k} labels per node, horizon {horizon / 60:.0f} min (CSR arrays for the "
        f"kernel, once per Area: {t_graph * 1e3:.1f} ms)"
    )
    pd_net = None
    try:
        import pandas as pd
        from _pandana import pandana_network

        pd_net, t_ch = _timed(pandana_network, arrays)
    except ImportError:
        pass
    for count in counts:
        rng = np.random.default_rng(seed + count)
        nodes = rng.integers(0, arrays.n, count)
        offsets = rng.uniform(0, 30, count)  # snap legs of up to ~40 m
        slots = np.arange(count, dtype=np.int32)
        (t_old_arr, _, _, r_old), t_old = _timed(
            old_labels, reverse, nodes, offsets, slots, k=k, horizon=horizon
        )
        new, t_new = _timed(build_labels, graph, nodes, offsets, slots, k=k, horizon=horizon)
        _, t_new2 = _timed(build_labels, graph, nodes, offsets, slots, k=k, horizon=horizon)
        t_new = min(t_new, t_new2)
        same = np.allclose(new.time, t_old_arr, rtol=1e-6) and np.allclose(
            new.radius, r_old, rtol=1e-6
        )
        line = (
            f"  {count:>6,} stations: previous (scipy per station) {t_old:7.2f} s | "
            f"one pass (numba) {t_new:6.3f} s = {t_old / t_new:,.0f}x faster | "
            f"labels identical: {same}"
        )
        if pd_net is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, t_pois = _timed(
                    pd_net.set_pois,
                    f"s{count}",
                    maxdist=horizon,
                    maxitems=k,
                    x_col=pd.Series(arrays.x[nodes]),
                    y_col=pd.Series(arrays.y[nodes]),
                    mapping_distance=1.0,
                )
            line += (
                f" | pandana CH build {t_ch:.2f} s + set_pois {t_pois:.3f} s "
                f"= {t_ch + t_pois:.2f} s ({(t_ch + t_pois) / t_new:,.0f}x ours)"
            )
        print(line)


def bench_updates(arrays, *, count: int, k: int, horizon: float, seed: int) -> None:
    """Insert one station; delete 1..1,000 by region repair vs rebuild."""
    from stations._labels import add_sources, build_labels, remove_sources, search_graph

    reverse = search_graph(arrays.time.T.tocsr())
    rng = np.random.default_rng(seed)
    nodes = rng.integers(0, arrays.n, count)
    offsets = rng.uniform(0, 30, count)
    slots = np.arange(count, dtype=np.int32)
    labels = build_labels(reverse, nodes, offsets, slots, k=k, horizon=horizon)
    _, t_build = _timed(build_labels, reverse, nodes, offsets, slots, k=k, horizon=horizon)
    extra = rng.integers(0, arrays.n, 1)
    _, t_add = _timed(add_sources, labels, reverse, extra, np.zeros(1), np.array([count], np.int32))
    remove_sources(  # warm-up: load the repair kernels before timing them
        labels, reverse, slots[:1], nodes=nodes[1:], offsets=offsets[1:], live=slots[1:]
    )
    print(
        f"  updates with {count:,} stations (full build {t_build:.3f} s): "
        f"insert 1 station {t_add * 1e3:.2f} ms"
    )
    for gone_n in (1, 10, 100, 1000):
        if gone_n >= count:
            break
        gone = rng.choice(count, gone_n, replace=False).astype(np.int32)
        keep = np.setdiff1d(slots, gone)
        region = float(np.isin(labels.slot, gone).any(axis=1).mean())
        kw = {"nodes": nodes[keep], "offsets": offsets[keep], "live": keep}
        _, t_rep = _timed(remove_sources, labels, reverse, gone, max_fraction=1.0, **kw)
        _, t_reb = _timed(remove_sources, labels, reverse, gone, max_fraction=0.0, **kw)
        print(
            f"    delete {gone_n:>5,}: rows affected {region:6.1%}  repair {t_rep * 1e3:8.2f} ms  "
            f"rebuild {t_reb * 1e3:8.2f} ms"
        )


def bench_stress(side: int, *, stations: int, k: int, horizon: float, seed: int) -> None:
    """The city-scale case: build, updates and the previous method extrapolated."""
    from stations._labels import add_sources, build_labels, remove_sources, search_graph

    graph = street_grid(side, seed=seed)
    n = graph.shape[0]
    reverse = graph.T.tocsr()
    prepared = search_graph(reverse)
    print(
        f"\nstress: synthetic grid {n:,} nodes, {graph.nnz:,} directed edges, "
        f"{stations:,} stations, K={k}, horizon {horizon / 60:.0f} min"
    )
    rng = np.random.default_rng(seed)
    nodes = rng.integers(0, n, stations)
    offsets = rng.uniform(0, 30, stations)
    slots = np.arange(stations, dtype=np.int32)
    rss0 = _peak_rss_mb()
    c0 = time.process_time()
    labels, t_new = _timed(build_labels, prepared, nodes, offsets, slots, k=k, horizon=horizon)
    cpu = time.process_time() - c0
    print(
        f"  one pass (numba)          {t_new:7.2f} s wall, {cpu:.2f} s CPU; labels "
        f"{labels.nbytes / 1e6:.0f} MB, peak RSS {_peak_rss_mb():,.0f} MB "
        f"(was {rss0:,.0f} MB before the build)"
    )
    sample = 20
    c0 = time.process_time()
    _, t_s = _timed(
        old_labels, reverse, nodes[:sample], offsets[:sample], slots[:sample], k=k, horizon=horizon
    )
    cpu_s = time.process_time() - c0
    _, t_dij = _timed(dijkstra, reverse, indices=nodes[:sample], limit=horizon)
    est = t_s / sample * stations
    print(
        f"  previous (scipy per station) {sample} stations {t_s:.2f} s (Dijkstra alone "
        f"{t_dij:.2f} s) -> ~{est / 60:,.0f} min for {stations:,} "
        f"= ~{est / t_new:,.0f}x the one pass (CPU: ~{cpu_s / sample * stations / 60:,.0f} min, "
        f"{cpu_s / sample * stations / cpu:,.0f}x)"
    )
    _, t_add = _timed(
        add_sources, labels, prepared, nodes[:1], np.zeros(1), np.array([stations], np.int32)
    )
    gone = rng.choice(stations, 10, replace=False).astype(np.int32)
    keep = np.setdiff1d(slots, gone)
    _, t_rep = _timed(
        remove_sources, labels, prepared, gone, nodes=nodes[keep], offsets=offsets[keep], live=keep
    )
    print(f"  insert 1 station {t_add:.3f} s, delete 10 stations (repair) {t_rep:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--setup-stations", default="1000,10000")
    parser.add_argument("--stress", action="store_true", help="add the synthetic city graph")
    parser.add_argument("--stress-side", type=int, default=1000)
    parser.add_argument("--stress-stations", type=int, default=9000)
    args = parser.parse_args()
    if not Path(args.source).is_file():
        print(f"skipped: {args.source} not found")
        return
    from routing import load_area

    area = load_area(args.source)
    arrays = area.arrays("walk")
    print(
        f"area {area.name}: walk graph {arrays.n:,} nodes, {arrays.time.nnz:,} directed edges; "
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"load average {os.getloadavg()[0]:.1f} (shared)"
    )
    bench_compile()
    counts = [int(c) for c in args.setup_stations.split(",") if c.strip()]
    bench_setup(area, arrays, counts, k=12, horizon=2700.0, seed=args.seed)
    bench_updates(arrays, count=max(counts), k=12, horizon=2700.0, seed=args.seed)
    if args.stress:
        bench_stress(
            args.stress_side, stations=args.stress_stations, k=12, horizon=2700.0, seed=args.seed
        )


if __name__ == "__main__":
    main()
