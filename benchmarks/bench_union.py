"""Benchmark: a union's station list (Chinese headers, words, hours, GCJ-02) read and exported.

Prints figures only; asserts nothing. A city's list (10,000 rows by default) with the
headers 序号,驿站名称,地址,经度,纬度,开放时间,服务设施,联系电话,所属街道, GCJ-02 positions on the
Zhongguancun extract (../shared/osm; the area checks are skipped without it), the issue's
Chinese hours and service words, as CSV (UTF-8 with BOM) and XLSX.

Side by side with pandas (``read_csv`` / ``read_excel``, ``to_csv`` / ``to_excel`` with
openpyxl): what a user would otherwise script, which reads the cells but maps no column,
reads no hours or words, converts no coordinates and checks nothing. The ratio is the price
of the checks; wall and CPU seconds, one run each (best of ``--repeat``).

Usage::

    .venv/bin/python benchmarks/bench_union.py [--rows 10000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the union sheet's patterns, shared with its tests

from routing import load_area  # noqa: E402
from routing.coords import wgs84_to_gcj02  # noqa: E402
from stations.io import export_stations, read_stations  # noqa: E402
from tests.stations.test_union_sheet import HEADERS, HOURS, SERVICES  # noqa: E402

SHARED = ROOT.parent / "shared" / "osm" / "beijing_haidian_zhongguancun.osm.bz2"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best wall and CPU seconds of ``repeat`` runs, and the last result."""
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu, out


def make_rows(n: int, bounds: tuple[float, float, float, float]) -> list[list[Any]]:
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = bounds
    lon, lat = wgs84_to_gcj02(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))
    return [
        [
            i,
            f"第{i}号暖心驿站",
            f"北京市海淀区中关村大街{i}号",
            round(float(lon[i - 1]), 8),
            round(float(lat[i - 1]), 8),
            HOURS[i % len(HOURS)][0],
            SERVICES[i % len(SERVICES)][0],
            13800000000 + i,
            "海淀街道",
        ]
        for i in range(1, n + 1)
    ]


def write_inputs(rows: list[list[Any]], folder: Path) -> tuple[Path, Path]:
    from openpyxl import Workbook

    csv_path = folder / "驿站.csv"
    with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("驿站")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    xlsx_path = folder / "驿站.xlsx"
    book.save(xlsx_path)
    return csv_path, xlsx_path


def main() -> None:
    parser = argparse.ArgumentParser(description="Union station list benchmark")
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    import pandas as pd

    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    area = None
    bounds = (116.3084, 39.9905, 116.3320, 40.0123)
    if SHARED.is_file():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            area = load_area(str(SHARED))
        bounds = area.bounds
    rows = make_rows(args.rows, bounds)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path, xlsx_path = write_inputs(rows, folder)
        print(f"\n## Reading {args.rows:,} rows (best of {args.repeat}; seconds)")
        print(f"{'file':6s} {'step':44s} {'wall':>7s} {'cpu':>7s} {'vs pandas':>10s}")
        for label, path, peer in (
            ("csv", csv_path, lambda: pd.read_csv(csv_path, encoding="utf-8-sig")),
            ("xlsx", xlsx_path, lambda: pd.read_excel(xlsx_path, engine="openpyxl")),
        ):
            pw, pc, _ = timed(peer, args.repeat)
            print(
                f"{label:6s} {'pandas (cells only, no checks)':44s} {pw:7.2f} {pc:7.2f} "
                f"{'1.0':>10s}"
            )
            steps: list[tuple[str, Callable[[], Any]]] = [
                (
                    "warmheart: map, interpret, convert, validate",
                    lambda p=path: read_stations(p, crs="gcj02", kind="warm_station"),
                )
            ]
            if area is not None:
                steps.append(
                    (
                        "  + area checks (datum, off-area rows)",
                        lambda p=path: read_stations(
                            p, crs="gcj02", kind="warm_station", area=area
                        ),
                    )
                )
            for name, fn in steps:
                w, c, report = timed(fn, args.repeat)
                assert report.ok, report.summary()
                print(f"{label:6s} {name:44s} {w:7.2f} {c:7.2f} {w / pw:9.1f}x")
        report = read_stations(csv_path, crs="gcj02", kind="warm_station")
        stations = report.stations
        print(
            f"\n## Writing {len(stations):,} stations for people (best of {args.repeat}; seconds)"
        )
        print(f"{'file':24s} {'warmheart wall':>15s} {'pandas wall':>12s} {'ratio':>7s}")
        frame = pd.DataFrame([s.to_record() for s in stations])
        for label, out, peer in (
            (
                "CSV for Excel (BOM)",
                folder / "out.csv",
                lambda: frame.to_csv(folder / "p.csv", index=False, encoding="utf-8-sig"),
            ),
            ("XLSX", folder / "out.xlsx", lambda: frame.to_excel(folder / "p.xlsx", index=False)),
        ):
            w, _, _ = timed(lambda o=out: export_stations(stations, o, excel=True), args.repeat)
            pw, _, _ = timed(peer, args.repeat)
            print(f"{label:24s} {w:15.2f} {pw:12.2f} {w / pw:6.1f}x")
        changed = {(f, a) for _, f, a, _ in report.changes if f == "opening_hours"}
        print(
            f"\nChinese hours read: {sum(1 for c in report.changes if c[1] == 'opening_hours'):,} "
            f"cells ({len(changed)} distinct texts); amenity cells rewritten: "
            f"{sum(1 for c in report.changes if c[1] == 'amenities'):,}"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
