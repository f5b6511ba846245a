"""Station locator: exact on the street (now) vs snapped to nodes (before) vs pandana, one run.

On the walk graph of ``../shared/osm/liechtenstein.osm.pbf`` with 1,000 stations and
100,000 origins at random spots up to ~50 m from random walk nodes (seeded), side by side:

* **before**: the locator of commit ``--before`` (main before issue 8: points snapped to the
  nearest node) and **now**: this tree (points located on edges). Each runs the same
  measuring script in a fresh process on its own source tree (``git archive``), on the same
  inputs: precompute (labels for all kinds), single queries p50/p99 (no geometry; with
  paths), batch throughput over all origins (unbounded, and within pandana's 45-minute
  horizon), isochrone p50 (15 minutes, ``stations.isochrone``). Wall and CPU time.
* **pandana** (``pip install -e '.[bench]'``): contraction-hierarchy network from the same
  nodes and edges (travel_time), ``set_pois`` with the station points, ``nearest_pois`` for
  every node, origins mapped with ``get_node_ids``. It snaps stations and origins to nodes.
  Unreachable entries (pandana fills them with ``maxdist``; 4294967.295 when unset) count as
  none.
* **exactness**: on 300 origins, the independent raw-OSM reference (``tests/reference.py``:
  every vertex a node, points inserted on their segment, scipy Dijkstra) against now,
  before and pandana; over all origins, how often before's and pandana's nearest station
  differs from the exact one, and by how much their walking times are off.

Prints figures, ratios and the load average (the machine is shared); asserts nothing.

    .venv/bin/python benchmarks/bench_locator.py [--stations 1000] [--origins 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = ROOT.parent / "shared" / "osm" / "liechtenstein.osm.pbf"
#: main just before issue 8 ("exact on the street"): the node-snapped locator.
BEFORE = "9484884"

# The measuring script, run once per source tree. Only API both trees share.
MEASURE = r"""
import json, sys, time, warnings
import numpy as np
from routing import load_area
from stations.locate import Locator
from stations.model import Station

args = json.loads(sys.argv[1])
data = np.load(args["inputs"])
area = load_area(args["source"])
stations = [
    Station(id=f"s{i}", kind="warm_station", name=f"Station {i}", lon=float(lo), lat=float(la))
    for i, (lo, la) in enumerate(zip(data["slon"], data["slat"]))
]
olon, olat, k = data["olon"], data["olat"], int(args["k"])
out = {}

def clock(fn, *a, **kw):
    w, c = time.perf_counter(), time.process_time()
    r = fn(*a, **kw)
    return r, time.perf_counter() - w, time.process_time() - c

def build():
    loc = Locator(area, stations)
    loc.labels(None)
    return loc

area.arrays("walk")
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    build()  # warm-up: numba compiles (or loads its cache) on the first build
    locator, out["precompute_s"], out["precompute_cpu_s"] = clock(build)
for i in range(50):
    locator.nearest(olon[i], olat[i], k=k, with_paths=False)
for name, count, paths in (("single", args["singles"], False), ("paths", 300, True)):
    lat_ = []
    for i in range(count):
        t0 = time.perf_counter()
        locator.nearest(olon[i], olat[i], k=k, with_paths=paths)
        lat_.append(time.perf_counter() - t0)
    out[name + "_p50_ms"] = float(np.percentile(lat_, 50) * 1e3)
    out[name + "_p99_ms"] = float(np.percentile(lat_, 99) * 1e3)
for name, kw in (("batch", {}), ("batch45", {"max_minutes": 45})):
    best = (np.inf, np.inf)
    for _ in range(3):
        batch, w, c = clock(locator.nearest_batch, olon, olat, k=k, **kw)
        best = (min(best[0], w), min(best[1], c))
    out[name + "_s"], out[name + "_cpu_s"] = best
    if name == "batch":
        ids = np.array([[-1 if v is None else int(str(v)[1:]) for v in row]
                        for row in batch.station_id])
        np.savez(args["answers"], ids=ids, time=batch.time_s, dist=batch.distance_m)
try:
    from stations.isochrone import isochrones
    iso = []
    for i in range(12):
        t0 = time.perf_counter()
        isochrones(area, float(olon[i]), float(olat[i]), minutes=[15])
        iso.append(time.perf_counter() - t0)
    out["isochrone_p50_ms"] = float(np.percentile(iso[2:], 50) * 1e3)
except Exception as exc:  # a tree without isochrones, or an origin off the map
    out["isochrone_error"] = repr(exc)[:200]
import routing
out["package"] = routing.__file__
print("RESULT " + json.dumps(out))
"""


def _tree(rev: str, into: Path) -> Path | None:
    """Extract commit ``rev`` of this repository into ``into`` (``None`` if git cannot)."""
    archive = into / "tree.tar"
    try:
        with archive.open("wb") as fh:
            subprocess.run(["git", "archive", rev], cwd=ROOT, stdout=fh, check=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"before: cannot extract {rev} ({exc}); skipped")
        return None
    tree = into / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def _measure(tree: Path, label: str, params: dict, home: Path) -> dict | None:
    env = {**os.environ, "PYTHONPATH": str(tree), "WARMHEART_HOME": str(home / label)}
    params = {**params, "answers": str(home / f"{label}.npz")}
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, json.dumps(params)],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    line = next((x for x in run.stdout.splitlines() if x.startswith("RESULT ")), None)
    if run.returncode or line is None:
        print(f"{label}: failed\n{run.stderr[-2000:]}")
        return None
    result = json.loads(line[7:])
    if not result["package"].startswith(str(tree)):
        print(f"{label}: measured {result['package']}, not {tree}")
    answers = np.load(params["answers"])
    result.update(ids=answers["ids"], time=answers["time"])
    return result


def _pandana(area, sx, sy, ox, oy, *, k: int, horizon: float) -> dict | None:
    try:
        import pandas as pd
        from _pandana import pandana_network
    except ImportError:
        print("pandana    not installed (pip install -e '.[bench]'): skipped")
        return None
    arrays = area.arrays("walk")
    out: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w, c = time.perf_counter(), time.process_time()
        try:
            net = pandana_network(arrays)
        except ImportError:
            print("pandana    not installed (pip install -e '.[bench]'): skipped")
            return None
        net.set_pois(
            "stations",
            maxdist=horizon,
            maxitems=k,
            x_col=pd.Series(sx),
            y_col=pd.Series(sy),
            mapping_distance=500.0,
        )
        out["precompute_s"] = time.perf_counter() - w
        out["precompute_cpu_s"] = time.process_time() - c
        best = (np.inf, np.inf)
        for _ in range(3):
            w, c = time.perf_counter(), time.process_time()
            per_node = net.nearest_pois(horizon, "stations", num_pois=k, max_distance=horizon)
            nodes = net.get_node_ids(pd.Series(ox), pd.Series(oy), mapping_distance=500.0)
            times = per_node.to_numpy()[nodes.to_numpy()]
            best = (min(best[0], time.perf_counter() - w), min(best[1], time.process_time() - c))
        out["batch_s"], out["batch_cpu_s"] = best
        with_ids = net.nearest_pois(
            horizon, "stations", num_pois=k, max_distance=horizon, include_poi_ids=True
        )
    ids = with_ids.iloc[:, k : 2 * k].to_numpy()[nodes.to_numpy()]
    out["time"] = np.where(times >= horizon - 1e-6, np.nan, times)
    out["ids"] = np.where(np.isfinite(out["time"]), np.nan_to_num(ids, nan=-1), -1).astype(int)
    return out


def _reference(area, source: Path, sx, sy, ox, oy):
    try:
        sys.path.insert(0, str(ROOT))
        from tests.reference import Reference
    except ImportError as exc:
        print(f"reference: unavailable ({exc}); skipped")
        return None
    speed = area.settings.walk_speed_kmh / 3.6
    ref = Reference.from_osm(source, network="walk", crs=area.crs, speed_mps=speed)
    return ref.walk_times(np.column_stack([ox, oy]), np.column_stack([sx, sy]))


def _row(name: str, r: dict) -> str:
    iso = r.get("isochrone_p50_ms")
    iso_text = f"{iso:8.1f} ms" if iso is not None else "       —"
    return (
        f"  {name:<8} {r['precompute_s']:7.2f} s ({r['precompute_cpu_s']:5.2f} CPU) | "
        f"{r['single_p50_ms']:6.3f} / {r['single_p99_ms']:6.2f} ms | "
        f"{r['paths_p50_ms']:6.3f} / {r['paths_p99_ms']:6.2f} ms | "
        f"{r['batch_s']:6.3f} s ({r['batch_cpu_s']:5.3f} CPU) | "
        f"{r['batch45_s']:6.3f} s ({r['batch45_cpu_s']:5.3f} CPU) | {iso_text}"
    )


def _compare(name: str, ids, times, exact_ids, exact_times) -> None:
    both = (ids[:, 0] >= 0) & (exact_ids[:, 0] >= 0)
    differ = float(np.mean(ids[both, 0] != exact_ids[both, 0]))
    diff = np.abs(times[both, 0] - exact_times[both, 0])
    print(
        f"  {name:<8} nearest station differs from the exact one at {differ:6.1%} of "
        f"{int(both.sum()):,} origins; nearest walking time off by median {np.median(diff):5.1f} s"
        f", p95 {np.percentile(diff, 95):6.1f} s, max {diff.max() / 60:5.1f} min"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default=str(DEFAULT_SOURCE))
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--origins", type=int, default=100_000)
    parser.add_argument("--singles", type=int, default=2000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--before", default=BEFORE, help="commit of the 'before' locator")
    parser.add_argument("--reference-origins", type=int, default=300)
    args = parser.parse_args()
    source = Path(args.source)
    if not source.is_file():
        print(f"skipped: {source} not found")
        return

    from routing import load_area

    area = load_area(source)
    arrays = area.arrays("walk")
    load0 = os.getloadavg()[0]
    print(
        f"area {area.name}: walk graph {arrays.n:,} nodes, {arrays.edges.m:,} directed edges; "
        f"{args.stations:,} stations, {args.origins:,} origins, k={args.k}\n"
        f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {sys.version.split()[0]}, load average {load0:.1f} at the start (shared)"
    )
    rng = np.random.default_rng(args.seed)
    nodes = rng.choice(arrays.n, args.stations, replace=False)
    sx = arrays.x[nodes] + rng.uniform(-40, 40, args.stations)
    sy = arrays.y[nodes] + rng.uniform(-40, 40, args.stations)
    base = rng.integers(0, arrays.n, args.origins)
    ox = arrays.x[base] + rng.uniform(-35, 35, args.origins)
    oy = arrays.y[base] + rng.uniform(-35, 35, args.origins)
    slon, slat = area.unproject(sx, sy)
    olon, olat = area.unproject(ox, oy)

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-locator-") as tmp:
        home = Path(tmp)
        inputs = home / "inputs.npz"
        np.savez(inputs, slon=slon, slat=slat, olon=olon, olat=olat)
        params = {
            "inputs": str(inputs),
            "source": str(source.resolve()),
            "k": args.k,
            "singles": args.singles,
        }
        cache = os.environ.get("WARMHEART_HOME")
        trees = {"now": ROOT}
        before = _tree(args.before, home)
        if before is not None:
            trees = {"before": before, "now": ROOT}
        for label, tree in trees.items():
            print(f"measuring {label} ({tree}) ...", flush=True)
            if cache:  # reuse the caller's area cache for this tree's version
                (home / label).symlink_to(Path(cache) / f"bench-{label}")
                (Path(cache) / f"bench-{label}").mkdir(parents=True, exist_ok=True)
            result = _measure(tree, label, params, home)
            if result is not None:
                results[label] = result
    print("measuring pandana ...", flush=True)
    pd_result = _pandana(area, sx, sy, ox, oy, k=args.k, horizon=2700.0)
    load1 = os.getloadavg()[0]

    print(
        "\n  (times: wall, CPU in brackets)  precompute | single p50 / p99 | with paths p50 / p99"
        " | batch, all reachable | batch within 45 min | isochrone 15 min p50"
    )
    for label in ("before", "now"):
        if label in results:
            print(_row(label, results[label]))
    if pd_result is not None:
        print(
            f"  pandana  {pd_result['precompute_s']:7.2f} s ({pd_result['precompute_cpu_s']:5.2f}"
            f" CPU) | batch nearest_pois for all nodes + get_node_ids "
            f"{pd_result['batch_s']:6.3f} s ({pd_result['batch_cpu_s']:5.3f} CPU), 45-min horizon"
        )
    print(f"  load average {load0:.1f} at the start, {load1:.1f} at the end")

    now = results.get("now")
    if now is None:
        return
    print("\nratios (one run, same inputs)")
    n_or = args.origins
    if pd_result is not None:
        print(
            f"  precompute: pandana / now = {pd_result['precompute_s'] / now['precompute_s']:.1f}x"
            f" wall, {pd_result['precompute_cpu_s'] / now['precompute_cpu_s']:.1f}x CPU"
        )
        for key, what in (("batch45", "within 45 min, like pandana"), ("batch", "all reachable")):
            print(
                f"  batch throughput ({what}): now / pandana = "
                f"{pd_result['batch_s'] / now[key + '_s']:.2f}x wall, "
                f"{pd_result['batch_cpu_s'] / now[key + '_cpu_s']:.2f}x CPU "
                f"({n_or / now[key + '_s']:,.0f} vs {n_or / pd_result['batch_s']:,.0f} origins/s)"
            )
    if "before" in results:
        b = results["before"]
        print(
            f"  now / before: precompute {now['precompute_s'] / b['precompute_s']:.2f}x, "
            f"single p50 {now['single_p50_ms'] / b['single_p50_ms']:.2f}x, batch "
            f"{now['batch_s'] / b['batch_s']:.2f}x (time ratios: > 1 is slower)"
        )

    print("\nexactness")
    m = min(args.reference_origins, n_or)
    ref = _reference(area, source, sx, sy, ox[:m], oy[:m])
    if ref is not None:
        want = np.sort(ref, axis=1)[:, : args.k]
        for label, r in (*results.items(), *((("pandana", pd_result),) if pd_result else ())):
            got = r["time"][:m]
            both = np.isfinite(got) & np.isfinite(want)
            err = np.abs(got[both] - want[both])
            print(
                f"  {label:<8} vs raw-OSM reference ({m} origins, k={args.k}): max |diff| "
                f"{err.max():8.3f} s, median {np.median(err):6.3f} s"
            )
    for label, r in (("before", results.get("before")), ("pandana", pd_result)):
        if r is not None:
            _compare(label, r["ids"], r["time"], now["ids"], now["time"])


if __name__ == "__main__":
    main()
