"""Road graphs of a city PBF: warmheart's reader against pyrosm's get_graph, walk + drive.

Input: Liechtenstein tiled 6 x 5 (``tests/tiling.py``; ~Beijing's walk network), made
reproducibly and cached in ``$WARMHEART_BENCH_CACHE`` (default: the temp folder), never
committed. Each reader runs in a fresh Python process, so its imports and peak memory are
what a build pays:

- **warmheart**: ``routing._pbf_roads.read_networks`` — one pass over the file (compiled
  block decoding), both graphs from arrays;
- **peer**: pyrosm 0.25 ``OSM.get_graph(network, graph_type="networkx", retain_all=True,
  osmnx_compatible=True)`` for ``walking`` then ``driving`` — what the build used before,
  and the graphs ours are held equal to (``tests/routing/test_pbf_roads.py``).

The numba kernels are compiled once per installation (cached on disk); a warm-up run on
the embedded Helsinki sample compiles them before the timed process starts. Prints
figures only; asserts nothing. Data © OpenStreetMap contributors (ODbL).

Usage::

    python benchmarks/bench_roads.py [--columns 6 --rows 5]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _city_input import SOURCE, run_json, tiled_city

_RUN = r"""
import json, os, resource, sys, time
path, which = sys.argv[1], sys.argv[2]
t0, c0 = time.perf_counter(), time.process_time()
if which == "warmheart":
    from routing._pbf_roads import read_networks
    graphs = read_networks(path)
else:
    import pyrosm
    osm = pyrosm.OSM(path, keep_metadata=False, progress=False)
    graphs = {
        name: osm.get_graph(net, graph_type="networkx", retain_all=True, osmnx_compatible=True)
        for name, net in (("walk", "walking"), ("drive", "driving"))
    }
print(json.dumps({
    "wall": time.perf_counter() - t0,
    "cpu": time.process_time() - c0,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "graphs": {k: [G.number_of_nodes(), G.number_of_edges()] for k, G in graphs.items()},
}))
"""


def _run(path: Path, which: str) -> dict[str, float]:
    return run_json(_RUN, str(path), which)  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--rows", type=int, default=5)
    args = parser.parse_args()
    tiles = tiled_city(args.columns, args.rows)
    if tiles is None:
        print(f"skipping: {SOURCE} not found")
        return
    from routing.presets import helsinki_pbf

    _run(helsinki_pbf(), "warmheart")  # compiles (or loads) the numba kernels
    load = os.getloadavg()
    ours = _run(tiles, "warmheart")
    peer = _run(tiles, "pyrosm")
    after = os.getloadavg()
    print("<!-- markdown -->")
    print(
        f"Input: Liechtenstein tiled {args.columns} x {args.rows} "
        f"({tiles.stat().st_size / 1e6:.0f} MB PBF). Load average "
        f"{load[0]:.1f} before, {after[0]:.1f} after (2 cores shared: wall > CPU).\n"
    )
    print("| reader (walk + drive) | wall s | CPU s | peak RSS MB | walk nodes / edges |")
    print("|---|---:|---:|---:|---:|")
    for label, r in (("warmheart `read_networks`", ours), ("pyrosm `get_graph` x 2", peer)):
        walk = r["graphs"]["walk"]  # type: ignore[index]
        print(
            f"| {label} | {r['wall']:.1f} | {r['cpu']:.1f} | {r['peak_mb']:,.0f} |"
            f" {walk[0]:,} / {walk[1]:,} |"
        )
    print(
        f"\npyrosm / warmheart: **{peer['cpu'] / ours['cpu']:.1f}x** CPU, "
        f"{peer['wall'] / ours['wall']:.1f}x wall, "
        f"{peer['peak_mb'] / ours['peak_mb']:.1f}x peak memory (one run each, same load)."
    )


if __name__ == "__main__":
    main()
