"""A PBF's POI and base-map features: one pyosmium pass against pyrosm's five reads.

What an area build reads besides the roads: the features of the POI layers (points of
interest, residential land use, buildings) and of the base map (every street, water,
parks, landmarks). The peer is pyrosm, which read them before (``get_pois``,
``get_landuse``, ``get_buildings``, ``get_network("all")``,
``get_data_by_custom_criteria``; ``tests/routing/pyrosm_features.py``), each call decoding
the file again; ``routing._pbf_features.read_features`` decodes it once (libosmium, in a
child process) and parses the text while it is written. Both give the same layers
(``tests/routing/test_pbf_features.py``).

Each reader runs in a fresh Python process with a fresh temp folder (pyrosm keeps a
GeoParquet of every layer it reads under ``$TMPDIR/pyrosm``: a second run would read
those). CPU seconds include finished child processes (pyosmium's writer). Inputs:
Liechtenstein, and with ``--city`` the tiled city of ``bench_city.py`` (Liechtenstein
6 x 5, made with pyosmium, never committed). Wall times on a shared machine follow its
load (printed). Prints figures only; asserts nothing. Data © OpenStreetMap contributors.

Usage::

    python benchmarks/bench_pbf_features.py [--city]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _city_input import SHARED_OSM, run_json, tiled_city

_RUN = r"""
import json, resource, sys, time
from pathlib import Path
from routing._opl_table import child_peak_mb
path, reader = Path(sys.argv[1]), sys.argv[2]
t0, c0 = time.perf_counter(), time.process_time()
if reader == "pyosmium":
    from routing._pbf_features import read_features
    features, basemap = read_features(path)
else:
    from tests.routing.pyrosm_features import pyrosm_basemap_features, pyrosm_features
    features, basemap = pyrosm_features(path), pyrosm_basemap_features(path)
child = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "wall_s": time.perf_counter() - t0,
    "cpu_s": time.process_time() - c0 + child.ru_utime + child.ru_stime,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "child_peak_mb": child_peak_mb(),
    "rows": [len(features), len(basemap)],
}))
"""


def measure(path: Path, reader: str) -> dict[str, float]:
    """One read of ``path`` by ``reader`` in a fresh process with a fresh temp folder."""
    with tempfile.TemporaryDirectory(prefix="bench-pbf-") as tmp:
        return run_json(_RUN, str(path), reader, env={"TMPDIR": tmp})  # type: ignore[no-any-return]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--city", action="store_true", help="also the tiled city (minutes)")
    args = parser.parse_args(argv)
    source = SHARED_OSM / "liechtenstein.osm.pbf"
    if not source.exists():
        print(f"skipped: {source} not available")
        return 0
    inputs = [("Liechtenstein", source)]
    city = tiled_city() if args.city else None
    if city is not None:
        inputs.append(("Liechtenstein 6 x 5", city))
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print()
    print("| input | reader | wall s | CPU s | peak RSS MB (child) | POI / base-map rows |")
    print("|---|---|---:|---:|---:|---:|")
    for label, path in inputs:
        results = {reader: measure(path, reader) for reader in ("pyrosm", "pyosmium")}
        for reader, r in results.items():
            rows = " / ".join(f"{n:,}" for n in r["rows"])
            child = r["child_peak_mb"]
            peak = f"{r['peak_mb']:,.0f}" + (f" ({child:,.0f})" if child else "")
            print(
                f"| {label} | {reader} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {peak} | {rows} |"
            )
        ratio = results["pyrosm"]["cpu_s"] / results["pyosmium"]["cpu_s"]
        wall = results["pyrosm"]["wall_s"] / results["pyosmium"]["wall_s"]
        print(f"| {label} | pyrosm / pyosmium | {wall:.1f}x | {ratio:.1f}x | | |")
    print()
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
