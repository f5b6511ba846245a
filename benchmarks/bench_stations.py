"""Benchmark: the station registry (GeoPackage store, import/export) and the offset check.

Prints figures only; asserts nothing.

1. Store: add N stations in one transaction, single-row writes, get by id, bbox/kind/amenity
   queries (p50), side by side with the in-memory store; import/export of N stations as CSV,
   GeoJSON and GeoPackage.
2. Reads at Beijing scale: ``all()`` on N stations through the store's trusted reader side
   by side with validating every row again (what the store did before), and "write one
   station, then query nearest" latency of a Locator following the store (on the walk graph
   of ../shared/osm/beijing_haidian_zhongguancun.osm.bz2; skipped when absent).
(The coordinate-system check on real POIs is ``bench_datum.py``.)

Usage::

    .venv/bin/python benchmarks/bench_stations.py [--n 10000]

Data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from stations import GeoPackageStore, MemoryStore, Station
from stations.io import export_stations, import_stations

ROOT = Path(__file__).resolve().parent.parent
SHARED_OSM = ROOT.parent / "shared" / "osm"


def make_stations(
    n: int, seed: int = 1, bounds: tuple[float, float, float, float] = (116.2, 39.8, 116.6, 40.1)
) -> list[Station]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = bounds
    kinds = ("warm_station", "nursing_room", "shuttle_stop")
    amen = ("microwave", "toilet", "drinking_water", "rest_seats", "fridge", "sofa")
    return [
        Station(
            id=f"b{i:06d}",
            kind=kinds[i % 3],
            name=f"驿站 {i}",
            names={"en": f"Station {i}"},
            lon=float(x0 + rng.random() * (x1 - x0)),
            lat=float(y0 + rng.random() * (y1 - y0)),
            amenities=frozenset(a for a in amen if rng.random() < 0.5),
            opening_hours="Mo-Fr 08:00-18:00",
        )
        for i in range(n)
    ]


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def p50_ms(fn: Callable[[], Any], n: int = 50) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def bench_store(n: int) -> None:
    items = make_stations(n)
    print(f"\n## Store, {n:,} stations (Beijing-sized bbox)")
    print(f"{'operation':38s} {'GeoPackage':>12s} {'memory':>12s} {'ratio':>7s}")
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = GeoPackageStore(Path(tmp) / "s.gpkg")
        mem = MemoryStore()
        rows: list[tuple[str, float, float]] = []
        t_g, _ = timed(lambda: gpkg.add(items))
        t_m, _ = timed(lambda: mem.add(items))
        rows.append((f"add {n:,} in one transaction (s)", t_g, t_m))
        extra = make_stations(200, seed=2)
        extra = [s.replace(id=f"x{i}") for i, s in enumerate(extra)]
        t_g, _ = timed(lambda: [gpkg.add(s) for s in extra[:100]])
        t_m, _ = timed(lambda: [mem.add(s) for s in extra[:100]])
        rows.append(("100 single-row commits (s)", t_g, t_m))
        small = (116.39, 39.90, 116.41, 39.92)
        for label, kwargs in (
            ("get by id (ms, p50)", None),
            ("query bbox 2x2 km (ms, p50)", {"bbox": small}),
            ("query kind + amenity (ms, p50)", {"kinds": "nursing_room", "amenities": "fridge"}),
            ("query bbox, limit 20 (ms, p50)", {"bbox": small, "limit": 20}),
        ):
            if kwargs is None:
                g = p50_ms(lambda: gpkg.get("b000123"))
                m = p50_ms(lambda: mem.get("b000123"))
            else:
                g = p50_ms(lambda kw=kwargs: gpkg.query(**kw), 20)  # type: ignore[misc]
                m = p50_ms(lambda kw=kwargs: mem.query(**kw), 20)  # type: ignore[misc]
            rows.append((label, g, m))
        rows.append(
            ("revision read (ms, p50)", p50_ms(lambda: gpkg.revision), p50_ms(lambda: mem.revision))
        )
        for label, g, m in rows:
            ratio = g / m if m > 0 else float("nan")
            print(f"{label:38s} {g:12.4f} {m:12.4f} {ratio:7.1f}")
        print(f"\n## Import / export, {n:,} stations (seconds)")
        print(f"{'format':10s} {'export':>8s} {'import':>8s} {'size MB':>8s}")
        for suffix in (".csv", ".geojson", ".gpkg"):
            path = Path(tmp) / f"out{suffix}"
            t_e, _ = timed(lambda p=path: export_stations(items, p))  # type: ignore[misc]
            t_i, _ = timed(lambda p=path: import_stations(p, MemoryStore()))  # type: ignore[misc]
            print(f"{suffix[1:]:10s} {t_e:8.2f} {t_i:8.2f} {path.stat().st_size / 1e6:8.2f}")
        gpkg.close()


def _validated_all(store: GeoPackageStore) -> list[Station]:
    """``all()`` the way the store read rows before the trusted reader: validate each again."""
    import json

    from stations import _gpkg
    from stations.geopackage import _NAMES, _SELECT

    out = []
    for row in store._connect().execute(f"{_SELECT} ORDER BY s.id"):
        lon, lat = _gpkg.decode_point(row[0])
        values = dict(zip(_NAMES, row[1:], strict=True))
        for key in ("names", "amenities", "seven_have"):
            values[key] = json.loads(values[key]) if values[key] else None
        out.append(Station(lon=lon, lat=lat, **values))
    return out


class _WholeReads:
    """A store seen without ``changes_since``: the locator re-reads ``all()`` per write."""

    def __init__(self, store: GeoPackageStore) -> None:
        self.store = store

    @property
    def revision(self) -> int:
        return self.store.revision

    def all(self) -> list[Station]:
        return self.store.all()


def bench_reads(n: int) -> None:
    from routing import load_area
    from stations.locate import Locator

    print(f"\n## Reading {n:,} stations back (s, best of 3)")
    with tempfile.TemporaryDirectory() as tmp:
        gpkg = GeoPackageStore(Path(tmp) / "r.gpkg")
        gpkg.add(
            [
                s.replace(
                    opening_hours=f"Mo-Fr {7 + i % 3:02d}:{i % 60:02d}-18:00; "
                    f"Sa 09:00-{12 + i % 6}:00; PH off",
                    updated_at=f"2026-11-{1 + i % 20:02d}T08:00:00Z",
                )
                for i, s in enumerate(make_stations(n))
            ]
        )
        t_trusted, got = timed(gpkg.all, 3)
        t_valid, again = timed(lambda: _validated_all(gpkg), 3)
        assert got == again
        print(f"{'all(), trusted reader (now)':38s} {t_trusted:8.3f}")
        print(f"{'all(), validating every row (before)':38s} {t_valid:8.3f}")
        print(f"{'ratio':38s} {t_valid / t_trusted:8.1f}")
        gpkg.close()
    source = SHARED_OSM / "beijing_haidian_zhongguancun.osm.bz2"
    if not source.is_file():
        print("(write-then-query skipped: ../shared/osm absent)")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(str(source))
    rng = np.random.default_rng(7)
    print(f"\n## Write one station, then query nearest ({n:,} stations, {source.name})")
    with tempfile.TemporaryDirectory() as tmp:
        store = GeoPackageStore(Path(tmp) / "w.gpkg")
        store.add(make_stations(n, bounds=area.bounds))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_build, locator = timed(lambda: Locator(area, store))
            t_prep, _ = timed(locator.prepare)
            whole = Locator(area, _WholeReads(store))  # the same, re-reading all() per write
            whole.prepare()
        print(f"locator build + labels for every kind: {t_build + t_prep:.2f} s")
        x0, y0, x1, y1 = area.bounds
        new = make_stations(30, seed=3, bounds=area.bounds)
        writes: dict[str, list[float]] = {"add": [], "update": [], "delete": []}
        rereads: dict[str, list[float]] = {"add": [], "update": [], "delete": []}
        quiet: list[float] = []
        for i, st in enumerate(new[:10]):
            st = st.replace(id=f"w{i:03d}")
            lon, lat = float(x0 + rng.random() * (x1 - x0)), float(y0 + rng.random() * (y1 - y0))
            for op, write in (
                ("add", lambda s=st: store.add(s)),
                ("update", lambda s=st: store.update(s.replace(name=s.name + " *"))),
                ("delete", lambda s=st: store.delete(s.id)),
            ):
                write()
                t = time.perf_counter()
                answer = locator.nearest(lon, lat, k=3)
                writes[op].append(time.perf_counter() - t)
                t = time.perf_counter()
                again = whole.nearest(lon, lat, k=3)
                rereads[op].append(time.perf_counter() - t)
                assert [h.station for h in answer.hits] == [h.station for h in again.hits]
            t = time.perf_counter()
            locator.nearest(lon, lat, k=3)
            quiet.append(time.perf_counter() - t)
        print(
            f"{'next nearest() after':24s} {'changes_since p50/max ms':>26s} "
            f"{'re-read all() p50/max ms':>26s} {'ratio':>6s}"
        )
        for op in writes:
            a, b = np.asarray(writes[op]) * 1e3, np.asarray(rereads[op]) * 1e3
            print(
                f"{op:24s} {np.median(a):17.1f} {a.max():8.1f} {np.median(b):17.1f} "
                f"{b.max():8.1f} {np.median(b) / np.median(a):6.1f}"
            )
        ms = np.asarray(quiet) * 1e3
        print(f"{'no write':24s} {np.median(ms):17.1f} {ms.max():8.1f}")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Station registry benchmark")
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    bench_store(args.n)
    bench_reads(args.n)


if __name__ == "__main__":
    main()
