"""Benchmark: the undeclared-datum check (routing.datum.check_offset) on real OSM POIs.

Prints figures only; asserts nothing. Data © OpenStreetMap contributors (ODbL), read from
../shared/osm (skipped when absent).

1. **Whole POI sets**: every POI layer of every extract's Area (hosts, bus stops, offices,
   residential buildings and areas, buildings) and every group of raw OSM POIs read straight
   from the XML files (amenity, shop, other, public transport, ways), with at least 5 points
   inside the Area. Given as mapped (WGS-84) and undeclared, a refusal is a false alarm; the
   margin is how far the best other reading stayed below the threshold. Converted to GCJ-02 /
   BD-09 and undeclared, a refusal naming that system is a detection.
2. **Small lists**: random draws of 5, 8, 20 and 200 places (amenity/shop/other POIs, the kind
   of business that hosts a station) from each Chinese extract: false-alarm and detection
   rates, side by side with the check as it was before (median distance to the nearest walk
   *node* against rotated controls, declared reading only warned).
3. **Time** of one check for 5, 200 and 10,000 points (CPU and wall).

Usage::

    .venv/bin/python benchmarks/bench_datum.py [--draws 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests._osm_pois: the independent raw-OSM reader

from routing import load_area  # noqa: E402
from routing.coords import CRS_NAMES, in_china, to_wgs84, wgs84_to_bd09, wgs84_to_gcj02  # noqa: E402
from routing.datum import check_offset  # noqa: E402
from tests._osm_pois import PLACE_GROUPS, inside, read_osm_pois  # noqa: E402

SHARED_OSM = ROOT.parent / "shared" / "osm"
SIZES = (5, 8, 20, 200)


def check_before(lon: np.ndarray, lat: np.ndarray, area: Any) -> str | None:
    """The check as it was before this change (node distances, medians, rotated controls)."""
    ok = in_china(lon, lat)
    x, y = lon[ok], lat[ok]
    if x.size < 5:
        return None
    arrays = area.arrays("walk")

    def med(px: np.ndarray, py: np.ndarray) -> float:
        return float(np.median(arrays.nearest(px, py)[1]))

    proj = {r: area.project(*to_wgs84(x, y, r)) for r in CRS_NAMES}
    medians = {r: med(*proj[r]) for r in CRS_NAMES}
    bx, by = proj["wgs84"]
    better = []
    for r in ("gcj02", "bd09"):
        dx, dy = float(np.mean(proj[r][0] - bx)), float(np.mean(proj[r][1] - by))
        found = []
        for k in range(1, 12):
            a = 2 * np.pi * k / 12
            found.append(
                med(bx + dx * np.cos(a) - dy * np.sin(a), by + dx * np.sin(a) + dy * np.cos(a))
            )
        beaten = float(np.mean(medians[r] < np.asarray(found))) >= 0.75
        if beaten and medians[r] < 0.8 * medians["wgs84"] and medians[r] < 0.8 * np.median(found):
            better.append(r)
    return min(better, key=lambda r: medians[r]) if better else "wgs84"


def poi_sets(path: Path, area: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    sets = {}
    for layer, frame in area.pois.items():
        if len(frame) >= 5:
            pt = frame.geometry.representative_point()
            sets[f"layer:{layer}"] = (pt.x.to_numpy(), pt.y.to_numpy())
    if path.suffix == ".bz2":
        pois = inside(read_osm_pois(path), area.bounds)
        for group in sorted({p.group for p in pois}):
            chosen = [p for p in pois if p.group == group]
            if len(chosen) >= 5:
                sets[f"osm:{group}"] = (
                    np.array([p.lon for p in chosen]),
                    np.array([p.lat for p in chosen]),
                )
    return sets


def bench_whole_sets(areas: dict[str, Any]) -> None:
    print("\n## Whole real POI sets (undeclared)")
    print(
        f"{'extract':38s} {'set':24s} {'n':>5s} {'wgs84 as given':>15s} {'margin':>7s} "
        f"{'gcj02':>6s} {'bd09':>6s}"
    )
    false_alarms = compared = total = detected = converted = over = 0
    margins = []
    elsewhere: list[str] = []
    for name, (path, area) in areas.items():
        for label, (lon, lat) in poi_sets(path, area).items():
            total += 1
            as_given = check_offset(lon, lat, area)
            gcj = check_offset(*wgs84_to_gcj02(lon, lat), area)
            bd = check_offset(*wgs84_to_bd09(lon, lat), area)
            if as_given.n_points == 0:  # outside China: no offset exists there
                elsewhere.append(f"{name} {label}")
                continue
            verdict = "-" if as_given.likely is None else ("REFUSED" if as_given.refused else "ok")
            margin = ""
            if as_given.likely is not None:
                compared += 1
                false_alarms += as_given.refused
                best = max(v for k, v in as_given.score.items() if k != "wgs84")
                margins.append(best / as_given.threshold)
                over += best > as_given.threshold
                margin = f"{best / as_given.threshold:7.2f}"
            for check, want in ((gcj, "gcj02"), (bd, "bd09")):
                if check.likely is not None:
                    converted += 1
                    detected += check.refused and check.likely == want
            print(
                f"{name:38s} {label:24s} {as_given.n_points:5d} {verdict:>15s} {margin:>7s} "
                f"{gcj.likely or '-':>6s} {bd.likely or '-':>6s}"
            )
    print(
        f"\nPOI sets: {total}; outside China (no offset there, no verdict): {len(elsewhere)}; "
        f"with a verdict (>= 5 points in China): {compared}; false alarms (WGS-84 refused): "
        f"{false_alarms}"
    )
    if margins:
        print(
            f"margin: the best other reading scored at most {max(margins):.2f} x the threshold "
            f"(median {np.median(margins):.2f} x); {over} sets scored over the threshold and "
            "were let through by the control shifts"
        )
    print(f"converted sets refused naming the right system: {detected}/{converted}")


def bench_small_lists(areas: dict[str, Any], draws: int) -> None:
    print(f"\n## Small lists of real places ({draws} random draws per size)")
    print(f"{'':43s} {'now':^21s} {'before':^21s}")
    print(
        f"{'extract':38s} {'n':>4s} {'false alarm':>11s} {'GCJ-02 caught':>13s} "
        f"{'false alarm':>11s} {'GCJ-02 caught':>13s} {'ratio':>6s}"
    )
    rng = np.random.default_rng(7)
    for name, (path, area) in areas.items():
        if path.suffix != ".bz2" or not in_china(*area.bounds[:2]).all():
            continue
        pois = [p for p in inside(read_osm_pois(path), area.bounds) if p.group in PLACE_GROUPS]
        lon = np.array([p.lon for p in pois])
        lat = np.array([p.lat for p in pois])
        for n in SIZES:
            if len(pois) < n:
                continue
            fa = det = before = before_fa = 0
            for _ in range(draws):
                pick = rng.choice(len(pois), n, replace=False)
                x, y = lon[pick], lat[pick]
                fa += check_offset(x, y, area).refused
                before_fa += check_before(x, y, area) not in ("wgs84", None)
                gx, gy = wgs84_to_gcj02(x, y)
                det += check_offset(gx, gy, area).refused
                before += check_before(gx, gy, area) == "gcj02"
            ratio = f"{det / before:6.1f}" if before else "   inf" if det else "     -"
            print(
                f"{name:38s} {n:4d} {fa:>5d}/{draws:<3d} {det:>7d}/{draws:<3d} "
                f"{before_fa:>5d}/{draws:<3d} {before:>7d}/{draws:<3d} {ratio}"
            )


def bench_time(areas: dict[str, Any]) -> None:
    name = "beijing_haidian_zhongguancun.osm.bz2"
    if name not in areas:
        return
    _, area = areas[name]
    x0, y0, x1, y1 = area.bounds
    rng = np.random.default_rng(3)
    print(f"\n## Time of one check ({name})")
    print(f"{'points':>8s} {'wall ms':>9s} {'CPU ms':>9s}")
    for n in (5, 200, 10_000):
        lon, lat = wgs84_to_gcj02(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))
        check_offset(lon, lat, area)
        w, c = time.perf_counter(), time.process_time()
        check_offset(lon, lat, area)
        print(
            f"{n:8d} {(time.perf_counter() - w) * 1e3:9.1f} {(time.process_time() - c) * 1e3:9.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Datum check benchmark")
    parser.add_argument("--draws", type=int, default=100)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    if not SHARED_OSM.is_dir():
        print("(skipped: ../shared/osm absent)")
        return
    areas = {}
    for path in sorted(SHARED_OSM.glob("*.osm*")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            areas[path.name] = (path, load_area(str(path)))
    bench_whole_sets(areas)
    bench_small_lists(areas, args.draws)
    bench_time(areas)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
