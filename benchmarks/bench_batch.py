"""Batch coverage: the ../shared/osm areas plus replicas to 50, serial vs Dask LocalCluster(2).

The areas are every extract in ../shared/osm and shifted replicas of the small ones
(``tests/tiling.py`` with ``offset``: distinct ids and coordinates, so each is an area of its
own) up to 50, each with the sample stations of its host POIs in one registry GeoPackage.
Both runs start cold (an empty area cache: every task builds its area, then covers streets
and homes at 5/10/15 minutes) and write their own result folders:

* **serial**: :func:`stations.batch.cover_area` for each area in one process;
* **LocalCluster(2)**: ``run_batch`` on 2 single-threaded worker processes.

Prints wall time, CPU time and peak memory (the process; each worker), the speed-up, and a
projection to 300 cities on N machines as arithmetic from the measured per-area cost. Wall
times follow the shared machine's load (printed). Asserts nothing. Data © OpenStreetMap
contributors (ODbL).

Usage::

    python benchmarks/bench_batch.py [--areas 50]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED_OSM = ROOT.parent / "shared" / "osm"
sys.path.insert(0, str(ROOT))  # tests.tiling: the replicas

from bench_city import run_child  # noqa: E402

SUFFIXES = (".osm.pbf", ".osm.bz2")

_SERIAL = r"""
import json, resource, sys, time
from stations.batch import BatchSettings, cover_area, plan_tasks, write_summary
from pathlib import Path
tasks = plan_tasks(sources=sys.argv[1], store=sys.argv[2])
t, c = time.perf_counter(), time.process_time()
rows = [cover_area(task, BatchSettings(), sys.argv[3]) for task in tasks]
write_summary(rows, Path(sys.argv[3]))
child = resource.getrusage(resource.RUSAGE_CHILDREN)  # the PBF feature reader's children
print(json.dumps({"wall_s": time.perf_counter() - t,
                  "cpu_s": time.process_time() - c + child.ru_utime + child.ru_stime,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": rows}))
"""

_CLUSTER = r"""
import json, os, resource, sys, time
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
from dask.distributed import Client, LocalCluster
from stations.batch import BatchSettings, plan_tasks, run_batch
tasks = plan_tasks(sources=sys.argv[1], store=sys.argv[2])
t = time.perf_counter()
with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster, \
        Client(cluster) as client:
    started = time.perf_counter() - t
    t1 = time.perf_counter()
    rows = run_batch(tasks, BatchSettings(), out=sys.argv[3], client=client)
    wall = time.perf_counter() - t1
    def usage():
        import resource
        r = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)  # the PBF feature reader's children
        return {"peak_mb": r.ru_maxrss / 1024,
                "cpu_s": r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime}
    workers = list(client.run(usage).values())
print(json.dumps({"wall_s": wall, "cluster_start_s": started, "workers": workers,
                  "rows": rows}))
"""


def _replicas(folder: Path, total: int) -> list[Path]:
    """Links to the shared extracts plus replicas of the small ones, ``total`` in all."""
    from tests.tiling import tile_osm

    folder.mkdir(parents=True, exist_ok=True)
    originals = sorted(p for p in SHARED_OSM.iterdir() if p.name.endswith(SUFFIXES))
    out = []
    for p in originals:
        link = folder / p.name
        if not link.exists():
            link.symlink_to(p)
        out.append(link)
    small = [p for p in originals if "liechtenstein" not in p.name]
    r = 1
    while len(out) < total:
        src = small[(len(out) - len(originals)) % len(small)]
        stem = src.name.split(".")[0]
        target = folder / f"{stem}-r{r:02d}.osm.pbf"
        if not target.exists():
            tile_osm(src, target, columns=1, rows=1, offset=r)
        out.append(target)
        r += 1
    return out


def _registry(sources: Path, registry: Path, home: Path) -> int:
    code = r"""
import dataclasses, sys
from pathlib import Path
from routing import load_area
from stations.sample import make_sample_stations
from stations.store import open_store
from stations.batch import plan_tasks
stations = []
for task in plan_tasks(sources=sys.argv[1]):
    area = load_area(task.source)
    stations += [dataclasses.replace(s, id=f"{task.name}-{s.id}")
                 for s in make_sample_stations(area)]
store = open_store(path=sys.argv[2]); store.add(stations); store.close()
print(len(stations))
"""
    return int(run_child(code, str(sources), str(registry), home=home))


def main() -> None:
    """Make the areas, run both ways cold, print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=50)
    args = parser.parse_args()
    if not SHARED_OSM.is_dir():
        print(f"skipping: {SHARED_OSM} not found")
        return
    cache = Path(os.environ.get("WARMHEART_BENCH_CACHE", tempfile.gettempdir()))
    cache = cache / "warmheart-bench-batch"
    sources = cache / "sources"
    files = _replicas(sources, args.areas)
    registry = cache / "registry.gpkg"
    if not registry.is_file():
        _registry(sources, registry, cache / "home-registry")
    print("<!-- markdown -->")
    print(
        f"{len(files)} areas ({len(files) - sum(1 for f in files if '-r' in f.name)} extracts "
        f"of ../shared/osm, the rest replicas); streets and homes at 5/10/15 min. Load "
        f"average before: {' / '.join(f'{v:.1f}' for v in os.getloadavg())}.\n"
    )
    results = {}
    for label, code in (("serial", _SERIAL), ("cluster", _CLUSTER)):
        home = cache / f"home-{label}"
        out = cache / f"out-{label}"
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        results[label] = run_child(code, str(sources), str(registry), str(out), home=home)
    serial, cluster = results["serial"], results["cluster"]
    failed = [r["area"] for r in serial["rows"] + cluster["rows"] if r["status"] != "done"]
    per_area = sorted(r["seconds"] for r in serial["rows"])
    workers = cluster["workers"]
    print("| run | wall s | CPU s | peak RSS, MB |\n|---|---:|---:|---:|")
    print(
        f"| serial, one process | {serial['wall_s']:.1f} | {serial['cpu_s']:.1f} |"
        f" {serial['peak_mb']:,.0f} |"
    )
    for i, w in enumerate(workers):
        print(
            f"| LocalCluster(2) worker {i + 1} | {cluster['wall_s']:.1f} | {w['cpu_s']:.1f} |"
            f" {w['peak_mb']:,.0f} |"
        )
    print(
        f"\nLocalCluster(2): {serial['wall_s'] / cluster['wall_s']:.2f}x the serial speed "
        f"(cluster start {cluster['cluster_start_s']:.1f} s, not counted). Failed areas: "
        f"{', '.join(failed) or 'none'}. Results of the two runs compared file by file in "
        "`tests/stations/test_batch.py`."
    )
    mean = sum(per_area) / len(per_area)
    biggest = max(serial["rows"], key=lambda r: r["seconds"])
    print(
        f"\nPer area (serial, cold: build + coverage): mean {mean:.1f} s, median "
        f"{per_area[len(per_area) // 2]:.1f} s, largest {biggest['seconds']:.1f} s "
        f"({biggest['area']}).\n"
    )
    print("Projection to 300 cities (arithmetic from these figures, not a measurement):\n")
    for label, t in (
        ("an area like these (mean)", mean),
        (f"an area like {biggest['area']}", biggest["seconds"]),
    ):
        cores = [2, 16, 64]
        cells = ", ".join(
            f"{n // 2} machine(s) x 2 cores: 300 x {t:.1f} s / {n} = {300 * t / n / 60:.1f} min"
            for n in cores
        )
        print(f"- {label}: {cells}")
    print(
        "\n(assumes every area costs what it cost here, one task per core, no scheduler or "
        "I/O overhead; a Beijing-size area builds in minutes: see the city-scale section.)"
    )
    print(f"\nLoad average after: {' / '.join(f'{v:.1f}' for v in os.getloadavg())}.")


if __name__ == "__main__":
    main()
