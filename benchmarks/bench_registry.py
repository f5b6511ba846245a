"""Benchmark: the station registry at national scale, GeoPackage vs PostGIS side by side.

Prints figures only; asserts nothing (it does check that both stores and a numpy brute
force give the same answers, and says so).

186,100 synthetic stations (the national federation's count at the end of 2024) spread over
the central bounding boxes of 24 Chinese cities (approximate, drawn from public maps;
weights roughly by urban population, Beijing 9,000+ as the field notes say), then in the
same run for each store:

1. bulk load: every station in one transaction (GeoPackage: executemany under BEGIN
   IMMEDIATE with its R-tree triggers; PostGIS: COPY, GiST indexes kept up to date);
2. bbox query: ``store.query(bbox=...)`` for random 2 x 2 km boxes inside the cities, p50/p99;
3. nearest by straight line: ``store.closest(lon, lat, k=5)``, p50/p99, against numpy
   haversine over all points in memory (the peer a user would write);
4. write then visible on another server (PostGIS only): a second process follows the
   change feed (LISTEN/NOTIFY) and reads each change from the change log; the time from
   the writer starting ``add()`` to the follower holding the new station, p50/p99 (both
   processes read the same monotonic clock).

PostgreSQL runs in a throwaway cluster (``tests/pgcluster.py``) unless ``--url`` names one.
CPU seconds are given for the benchmark process and, for PostGIS, the server processes.

Usage::

    .venv/bin/python benchmarks/bench_registry.py [--n 186100] [--queries 300] [--url URL]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stations import GeoPackageStore, PostGISStore, Station  # noqa: E402
from stations._storebase import EARTH_RADIUS_M  # noqa: E402

NATIONAL = 186_100
#: (city, min_lon, min_lat, max_lon, max_lat, weight): central urban areas, approximate.
CITIES = [
    ("Beijing", 116.10, 39.70, 116.75, 40.20, 9.2),
    ("Shanghai", 121.20, 30.90, 121.80, 31.45, 9.0),
    ("Guangzhou", 113.15, 22.95, 113.55, 23.35, 7.5),
    ("Shenzhen", 113.80, 22.48, 114.40, 22.75, 7.5),
    ("Chongqing", 106.35, 29.40, 106.70, 29.75, 7.0),
    ("Chengdu", 103.90, 30.50, 104.25, 30.80, 7.0),
    ("Tianjin", 117.05, 38.95, 117.40, 39.25, 6.0),
    ("Wuhan", 114.15, 30.42, 114.50, 30.72, 6.0),
    ("Xi'an", 108.80, 34.15, 109.10, 34.40, 5.5),
    ("Hangzhou", 120.00, 30.15, 120.35, 30.40, 5.5),
    ("Nanjing", 118.65, 31.90, 118.95, 32.20, 5.0),
    ("Shenyang", 123.25, 41.70, 123.60, 41.95, 4.5),
    ("Harbin", 126.50, 45.65, 126.80, 45.85, 4.0),
    ("Zhengzhou", 113.50, 34.65, 113.85, 34.90, 5.0),
    ("Changsha", 112.85, 28.10, 113.10, 28.35, 4.5),
    ("Qingdao", 120.25, 36.00, 120.55, 36.25, 4.5),
    ("Dalian", 121.45, 38.85, 121.75, 39.05, 3.5),
    ("Jinan", 116.85, 36.55, 117.20, 36.75, 4.0),
    ("Kunming", 102.60, 24.90, 102.85, 25.15, 4.0),
    ("Xiamen", 118.00, 24.42, 118.22, 24.60, 3.0),
    ("Hefei", 117.10, 31.75, 117.40, 31.95, 4.0),
    ("Fuzhou", 119.20, 25.95, 119.40, 26.15, 3.5),
    ("Urumqi", 87.50, 43.70, 87.75, 43.95, 2.5),
    ("Lanzhou", 103.65, 36.00, 103.95, 36.12, 2.5),
]


def make_stations(n: int, seed: int = 2024) -> list[Station]:
    """``n`` stations over :data:`CITIES`, clustered around a few centres per city."""
    rng = np.random.default_rng(seed)
    weights = np.array([c[5] for c in CITIES])
    city = rng.choice(len(CITIES), size=n, p=weights / weights.sum())
    kinds = ("warm_station", "nursing_room", "shuttle_stop")
    amen = ("microwave", "toilet", "drinking_water", "rest_seats", "fridge", "sofa")
    out = []
    for i in range(n):
        _, x0, y0, x1, y1, _ = CITIES[city[i]]
        lon = float(np.clip(rng.normal((x0 + x1) / 2, (x1 - x0) / 5), x0, x1))
        lat = float(np.clip(rng.normal((y0 + y1) / 2, (y1 - y0) / 5), y0, y1))
        out.append(
            Station(
                id=f"n{i:06d}",
                kind=kinds[int(rng.integers(0, 3))],
                name=f"驿站 {i}",
                lon=lon,
                lat=lat,
                amenities=[a for a in amen if rng.random() < 0.4],
                opening_hours="Mo-Fr 08:00-18:00" if i % 3 else "24/7",
                updated_at="2024-12-31T00:00:00Z",
            )
        )
    return out


def boxes(k: int, seed: int = 7) -> list[tuple[float, float, float, float]]:
    rng = np.random.default_rng(seed)
    weights = np.array([c[5] for c in CITIES])
    out = []
    for c in rng.choice(len(CITIES), size=k, p=weights / weights.sum()):
        _, x0, y0, x1, y1, _ = CITIES[c]
        cx = rng.normal((x0 + x1) / 2, (x1 - x0) / 6)
        cy = rng.normal((y0 + y1) / 2, (y1 - y0) / 6)
        dy = 1000 / 111_195
        dx = dy / np.cos(np.radians(cy))
        out.append((float(cx - dx), float(cy - dy), float(cx + dx), float(cy + dy)))
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values) * 1000, q))


def server_cpu(pid: int) -> float:
    """CPU seconds of a postmaster and its children (reaped and live)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ppid = int(fields[1])
        if int(entry.name) == pid:
            total += sum(int(v) for v in fields[11:15]) / tick  # utime stime cutime cstime
        elif ppid == pid:
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


FOLLOWER = textwrap.dedent(
    """
    import sys, time
    from stations import PostGISStore
    store = PostGISStore(sys.argv[1])
    seen = [store.revision]
    def on_change(revision):
        now, changed, removed = store.changes_since(seen[-1])
        t = time.monotonic()
        seen.append(now)
        for s in changed:
            print(s.id, repr(t), flush=True)
    store.subscribe(on_change)
    while not store.following:
        time.sleep(0.01)
    print("ready", flush=True)
    sys.stdin.read()
    """
)


def feed_latency(url: str, writes: int) -> dict[str, float]:
    """Write ``writes`` stations one by one; time until another process holds each."""
    follower = subprocess.Popen(
        [sys.executable, "-c", FOLLOWER, url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert follower.stdout is not None and follower.stdin is not None
    assert follower.stdout.readline().strip() == "ready"
    latencies, commits = [], []
    with PostGISStore(url) as store:
        for i in range(writes):
            s = Station(id=f"live-{i:04d}", kind="warm_station", name="x", lon=116.4, lat=39.9)
            started = time.monotonic()
            store.add(s)
            commits.append(time.monotonic() - started)
            sid, seen = follower.stdout.readline().split()
            assert sid == s.id
            latencies.append(float(seen) - started)
            time.sleep(0.02)
    follower.stdin.close()
    follower.wait(10)
    return {
        "commit_p50": pct(commits, 50),
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "max": max(latencies) * 1000,
    }


def run_store(name: str, store: Any, items: list[Station], queries: int) -> dict[str, Any]:
    res: dict[str, Any] = {"name": name}
    cpu, wall = time.process_time(), time.perf_counter()
    store.add(items)
    res["load_s"] = time.perf_counter() - wall
    res["load_cpu_s"] = time.process_time() - cpu
    res["count"] = len(store)
    hits: list[list[str]] = []
    times = []
    for box in boxes(queries):
        t = time.perf_counter()
        found = store.query(bbox=box)
        times.append(time.perf_counter() - t)
        hits.append([s.id for s in found])
    res["bbox_p50"], res["bbox_p99"] = pct(times, 50), pct(times, 99)
    res["bbox_hits_mean"] = statistics.mean(len(h) for h in hits)
    res["bbox_ids"] = hits
    rng = np.random.default_rng(11)
    origins = [
        (float(rng.uniform(b[0], b[2])), float(rng.uniform(b[1], b[3]))) for b in boxes(queries, 9)
    ]
    times, near = [], []
    for lon, lat in origins:
        t = time.perf_counter()
        got = store.closest(lon, lat, k=5)
        times.append(time.perf_counter() - t)
        near.append([s.id for s, _ in got])
    res["near_p50"], res["near_p99"] = pct(times, 50), pct(times, 99)
    res["near_ids"], res["origins"] = near, origins
    return res


def numpy_peer(items: list[Station], origins: list[tuple[float, float]]) -> dict[str, Any]:
    lon = np.radians([s.lon for s in items])
    lat = np.radians([s.lat for s in items])
    ids = np.array([s.id for s in items])
    times, near = [], []
    for x, y in origins:
        t = time.perf_counter()
        x, y = np.radians(x), np.radians(y)
        a = np.sin((lat - y) / 2) ** 2 + np.cos(y) * np.cos(lat) * np.sin((lon - x) / 2) ** 2
        d = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(a))
        top = np.argpartition(d, 5)[:5]
        order = top[np.lexsort((ids[top], d[top]))]
        times.append(time.perf_counter() - t)
        near.append(ids[order].tolist())
    return {"near_p50": pct(times, 50), "near_p99": pct(times, 99), "near_ids": near}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=NATIONAL)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--writes", type=int, default=100)
    parser.add_argument("--url", help="postgresql:// URL (default: a throwaway cluster)")
    args = parser.parse_args()

    print("<!-- markdown -->")  # run_all.py includes this output as Markdown
    print(f"Registry at national scale: {args.n:,} stations over {len(CITIES)} Chinese cities.")
    print(f"{platform.platform()}, {os.cpu_count()} cores, load average {os.getloadavg()}.")
    t = time.perf_counter()
    items = make_stations(args.n)
    print(f"Made {len(items):,} stations in {time.perf_counter() - t:.1f} s.", flush=True)

    cluster = None
    url = args.url
    if url is None:
        from tests.pgcluster import ClusterUnavailableError, start_cluster

        try:
            cluster = start_cluster()
        except ClusterUnavailableError as exc:
            raise SystemExit(f"Cannot start PostgreSQL + PostGIS: {exc}") from None
        url = cluster.url
    url = f"{url}{'&' if '?' in url else '?'}schema=bench_{os.getpid()}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            gpkg_path = Path(tmp) / "national.gpkg"
            with GeoPackageStore(gpkg_path) as gpkg:
                g = run_store("GeoPackage", gpkg, items, args.queries)
            g["size_mb"] = gpkg_path.stat().st_size / 1e6
        pid = int((cluster.datadir / "postmaster.pid").read_text().split()[0]) if cluster else 0
        cpu0 = server_cpu(pid) if pid else 0.0
        with PostGISStore(url) as pg:
            p = run_store("PostGIS", pg, items, args.queries)
            conn = pg.connect()
            size = conn.execute(
                "SELECT pg_total_relation_size(%s)", (f"{pg.schema}.stations",)
            ).fetchone()
            conn.close()
            p["size_mb"] = size[0] / 1e6 if size else float("nan")
        p["server_cpu_s"] = server_cpu(pid) - cpu0 if pid else float("nan")
        feed = feed_latency(url, args.writes)
        peer = numpy_peer(items, p["origins"])
    finally:
        if cluster is not None:
            cluster.remove()

    same_bbox = g["bbox_ids"] == p["bbox_ids"]
    same_near = g["near_ids"] == p["near_ids"] == peer["near_ids"]
    print(f"\nAnswers identical: bbox {same_bbox}, nearest (incl. numpy brute force) {same_near}.")
    print()
    print("| operation | GeoPackage | PostGIS | ratio (GeoPackage / PostGIS) |")
    print("|---|---|---|---|")
    print(
        f"| bulk load {args.n:,} (one transaction) | {g['load_s']:.1f} s "
        f"({g['load_cpu_s']:.1f} s CPU) | {p['load_s']:.1f} s ({p['load_cpu_s']:.1f} s CPU here"
        f" + {p['server_cpu_s']:.1f} s server, whole run) | {g['load_s'] / p['load_s']:.1f}x |"
    )
    print(
        f"| bbox 2x2 km, ~{g['bbox_hits_mean']:.0f} hits, p50 / p99 | {g['bbox_p50']:.2f} / "
        f"{g['bbox_p99']:.2f} ms | {p['bbox_p50']:.2f} / {p['bbox_p99']:.2f} ms | "
        f"{g['bbox_p50'] / p['bbox_p50']:.1f}x |"
    )
    print(
        f"| nearest 5 by straight line, p50 / p99 | {g['near_p50']:.2f} / {g['near_p99']:.2f} "
        f"ms | {p['near_p50']:.2f} / {p['near_p99']:.2f} ms | "
        f"{g['near_p50'] / p['near_p50']:.1f}x |"
    )
    print(
        f"| (peer) numpy haversine over all {args.n:,} in memory, p50 | "
        f"{peer['near_p50']:.2f} ms | | |"
    )
    print(f"| size on disk | {g['size_mb']:.0f} MB | {p['size_mb']:.0f} MB (table + indexes) | |")
    print(
        f"| write, then visible on another process (LISTEN/NOTIFY + change log), p50 / p99 / max"
        f" | — | {feed['p50']:.1f} / {feed['p99']:.1f} / {feed['max']:.1f} ms "
        f"(commit alone {feed['commit_p50']:.1f} ms) | |"
    )
    print(f"\nLoad average after: {os.getloadavg()}.")


if __name__ == "__main__":
    main()
