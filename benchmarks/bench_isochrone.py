"""Walking isochrones: warmheart vs the previous method vs the osmnx recipe.

Three ways to draw the area walkable from a point within T minutes, on the same Area and the
same seeded origins (uniform over the walk graph's directed edges, moved up to 30 m off the
street):

* **warmheart**: :func:`stations.isochrone.isochrones` — the origin located on its edge,
  every directed edge walked from its tail (parallel edges, loops, self-loops), the reached
  pieces painted into a distance field and traced with contourpy.
* **previous**: the method this replaced, kept here for comparison — the origin snapped to
  its nearest node, one scipy Dijkstra on the collapsed CSR (the fastest of parallel edges),
  partial edges cut with ``shapely.ops.substring``, every piece buffered by 25 m and merged
  with ``shapely.union_all``.
* **osmnx recipe** (what a user would otherwise write, after the osmnx-examples notebook
  "isolines-isochrones"): ``ox.distance.nearest_nodes``, ``nx.ego_graph(G, node,
  radius=T, distance="travel_time")``, node points buffered by 50 m and edge geometries by
  25 m, ``union_all``. Its polygons stay in the projected CRS (ours are also converted to
  WGS-84).

Per area (the Helsinki sample; ``../shared/osm/liechtenstein.osm.pbf`` where present) and
budget (5, 10, 15, 30 min): p50 / p99 wall and CPU time per call (CPU: the process's own
``time.process_time``, comparable on a shared machine). For 15 minutes, quality against the
raw-OSM reference (:mod:`tests.isochrone_reference`): the share of street points reached in
time that a method leaves outside ("missed"), of points beyond reach + 60 s and the band
that it puts inside ("stray"), and the mean boundary distance to the reference band.

Then ``/api/isochrone`` server time in-process (Flask test client, rate limit off; the
largest area): ``minutes=15`` and the default ``5,10,15``, the new handler against the
previous one (old polygons, GeoDataFrame sort, ``set_precision``, ``mapping``) swapped into
the same app, p50 / p99 wall and CPU and the response size.

Prints Markdown tables and ratios; asserts nothing about timing. Progress goes to stderr.

    .venv/bin/python benchmarks/bench_isochrone.py [--origins 30] [--quality-origins 6]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

    from routing import Area

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.isochrone_reference, tests.reference
SHARED = ROOT.parent / "shared" / "osm" / "liechtenstein.osm.pbf"
MINUTES = (5, 10, 15, 30)
BUFFER_M = 25.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------- the previous method


def previous_isochrones(area: Area, lon: float, lat: float, minutes: list[float]) -> list[Any]:
    """The isochrones of the previous release (projected polygons, one per budget)."""
    import shapely
    from scipy.sparse.csgraph import dijkstra
    from shapely import ops

    from routing.paths import network_speed

    snapped = area.snap(lon, lat, network="walk")
    snap_m = float(snapped.distance[0])
    arrays = area.arrays("walk")
    speed = network_speed(area, "walk")[0]
    v = int(snapped.index[0])
    leg = snap_m / speed
    ox, oy = (float(c[0]) for c in area.project(lon, lat))
    origin_leg = shapely.LineString([(ox, oy), (arrays.x[v], arrays.y[v])])
    limit = max(minutes) * 60.0 - leg
    dist = dijkstra(arrays.time, indices=v, limit=limit) if limit > 0 else np.full(arrays.n, np.inf)
    csr = arrays.time
    rows = np.repeat(np.arange(arrays.n), np.diff(csr.indptr))
    geoms = _previous_geometries(area)
    polygons = []
    for minute in sorted(minutes):
        budget = minute * 60.0 - leg
        if budget <= 0:
            polygons.append(shapely.Point(ox, oy).buffer(minute * 60.0 * speed, quad_segs=8))
            continue
        start = dist[rows]
        reached = start < budget
        frac = np.zeros(len(rows))
        frac[reached] = np.minimum(1.0, (budget - start[reached]) / csr.data[reached])
        full = np.flatnonzero(frac >= 1.0)
        pair = np.sort(np.column_stack([rows[full], csr.indices[full]]), axis=1)
        _, first = np.unique(pair, axis=0, return_index=True)
        full = full[first]
        part = np.flatnonzero((frac > 0.0) & (frac < 1.0))
        pieces = list(geoms[full])
        for e in part.tolist():
            line = geoms[e]
            pieces.append(ops.substring(line, 0.0, frac[e] * line.length))
        pieces.append(origin_leg)
        bands = shapely.buffer(np.asarray(pieces, dtype=object), BUFFER_M, quad_segs=4)
        polygons.append(_previous_fill_holes(shapely.union_all(bands), 5000.0))
    return polygons


_PREVIOUS_GEOMS: dict[int, Any] = {}


def _previous_geometries(area: Area) -> Any:
    """Per CSR position, the geometry of the edge the matrices kept (the fastest)."""
    arrays = area.arrays("walk")
    key = id(arrays)
    if key not in _PREVIOUS_GEOMS:
        _PREVIOUS_GEOMS[key] = arrays.edges.lines(arrays.edges.csr_edge)
    return _PREVIOUS_GEOMS[key]


def _previous_fill_holes(geom: Any, max_hole_m2: float) -> Any:
    import shapely

    parts = list(geom.geoms) if isinstance(geom, shapely.MultiPolygon) else [geom]
    kept = []
    for poly in parts:
        holes = [r for r in poly.interiors if shapely.Polygon(r).area >= max_hole_m2]
        kept.append(shapely.Polygon(poly.exterior, holes))
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def previous_handler(area: Area, lon: float, lat: float, minutes: list[int]) -> dict[str, Any]:
    """The previous ``/api/isochrone`` answer: GeoDataFrame, sort, set_precision, mapping."""
    import geopandas as gpd
    import shapely

    polygons = previous_isochrones(area, lon, lat, [float(m) for m in minutes])
    projected = gpd.GeoSeries(polygons, crs=area.crs)
    frame = gpd.GeoDataFrame(
        {
            "minutes": sorted(float(m) for m in set(minutes)),
            "area_km2": (projected.area / 1e6).round(4).to_numpy(),
        },
        geometry=projected.to_crs("EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )
    features = []
    for row in frame.sort_values("minutes", ascending=False).itertuples():
        geometry = shapely.set_precision(row.geometry, 1e-7)
        features.append(
            {
                "type": "Feature",
                "geometry": shapely.geometry.mapping(geometry),
                "properties": {"minutes": int(row.minutes), "area_km2": float(row.area_km2)},
            }
        )
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------ the osmnx recipe


def osmnx_recipe(G: Any, x: float, y: float, minutes: list[float]) -> list[Any]:
    """The osmnx-examples isochrone recipe on a projected graph (one polygon per budget)."""
    import geopandas as gpd
    import networkx as nx
    import osmnx as ox
    from shapely.geometry import LineString, Point

    center = ox.distance.nearest_nodes(G, x, y)
    out = []
    for trip in sorted(minutes):
        sub = nx.ego_graph(G, center, radius=trip * 60.0, distance="travel_time")
        points = [Point((d["x"], d["y"])) for _, d in sub.nodes(data=True)]
        nodes = gpd.GeoDataFrame({"id": list(sub.nodes)}, geometry=points).set_index("id")
        lines = []
        for u, v in sub.edges():
            data = G.get_edge_data(u, v)
            edge = data.get(0, next(iter(data.values())))
            a, b = nodes.loc[u].geometry, nodes.loc[v].geometry
            lines.append(edge.get("geometry", LineString([a, b])))
        n = nodes.buffer(50).geometry
        e = gpd.GeoSeries(lines).buffer(BUFFER_M).geometry
        out.append(gpd.GeoSeries(list(n) + list(e)).union_all())
    return out


# ------------------------------------------------------------------------ measuring


def origins(area: Area, n: int, seed: int) -> np.ndarray:
    """``n`` lon/lat points next to random streets (uniform over directed edges)."""
    rng = np.random.default_rng(seed)
    table = area.arrays("walk").edges
    e = rng.integers(0, table.m, n)
    at = table.ptr[e] + (table.ptr[e + 1] - table.ptr[e] - 1) // 2
    x = table.xy[at, 0] + rng.uniform(-30, 30, n)
    y = table.xy[at, 1] + rng.uniform(-30, 30, n)
    lon, lat = area.unproject(x, y)
    return np.column_stack([lon, lat])


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def stats(samples: list[float]) -> str:
    ms = np.asarray(samples) * 1e3
    return f"{np.percentile(ms, 50):.1f} / {np.percentile(ms, 99):.1f}"


def p50(samples: list[float]) -> float:
    return float(np.percentile(samples, 50))


def bench_area(name: str, area: Area, source: Path, n: int, quality: int) -> None:
    """The speed table of one area, then the quality table at 15 minutes."""
    import stations.isochrone as iso

    arrays = area.arrays("walk")
    points = origins(area, n, seed=1)
    xy = np.column_stack(area.project(points[:, 0], points[:, 1]))
    G = area.walk
    # warm up every method (numba kernels, cached edge geometry)
    iso.isochrones(area, *points[0], minutes=5)
    previous_isochrones(area, *points[0], [5.0])
    osmnx_recipe(G, *xy[0], [5.0])
    print(f"\n### {name}: {arrays.n:,} walk nodes, {arrays.edges.m:,} directed edges\n")
    print(
        "| minutes | warmheart wall / CPU p50 (p99 wall) | previous wall / CPU p50 (p99) | "
        "osmnx recipe wall / CPU p50 (p99) | previous / warmheart (CPU) | "
        "osmnx / warmheart (CPU) | km² warmheart / previous / osmnx |"
    )
    print("|---|---|---|---|---|---|---|")
    for minutes in MINUTES:
        runs: dict[str, tuple[list[float], list[float], list[float]]] = {}
        peer_n = n if minutes <= 15 else min(n, max(5, n // 3))
        methods: dict[str, tuple[int, Callable[[int], Any]]] = {
            "new": (n, lambda i, m=minutes: iso.isochrones(area, *points[i], minutes=m)),
            "old": (n, lambda i, m=minutes: previous_isochrones(area, *points[i], [m])),
            "osmnx": (peer_n, lambda i, m=minutes: osmnx_recipe(G, *xy[i], [m])),
        }
        for key, (count, call) in methods.items():
            walls, cpus, areas = [], [], []
            for i in range(count):
                wall, cpu, result = timed(lambda c=call, j=i: c(j))
                walls.append(wall)
                cpus.append(cpu)
                if key == "new":
                    areas.append(float(result["area_km2"].iloc[0]))
                else:
                    areas.append(result[0].area / 1e6)
            runs[key] = (walls, cpus, areas)
            log(f"  {name} {minutes} min {key}: {count} origins, p50 {p50(walls) * 1e3:.1f} ms")
        new, old, peer = runs["new"], runs["old"], runs["osmnx"]
        print(
            f"| {minutes} | {p50(new[0]) * 1e3:.1f} / {p50(new[1]) * 1e3:.1f} "
            f"({np.percentile(new[0], 99) * 1e3:.1f}) | "
            f"{p50(old[0]) * 1e3:.1f} / {p50(old[1]) * 1e3:.1f} "
            f"({np.percentile(old[0], 99) * 1e3:.1f}) | "
            f"{p50(peer[0]) * 1e3:.1f} / {p50(peer[1]) * 1e3:.1f} "
            f"({np.percentile(peer[0], 99) * 1e3:.1f}) | "
            f"{p50(old[1]) / p50(new[1]):.1f}x | {p50(peer[1]) / p50(new[1]):.0f}x | "
            f"{np.median(new[2]):.3f} / {np.median(old[2]):.3f} / {np.median(peer[2]):.3f} |"
        )
    if quality:
        quality_table(name, area, source, points[:quality], xy[:quality])


def quality_table(name: str, area: Area, path: Path, points: np.ndarray, xy: np.ndarray) -> None:
    """Missed / stray street points and boundary distance against the raw-OSM reference."""
    import shapely

    import stations.isochrone as iso
    from routing.paths import network_speed
    from tests.isochrone_reference import RefIsochrone, membership
    from tests.reference import Reference

    speed = network_speed(area, "walk")[0]
    log(f"  {name}: reading the raw-OSM reference from {path.name}")
    ref = Reference.from_osm(path, network="walk", crs=area.crs, speed_mps=speed)
    budget = 15 * 60.0
    totals: dict[str, list[float]] = {k: [0, 0, 0, 0] for k in ("new", "old", "osmnx")}
    deviations: dict[str, list[float]] = {k: [] for k in totals}
    for i in range(len(points)):
        lon, lat = points[i]
        reference = RefIsochrone(ref, (float(xy[i, 0]), float(xy[i, 1])))
        frame = iso.isochrones(area, lon, lat, minutes=15)
        new = shapely.transform(
            frame.geometry.iloc[0], lambda c: np.column_stack(area.project(*c.T))
        )
        polys = {
            "new": new,
            "old": previous_isochrones(area, lon, lat, [15.0])[0],
            "osmnx": osmnx_recipe(area.walk, *xy[i], [15.0])[0],
        }
        for key, poly in polys.items():
            got = membership(
                reference, poly, budget, buffer_m=BUFFER_M, fill_holes_m2=5000.0, speed_mps=speed
            )
            t = totals[key]
            t[0] += got.missing.size
            t[1] += got.reached
            t[2] += got.stray.size
            t[3] += got.beyond
            deviations[key].append(got.deviation_m)
        log(f"  {name} quality: origin {i + 1}/{len(points)}")
    print(
        f"\n{name}, 15 minutes, {len(points)} origins, against the raw-OSM reference "
        f"({ref.a.size:,} segments):\n"
    )
    print("| method | reached points missed | beyond reach put inside | mean boundary distance |")
    print("|---|---|---|---|")
    labels = {"new": "warmheart", "old": "previous", "osmnx": "osmnx recipe"}
    for key, (miss, reached, stray, beyond) in totals.items():
        missed = 100 * miss / max(reached, 1)
        strays = 100 * stray / max(beyond, 1)
        print(
            f"| {labels[key]} | {miss:,.0f} of {reached:,.0f} ({missed:.2f} %) "
            f"| {stray:,.0f} of {beyond:,.0f} ({strays:.2f} %) "
            f"| {np.mean(deviations[key]):.1f} m |"
        )


def bench_api(name: str, area: Area, n: int) -> None:
    """``/api/isochrone`` in-process: the new handler against the previous one."""
    import orjson

    from webmap import create_app

    store = Path(tempfile.mkdtemp()) / "stations.gpkg"
    app = create_app(
        {
            "TESTING": True,
            "WARMHEART_AREA": area,
            "WARMHEART_STORE": str(store),
            "WARMHEART_RATELIMIT_ENABLED": False,
            "WARMHEART_PREPARE": False,
        }
    )
    client = app.test_client()
    state = app.extensions["warmheart"]
    points = origins(area, n, seed=2)
    print(f"\n### `/api/isochrone` on {name} (Flask test client, in-process)\n")
    print("| query | handler | wall p50 / p99 (ms) | CPU p50 / p99 (ms) | bytes p50 | CPU ratio |")
    print("|---|---|---|---|---|---|")
    for query in ("minutes=15", "minutes=5,10,15"):
        results = {}
        for label in ("new", "previous"):
            if label == "previous":
                state.isochrone = lambda lon, lat, *, minutes: previous_handler(
                    area, lon, lat, list(minutes)
                )
            else:
                state.__dict__.pop("isochrone", None)
            client.get(f"/api/isochrone?lon={points[0, 0]}&lat={points[0, 1]}&{query}")
            walls, cpus, sizes = [], [], []
            for i in range(n):
                url = f"/api/isochrone?lon={points[i, 0]:.6f}&lat={points[i, 1]:.6f}&{query}"
                wall, cpu, response = timed(lambda u=url: client.get(u))
                assert response.status_code == 200, response.data
                orjson.loads(response.data)
                walls.append(wall)
                cpus.append(cpu)
                sizes.append(len(response.data))
            results[label] = (walls, cpus, sizes)
            log(f"  api {query} {label}: p50 {p50(walls) * 1e3:.1f} ms")
        state.__dict__.pop("isochrone", None)
        base = p50(results["new"][1])
        for label, (walls, cpus, sizes) in results.items():
            print(
                f"| `{query}` | {label} | {stats(walls)} | {stats(cpus)} | "
                f"{int(np.median(sizes)):,} | {p50(cpus) / base:.1f}x |"
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=30, help="origins per area and budget")
    parser.add_argument(
        "--quality-origins", type=int, default=6, help="origins checked against the reference"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("WARMHEART_HOME", str(Path(tempfile.gettempdir()) / "wh-bench"))
    from routing import load_area
    from routing.presets import helsinki_pbf

    areas: list[tuple[str, Area, Path]] = [
        ("Helsinki sample", load_area("helsinki"), Path(helsinki_pbf()))
    ]
    if SHARED.is_file():
        areas.append(("Liechtenstein", load_area(SHARED), SHARED))
    else:
        log(f"{SHARED} not found: Liechtenstein skipped")
    print("<!-- markdown -->")
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the start; {args.origins} origins per budget "
        "(osmnx recipe at 30 min: a third); times per call, one budget per call."
    )
    for name, area, source in areas:
        bench_area(name, area, source, args.origins, args.quality_origins)
    bench_api(*areas[-1][:2], args.origins)
    print(f"\nLoad average at the end: {os.getloadavg()[0]:.1f}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
