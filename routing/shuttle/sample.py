"""Deterministic sample riders, workplace and fleet for any Area (demo, tests, benchmarks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import shapely

from .model import BusType, Fleet, Rider

if TYPE_CHECKING:
    from routing.area import Area

__all__ = ["sample_fleet", "sample_riders", "sample_workplace"]


def sample_workplace(
    area: Area,
    *,
    radius_m: float = 300.0,
    riders: Sequence[Rider] | None = None,
    beyond_m: float = 600.0,
) -> tuple[float, float]:
    """A workplace on the drive graph: the centre of the densest office cluster.

    With ``riders``, the office most of them live farther than ``beyond_m`` from (straight
    line, a lower bound on the walk), then the densest: a workplace the sample riders cannot
    all walk to, so a sample plan has riders to bus (in a small area such as the Helsinki
    sample most homes are a short walk from the main office cluster). Falls back to the
    drive-graph node nearest the Area's centre when it has no offices. Always returns a
    drive-graph node's position, so the workplace is on the road network.
    """
    drive = area.arrays("drive")
    offices = area.pois.get("offices")
    if offices is not None and len(offices):
        pts = offices.geometry.representative_point()
        x, y = area.project(pts.x.to_numpy(), pts.y.to_numpy())
        xy = np.column_stack([x, y])
        from scipy.spatial import cKDTree

        tree = cKDTree(xy)
        density = np.array([len(v) for v in tree.query_ball_point(xy, radius_m)], dtype=float)
        score = density
        if riders:
            hx, hy = area.project(
                np.array([r.lon for r in riders]), np.array([r.lat for r in riders])
            )
            homes = cKDTree(np.column_stack([hx, hy]))
            near = np.array([len(v) for v in homes.query_ball_point(xy, beyond_m)], dtype=float)
            score = (len(riders) - near) * (density.max() + 1) + density
        best = int(np.argmax(score))
        idx, _ = drive.nearest(xy[best, 0], xy[best, 1])
    else:
        min_lon, min_lat, max_lon, max_lat = area.bounds
        cx, cy = area.project((min_lon + max_lon) / 2, (min_lat + max_lat) / 2)
        idx, _ = drive.nearest(cx, cy)
    i = int(idx[0])
    return float(drive.lon[i]), float(drive.lat[i])


def sample_riders(
    area: Area,
    n: int,
    *,
    seed: int = 0,
    short_ride_share: float = 0.05,
    short_ride_s: int = 30 * 60,
    workplace: tuple[float, float] | None = None,
) -> list[Rider]:
    """``n`` riders living in the Area's residential buildings, reproducibly.

    Homes are random points inside residential buildings (falling back to residential land
    use, then to walk-graph nodes when the Area maps neither). ``short_ride_share`` of the
    riders get a personal limit of ``short_ride_s`` (say, a rider 8 months pregnant).
    """
    if n < 0:
        msg = f"Expected a rider count >= 0, got {n}"
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    polys = None
    for layer in ("residential_buildings", "residential_areas"):
        gdf = area.pois.get(layer)
        if gdf is not None and len(gdf):
            geoms = gdf.geometry[gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"])]
            if len(geoms):
                polys = geoms.to_crs(area.crs).to_numpy()
                break
    if polys is not None:
        weights = np.sqrt(np.maximum(shapely.area(polys), 1.0))
        pick = rng.choice(len(polys), size=n, p=weights / weights.sum())
        xs = np.empty(n)
        ys = np.empty(n)
        for k, g in enumerate(pick):
            poly = polys[g]
            minx, miny, maxx, maxy = poly.bounds
            for _ in range(30):
                px, py = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
                if poly.contains(shapely.Point(px, py)):
                    break
            else:
                p = poly.representative_point()
                px, py = p.x, p.y
            xs[k], ys[k] = px, py
        lon, lat = area.unproject(xs, ys)
    else:
        walk = area.arrays("walk")
        pick = rng.choice(walk.n, size=n)
        lon, lat = walk.lon[pick], walk.lat[pick]
    short = rng.random(n) < short_ride_share
    return [
        Rider(
            id=f"r{k + 1:05d}",
            lon=round(float(lon[k]), 7),
            lat=round(float(lat[k]), 7),
            workplace=workplace,
            max_ride_s=short_ride_s if short[k] else None,
        )
        for k in range(n)
    ]


def sample_fleet(n_riders: int, *, spare: float = 1.5) -> Fleet:
    """30- and 50-seat buses with seats for ``spare`` times the riders (at least one each)."""
    seats_needed = max(1, int(np.ceil(n_riders * spare)))
    n50 = max(1, int(np.ceil(seats_needed * 0.6 / 50)))
    n30 = max(1, int(np.ceil(seats_needed * 0.4 / 30)))
    return Fleet(
        (
            BusType("bus30", 30, n30, fixed_cost=300.0, cost_per_km=3.0, cost_per_hour=60.0),
            BusType("bus50", 50, n50, fixed_cost=400.0, cost_per_km=4.0, cost_per_hour=70.0),
        )
    )
