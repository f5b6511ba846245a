"""Benchmark: cold build vs warm (cached) reload of Areas, seconds and peak memory.

Each measurement runs in a fresh Python subprocess so peak memory (``ru_maxrss``) and
import costs are those a user sees. "load s" is wall time of ``load_area`` (after
``import routing``), "cpu s" its process CPU time (steadier than wall time on a shared
machine). "cold" uses an empty ``WARMHEART_HOME``; "warm" reuses
the entry the cold run wrote. Prints figures only; asserts nothing.

Usage::

    .venv/bin/python benchmarks/bench_area.py [--repeat N]

Sources: the embedded Helsinki sample and ../shared/osm/liechtenstein.osm.pbf (skipped when
absent). Data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_OSM = ROOT.parent / "shared" / "osm"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from routing import load_area
t1 = time.perf_counter()
c1 = time.process_time()
area = load_area(sys.argv[1])
t2 = time.perf_counter()
c2 = time.process_time()
print(json.dumps({
    "load_cpu_s": c2 - c1,
    "import_s": t1 - t0,
    "load_s": t2 - t1,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "walk_nodes": area.walk.number_of_nodes(),
    "walk_edges": area.walk.number_of_edges(),
    "drive_nodes": area.drive.number_of_nodes(),
    "drive_edges": area.drive.number_of_edges(),
    "pois": sum(len(f) for f in area.pois.values()),
    "cache_mb": __import__("os").path.getsize(area.report["cache_path"]) / 1e6,
}))
"""


def run_child(source: str, home: Path) -> dict[str, float]:
    """Load ``source`` in a fresh interpreter with ``WARMHEART_HOME=home``."""
    env = {**os.environ, "WARMHEART_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, source],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="Runs per measurement (best kept)")
    args = parser.parse_args()

    sources = [("helsinki (embedded sample)", "helsinki")]
    lie = SHARED_OSM / "liechtenstein.osm.pbf"
    if lie.is_file():
        sources.append(("liechtenstein.osm.pbf (2.9 MB)", str(lie)))
    else:
        print(f"skipping Liechtenstein: {lie} not found")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    header = (
        f"{'source':<32} {'run':<5} {'load s':>8} {'cpu s':>7} {'import s':>9} {'peak MB':>8} "
        f"{'walk n/e':>14} {'drive n/e':>12} {'cache MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for label, source in sources:
        cold_runs, warm_runs = [], []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory(prefix="warmheart-bench-") as tmp:
                home = Path(tmp)
                cold_runs.append(run_child(source, home))
                warm_runs.append(run_child(source, home))
        cold = min(cold_runs, key=lambda r: r["load_s"])
        warm = min(warm_runs, key=lambda r: r["load_s"])
        for run, r in (("cold", cold), ("warm", warm)):
            print(
                f"{label:<32} {run:<5} {r['load_s']:>8.2f} {r['load_cpu_s']:>7.2f} "
                f"{r['import_s']:>9.2f} "
                f"{r['peak_mb']:>8.0f} {int(r['walk_nodes']):>6}/{int(r['walk_edges']):<7} "
                f"{int(r['drive_nodes']):>5}/{int(r['drive_edges']):<6} {r['cache_mb']:>9.1f}"
            )
        print(
            f"{'':<32} ratio cold/warm load: {cold['load_s'] / warm['load_s']:.0f}x wall, "
            f"{cold['load_cpu_s'] / warm['load_cpu_s']:.0f}x cpu, "
            f"peak memory {cold['peak_mb'] / warm['peak_mb']:.1f}x"
        )


if __name__ == "__main__":
    main()
