"""Shared pieces of the coverage and siting benchmarks: timing, peak memory, a synthetic city.

* :func:`measure` — wall and CPU seconds of a call and the peak resident memory it added
  (the process's RSS sampled every 2 ms in a thread, so C/C++ allocations of the peers count
  too).
* :func:`grid_area` — an Area whose walk graph is a synthetic ``side`` x ``side`` street grid
  (links 40-120 m, 15 % missing, both ways, 4.5 km/h), built straight from arrays: a
  city-sized graph (10⁶ nodes) without a 3 GB networkx graph in between.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident memory of this process (MB)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * PAGE / 1e6


def measure(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, dict[str, float]]:
    """``(result, {"wall", "cpu", "peak_mb"})`` of ``fn(*args, **kwargs)``."""
    base = rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_mb())
            time.sleep(0.002)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    w0, c0 = time.perf_counter(), time.process_time()
    try:
        result = fn(*args, **kwargs)
    finally:
        w1, c1 = time.perf_counter(), time.process_time()
        done.set()
        thread.join()
    peak[0] = max(peak[0], rss_mb())
    return result, {"wall": w1 - w0, "cpu": c1 - c0, "peak_mb": peak[0] - base}


def load() -> str:
    """The 1-minute load average, for the figures' context."""
    return f"{os.getloadavg()[0]:.1f}"


def fmt(stats: dict[str, float]) -> str:
    """``wall / CPU / +peak`` as text."""
    return f"{stats['wall']:.3f} s wall / {stats['cpu']:.3f} s CPU / +{stats['peak_mb']:.0f} MB"


def grid_area(side: int, *, seed: int = 0) -> Any:
    """An :class:`~routing.Area` on a synthetic street grid (see the module notes)."""
    import networkx as nx
    from pyproj import Transformer
    from scipy import sparse

    from routing.area import Area
    from routing.edges import MIN_WEIGHT, build_edge_table
    from routing.network import GraphArrays
    from routing.settings import AreaSettings

    rng = np.random.default_rng(seed)
    crs = "EPSG:32650"  # UTM 50N: the grid sits over Beijing
    n = side * side
    ids = np.arange(n).reshape(side, side)
    gx, gy = np.meshgrid(np.arange(side) * 80.0, np.arange(side) * 80.0)
    x = 440_000.0 + gx.ravel() + rng.uniform(-15, 15, n)
    y = 4_400_000.0 + gy.ravel() + rng.uniform(-15, 15, n)
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = rng.random(a.size) > 0.15
    a, b = a[keep], b[keep]
    length = np.hypot(x[a] - x[b], y[a] - y[b]) * rng.uniform(1.0, 1.5, a.size)
    u = np.concatenate([a, b]).astype(np.intp)
    v = np.concatenate([b, a]).astype(np.intp)
    length = np.concatenate([length, length])
    speed = 4.5 / 3.6
    travel = length / speed
    time_csr = sparse.csr_matrix((np.maximum(travel, MIN_WEIGHT), (u, v)), shape=(n, n))
    length_csr = sparse.csr_matrix((np.maximum(length, MIN_WEIGHT), (u, v)), shape=(n, n))
    time_csr.sort_indices()
    length_csr.sort_indices()
    lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(x, y)
    lon, lat = np.asarray(lon), np.asarray(lat)
    geometry = np.empty(u.size, dtype=object)
    table = build_edge_table(
        u,
        v,
        np.zeros(u.size, dtype=np.int64),
        length,
        travel,
        geometry,
        node_xy=np.column_stack([x, y]),
        node_lonlat=np.column_stack([lon, lat]),
        csr=time_csr,
        crs=crs,
    )
    arrays = GraphArrays(
        np.arange(n, dtype=np.int64),
        x,
        y,
        lon,
        lat,
        time_csr,
        length_csr,
        table,
    )
    empty = nx.MultiDiGraph()
    area = Area(
        name=f"grid{side}",
        crs=crs,
        walk=empty,
        drive=empty,
        pois={},
        bounds=(float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())),
        settings=AreaSettings(),
        arrays={"walk": arrays},  # served from the arrays; the empty graphs are never read
    )
    return area


def random_stations(
    area: Any, count: int, *, seed: int = 1, jitter: float = 30.0, prefix: str = "b"
) -> list[Any]:
    """``count`` warm stations near random walk nodes of ``area``."""
    from stations import Station

    rng = np.random.default_rng(seed)
    arrays = area.arrays("walk")
    pick = rng.choice(arrays.n, size=count, replace=False)
    x = arrays.x[pick] + rng.uniform(-jitter, jitter, count)
    y = arrays.y[pick] + rng.uniform(-jitter, jitter, count)
    lon, lat = area.unproject(x, y)
    return [
        Station(id=f"{prefix}{i}", kind="warm_station", name=f"{prefix}{i}", lon=lon[i], lat=lat[i])
        for i in range(count)
    ]
