"""City scale: Liechtenstein tiled 6 x 5 (~Beijing's walk network) built, reloaded and served.

The input is made reproducibly (``tests/tiling.py``: 30 shifted copies of
../shared/osm/liechtenstein.osm.pbf with fresh ids, joined by connector roads), cached in
``$WARMHEART_BENCH_CACHE`` (default: the temp folder) and never committed. Every figure is
taken in a fresh Python process, so memory and import costs are what a user sees:

1. **cold build** (``warmheart area build``): wall, CPU and peak RSS per stage, with a
   fresh temp folder and a new home (the compiled numba kernels are loaded from their
   on-disk cache, as on any installation after its first build: they are compiled first);
2. **warm reload** by name: wall, CPU, peak RSS; side by side with the peer it replaces,
   unpickling the networkx graphs and deriving the arrays from them (the cache before v6),
   as a ratio;
3. **labels** for 9,000 stations (the first query of a fresh locator), all kinds
   (``Locator.prepare``, what a server does at start), and single ``nearest`` queries
   (p50 / p99 over 1,000 random street-side origins);
4. **server**: ``warmheart serve`` (waitress) on a GeoPackage of the 9,000 stations, from
   start to the first answered ``/api/nearest`` (area load + store read + labels), then the
   locator page and the API.

Wall times on a shared machine follow its load (printed); CPU seconds are steadier. Prints
figures only; asserts nothing. Data © OpenStreetMap contributors (ODbL).

Usage::

    python benchmarks/bench_city.py [--columns 6 --rows 5] [--stations 9000] [--skip-peer]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _city_input import ROOT, SOURCE, cache_folder, run_json, tiled_city
from bench_api import cpu_seconds, free_port, start_waitress, stop

_BUILD = r"""
import json, resource, sys, time
from routing._opl_table import child_peak_mb
t0, c0 = time.perf_counter(), time.process_time()
from routing import build_area
area = build_area(sys.argv[1], name=sys.argv[2])
child = resource.getrusage(resource.RUSAGE_CHILDREN)  # the feature reader's decoding child
print(json.dumps({
    "wall_s": time.perf_counter() - t0,
    "cpu_s": time.process_time() - c0 + child.ru_utime + child.ru_stime,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "child_peak_mb": child_peak_mb(),
    "stages": area.report["stages"],
    "walk": [area.arrays("walk").n, area.arrays("walk").edges.m],
    "drive": [area.arrays("drive").n, area.arrays("drive").edges.m],
    "pois": area.report["pois"],
}))
"""

_WARM = r"""
import json, resource, sys, time
import numpy as np
out = {}
def mark(name, t, c):
    out[name] = {"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                 "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
t, c = time.perf_counter(), time.process_time()
from routing import load_area
from stations import Locator, MemoryStore
from stations.model import Station
mark("import", t, c)
t, c = time.perf_counter(), time.process_time()
area = load_area(sys.argv[1])
mark("reload", t, c)
rng = np.random.default_rng(14)
arrays = area.arrays("walk")
n = int(sys.argv[2])
pick = rng.integers(0, arrays.n, n)
lon, lat = area.unproject(arrays.x[pick] + rng.uniform(-30, 30, n),
                          arrays.y[pick] + rng.uniform(-30, 30, n))
store = MemoryStore([Station(id=f"s{i:05d}", kind="warm_station", name=f"Station {i}",
                             lon=float(lon[i]), lat=float(lat[i])) for i in range(n)])
t, c = time.perf_counter(), time.process_time()
locator = Locator(area, store)
first = locator.nearest(float(lon[0]), float(lat[0]), k=3)
mark("labels", t, c)
q = int(sys.argv[3])
qpick = rng.integers(0, arrays.n, q)
qlon, qlat = area.unproject(arrays.x[qpick] + rng.uniform(-40, 40, q),
                            arrays.y[qpick] + rng.uniform(-40, 40, q))
times = []
for a, b in zip(qlon.tolist(), qlat.tolist()):
    s = time.perf_counter()
    locator.nearest(a, b, k=3)
    times.append(time.perf_counter() - s)
out["nearest_ms"] = {"p50": float(np.percentile(times, 50) * 1e3),
                     "p99": float(np.percentile(times, 99) * 1e3), "n": q}
t, c = time.perf_counter(), time.process_time()
layers = {k: len(area.pois[k]) for k in area.pois}
mark("poi_layers", t, c)
t, c = time.perf_counter(), time.process_time()
from stations.coverage import coverage  # what one task of `warmheart batch coverage` runs
covered = coverage(area, store.all(), minutes=(5, 10, 15), demand=("streets", "homes"))
mark("coverage", t, c)
out["coverage_share"] = covered.share("streets", 15)
t, c = time.perf_counter(), time.process_time()
G = area.walk
mark("walk_networkx", t, c)
if len(sys.argv) > 4:  # write the peer: the networkx graphs as the v5 cache pickled them
    import pickle
    t, c = time.perf_counter(), time.process_time()
    with open(sys.argv[4], "wb") as fh:
        pickle.dump({"walk": area.walk, "drive": area.drive}, fh, protocol=5)
    mark("peer_write", t, c)
print(json.dumps(out))
"""

_PEER = r"""
import json, pickle, resource, sys, time
t, c = time.perf_counter(), time.process_time()
from routing.network import graph_arrays
with open(sys.argv[1], "rb") as fh:
    graphs = pickle.load(fh)
arrays = {k: graph_arrays(G) for k, G in graphs.items()}
arrays["walk"].edges.locate(arrays["walk"].x[:1], arrays["walk"].y[:1], max_distance=1.0)
print(json.dumps({"wall_s": time.perf_counter() - t, "cpu_s": time.process_time() - c,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_STORE = r"""
import sys
import numpy as np
from routing import load_area
from stations.model import Station
from stations.store import open_store
area = load_area(sys.argv[1])
arrays = area.arrays("walk")
rng = np.random.default_rng(14)
n = int(sys.argv[2])
pick = rng.integers(0, arrays.n, n)
lon, lat = area.unproject(arrays.x[pick] + rng.uniform(-30, 30, n),
                          arrays.y[pick] + rng.uniform(-30, 30, n))
store = open_store(path=sys.argv[3])
store.add([Station(id=f"s{i:05d}", kind="warm_station", name=f"Station {i}",
                   lon=float(lon[i]), lat=float(lat[i])) for i in range(n)])
store.close()
print(f"{lon[0]:.6f},{lat[0]:.6f}")
"""


_COMPILE = """
from routing._pbf_roads import read_networks
from routing.presets import helsinki_pbf
read_networks(helsinki_pbf())
print("{}")
"""


def run_child(code: str, *args: str, home: Path, tmp: Path | None = None) -> Any:
    """Run ``python -c code args`` with ``WARMHEART_HOME=home``; its last line as JSON.

    ``tmp`` becomes the child's ``TMPDIR``, so a cold build writes nothing it reads back.
    """
    env = {"WARMHEART_HOME": str(home)}
    if tmp is not None:
        env["TMPDIR"] = str(tmp)
    return run_json(code, *args, env=env)


def _get(port: int, path: str) -> tuple[int, int, float]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, len(body), time.perf_counter() - start


def _serve(home: Path, name: str, n: int) -> dict[str, Any]:
    store = home / "bench-stations.gpkg"
    store.unlink(missing_ok=True)
    env_home = {**os.environ, "WARMHEART_HOME": str(home)}
    origin = subprocess.run(
        [sys.executable, "-c", _STORE, name, str(n), str(store)],
        env=env_home,
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    ).stdout.strip()
    lon, lat = origin.split(",")
    port = free_port()
    os.environ["WARMHEART_HOME"] = str(home)
    start = time.perf_counter()
    proc = start_waitress(name, store, None, port, 4)
    out: dict[str, Any] = {}
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                status, _, _ = _get(port, f"/api/nearest?lon={lon}&lat={lat}&k=3")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        out["start_s"] = time.perf_counter() - start
        out["start_cpu_s"] = cpu_seconds(proc.pid)
        for label, path in (
            ("locator page /", "/"),
            ("/api/nearest k=3", f"/api/nearest?lon={lon}&lat={lat}&k=3"),
            ("/api/stations bbox 1 km", _bbox(float(lon), float(lat))),
            ("/api/isochrone 5,10,15", f"/api/isochrone?lon={lon}&lat={lat}&minutes=5,10,15"),
        ):
            runs = [_get(port, path) for _ in range(5)]
            out[label] = {
                "status": runs[-1][0],
                "bytes": runs[-1][1],
                "first_ms": runs[0][2] * 1e3,
                "median_ms": sorted(r[2] for r in runs)[2] * 1e3,
            }
    finally:
        stop(proc)
    return out


def _bbox(lon: float, lat: float) -> str:
    return f"/api/stations?bbox={lon - 0.007},{lat - 0.0045},{lon + 0.007},{lat + 0.0045}"


def _mb(value: Any) -> str:
    return f"{value:,.0f}" if isinstance(value, int | float) else "?"


def _row(label: str, m: dict[str, Any], *, workers: bool = False) -> str:
    cells = f"| {label} | {m['wall_s']:.2f} | {m['cpu_s']:.2f} | {_mb(m.get('peak_mb'))} |"
    child = m.get("child_peak_mb")  # None until the reader child has run
    return cells + (f" {_mb(child) if child else '–'} |" if workers else "")


def main() -> None:
    """Make the input, measure, print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--rows", type=int, default=5)
    parser.add_argument("--stations", type=int, default=9000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--skip-peer", action="store_true", help="Skip the pickle peer")
    parser.add_argument("--warm-only", action="store_true", help="Reuse the last cold build")
    args = parser.parse_args()
    tiles = tiled_city(args.columns, args.rows)
    if tiles is None:
        print(f"skipping: {SOURCE} not found")
        return
    cache = cache_folder()
    home = cache / "home"
    name = "city"
    print("<!-- markdown -->")
    print(
        f"Input: Liechtenstein tiled {args.columns} x {args.rows} "
        f"({tiles.stat().st_size / 1e6:.0f} MB PBF). Load average before: "
        f"{' / '.join(f'{v:.1f}' for v in os.getloadavg())}.\n"
    )
    built: dict[str, Any] | None = None
    if not args.warm_only or not home.is_dir():
        shutil.rmtree(home, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="bench-city-tmp-") as fresh:
            # the kernels an installation compiles once (cached on disk), outside the figures
            run_child(_COMPILE, home=home, tmp=Path(fresh))
            built = run_child(_BUILD, str(tiles), name, home=home, tmp=Path(fresh))
        print(
            f"**Cold build** (`warmheart area build`): walk {built['walk'][0]:,} nodes / "
            f"{built['walk'][1]:,} edges, drive {built['drive'][0]:,} / {built['drive'][1]:,}, "
            f"{sum(built['pois'].values()):,} POIs. Nothing cached: a new home and a"
            " fresh temp folder.\n"
        )
        print(
            "| stage | wall s | CPU s (with the reader child) | peak RSS so far, MB"
            " | reader child's own peak, MB |\n|---|---:|---:|---:|---:|"
        )
        for stage in built["stages"]:
            print(_row(stage["stage"], stage, workers=True))
        print(_row("**whole build** (process)", built, workers=True))
        print()
    peer_file = cache / "peer-networkx.pickle"
    warm = run_child(
        _WARM,
        name,
        str(args.stations),
        str(args.queries),
        *([] if args.skip_peer else [str(peer_file)]),
        home=home,
    )
    print("**Warm**, each in a fresh process after the build:\n")
    print("| step | wall s | CPU s | peak RSS, MB |\n|---|---:|---:|---:|")
    print(_row("import routing, stations", warm["import"]))
    print(_row("reload by name (`load_area`)", warm["reload"]))
    print(_row(f"labels for {args.stations:,} stations (first query)", warm["labels"]))
    print(_row("all POI layers on first access", warm["poi_layers"]))
    print(_row("coverage: streets + homes, 5/10/15 min", warm["coverage"]))
    print(_row("`area.walk` networkx graph on first access", warm["walk_networkx"]))
    peer = None
    if not args.skip_peer:
        peer = run_child(_PEER, str(peer_file), home=home)
        print(_row("peer: unpickle networkx graphs + arrays (cache v5)", peer))
        peer_file.unlink(missing_ok=True)
    nearest = warm["nearest_ms"]
    print(
        f"\nnearest k=3, {nearest['n']:,} single queries: p50 {nearest['p50']:.3f} ms, "
        f"p99 {nearest['p99']:.3f} ms."
    )
    if peer is not None:
        print(
            f"Reload vs the peer: {peer['wall_s'] / warm['reload']['wall_s']:.0f}x less wall, "
            f"{peer['cpu_s'] / max(warm['reload']['cpu_s'], 1e-9):.0f}x less CPU, "
            f"{peer['peak_mb'] / warm['reload']['peak_mb']:.1f}x less peak memory."
        )
    if built is not None:
        task = built["cpu_s"] + warm["reload"]["cpu_s"] + warm["coverage"]["cpu_s"]
        print(
            f"\nOne `warmheart batch coverage` task for a city like this one, cold: build + "
            f"coverage = {task:.0f} s CPU. 300 such cities (arithmetic, not a measurement): "
            + ", ".join(
                f"{n // 2} machine(s) x 2 cores: 300 x {task:.0f} s / {n} = "
                f"{300 * task / n / 3600:.1f} h"
                for n in (2, 16, 64)
            )
            + "; warm (areas cached, stations changed): "
            f"300 x {warm['coverage']['cpu_s']:.0f} s / 16 = "
            f"{300 * warm['coverage']['cpu_s'] / 16 / 60:.0f} min on 8 machines."
        )
    served = _serve(home, name, args.stations)
    cpu = served.get("start_cpu_s")
    print(
        f"\n**Server** (`warmheart serve`, waitress, GeoPackage of {args.stations:,} stations): "
        f"first `/api/nearest` answered {served['start_s']:.2f} s after start"
        + (f" ({cpu:.2f} s CPU)" if cpu is not None else "")
        + ".\n"
    )
    print("| request | status | bytes | first ms | median of 5 ms |\n|---|---:|---:|---:|---:|")
    for label, m in served.items():
        if isinstance(m, dict):
            print(
                f"| {label} | {m['status']} | {m['bytes']:,} | {m['first_ms']:.1f} |"
                f" {m['median_ms']:.1f} |"
            )
    print(f"\nLoad average after: {' / '.join(f'{v:.1f}' for v in os.getloadavg())}.")


if __name__ == "__main__":
    main()
