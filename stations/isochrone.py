"""Walking isochrones: the part of an Area reachable on foot within T minutes.

Method
------
1. The origin is snapped to its nearest walk-graph node; the straight leg to it is walked at
   the Area's walking speed and spent from every budget.
2. One bounded ``scipy.sparse.csgraph.dijkstra`` from that node gives the walking time to
   every node within the largest budget.
3. For each budget ``B``, every edge ``u -> w`` with ``time(u) < B`` is walked from ``u`` for
   the time left: in full when ``time(u) + t(u, w) <= B``, else the first
   ``(B - time(u)) / t(u, w)`` of its length (a partial edge, cut along the edge's own
   geometry).
4. The reached street pieces are buffered by ``buffer_m`` (the width of what you can reach
   from a street: a pavement, a square) and merged. Holes smaller than ``fill_holes_m2``
   (street blocks) are filled; larger ones (parks without paths, water) stay open.

This follows the streets, so a river without a bridge in reach stays outside the polygon,
which a convex or concave hull of reached nodes would jump across. If the snap leg alone
exceeds a budget, that budget's polygon is the disc walkable straight from the origin.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely import ops

from routing._errors import CoordinateError
from routing.paths import edge_shapes, network_speed

from ._query import format_distance

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from routing.area import Area
    from routing.network import GraphArrays

__all__ = ["MAX_ISOCHRONE_MINUTES", "isochrones"]

logger = logging.getLogger(__name__)

#: Longest isochrone (minutes) accepted.
MAX_ISOCHRONE_MINUTES = 240.0

_EDGE_GEOMS: weakref.WeakKeyDictionary[GraphArrays, NDArray[np.object_]] = (
    weakref.WeakKeyDictionary()
)


def isochrones(
    area: Area,
    lon: float,
    lat: float,
    *,
    minutes: Iterable[float] | float = (5, 10, 15),
    buffer_m: float = 25.0,
    fill_holes_m2: float = 5000.0,
    max_snap_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Polygons of the area reachable on foot from ``(lon, lat)`` within each of ``minutes``.

    Parameters
    ----------
    area
        The Area whose walk graph is walked.
    lon, lat
        The origin (WGS-84).
    minutes
        Time budgets in minutes (each in ``(0, 240]``); one polygon per budget.
    buffer_m
        Half-width (m) of the band around reached streets counted as reachable.
    fill_holes_m2
        Holes smaller than this (m²) are filled (street blocks); ``0`` keeps every hole.
    max_snap_m
        Largest straight distance (m) from the origin to the walk graph; defaults to the
        Area's ``snap_max_distance``.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``minutes``, ``area_km2`` and ``geometry`` (Polygon or MultiPolygon,
        EPSG:4326), one row per budget, ascending. ``attrs`` holds the origin, its snap
        distance and the method.

    Raises
    ------
    CoordinateError
        ``lon``/``lat`` NaN or out of range, or the origin off the map (farther than
        ``max_snap_m`` from every footpath).
    ValueError
        A budget outside ``(0, 240]`` minutes, or a negative ``buffer_m``.
    """
    budgets = _check_minutes(minutes)
    if not (math.isfinite(buffer_m) and buffer_m > 0):
        msg = f"Expected buffer_m > 0, got {buffer_m!r}"
        raise ValueError(msg)
    if max_snap_m is None:
        max_snap_m = float(getattr(area.settings, "snap_max_distance", 500.0))
    snapped = area.snap(lon, lat, network="walk", max_distance=max_snap_m)
    snap_m = float(snapped.distance[0])
    if not snapped.ok[0]:
        msg = (
            f"Expected an origin within {max_snap_m:.0f} m of a footpath, got "
            f"({lon}, {lat}): origin off the map, {format_distance(snap_m)} from the nearest "
            "footpath"
        )
        raise CoordinateError(msg)
    arrays = area.arrays("walk")
    speed = network_speed(area, "walk")[0]
    v = int(snapped.index[0])
    leg = snap_m / speed
    ox, oy = (float(c[0]) for c in area.project(lon, lat))
    origin_leg = shapely.LineString([(ox, oy), (arrays.x[v], arrays.y[v])])
    limit = max(budgets) * 60.0 - leg
    dist = dijkstra(arrays.time, indices=v, limit=limit) if limit > 0 else np.full(arrays.n, np.inf)
    csr = arrays.time
    rows = np.repeat(np.arange(arrays.n), np.diff(csr.indptr))
    geoms = _edge_geometries(area)
    polygons = []
    for minute in budgets:
        budget = minute * 60.0 - leg
        if budget <= 0:
            polygons.append(shapely.Point(ox, oy).buffer(minute * 60.0 * speed, quad_segs=8))
            continue
        start = dist[rows]
        reached = start < budget
        frac = np.zeros(len(rows))
        frac[reached] = np.minimum(1.0, (budget - start[reached]) / csr.data[reached])
        full = np.flatnonzero(frac >= 1.0)
        # A street walked both ways is one piece: keep each undirected full edge once.
        pair = np.sort(np.column_stack([rows[full], csr.indices[full]]), axis=1)
        _, first = np.unique(pair, axis=0, return_index=True)
        full = full[first]
        part = np.flatnonzero((frac > 0.0) & (frac < 1.0))
        pieces = list(geoms[full])
        for e in part.tolist():
            line = geoms[e]
            pieces.append(ops.substring(line, 0.0, frac[e] * line.length))
        pieces.append(origin_leg)
        # Buffer each piece, then one cascaded union: far faster in GEOS than buffering a
        # MultiLineString of thousands of overlapping parts.
        bands = shapely.buffer(np.asarray(pieces, dtype=object), buffer_m, quad_segs=4)
        merged = shapely.union_all(bands)
        polygons.append(_fill_holes(merged, fill_holes_m2))
    projected = gpd.GeoSeries(polygons, crs=area.crs)
    frame = gpd.GeoDataFrame(
        {
            "minutes": budgets,
            "area_km2": (projected.area / 1e6).round(4).to_numpy(),
        },
        geometry=projected.to_crs("EPSG:4326").to_numpy(),
        crs="EPSG:4326",
    )
    frame.attrs.update(
        {
            "origin": (float(lon), float(lat)),
            "snap_m": snap_m,
            "buffer_m": buffer_m,
            "method": "network edges reached within each budget (partial edges cut), "
            f"buffered by {buffer_m:g} m and merged",
        }
    )
    return frame


def _check_minutes(minutes: Iterable[float] | float) -> list[float]:
    values: list[Any] = [minutes] if isinstance(minutes, int | float | np.number) else list(minutes)
    if not values:
        msg = "Expected at least one budget in minutes, got none"
        raise ValueError(msg)
    out = []
    for value in values:
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and 0 < number <= MAX_ISOCHRONE_MINUTES):
            msg = f"Expected minutes in (0, {MAX_ISOCHRONE_MINUTES:g}], got {value!r}"
            raise ValueError(msg)
        out.append(number)
    return sorted(set(out))


def _fill_holes(geom: Any, max_hole_m2: float) -> Any:
    """Drop interior rings smaller than ``max_hole_m2``."""
    if max_hole_m2 <= 0 or geom.is_empty:
        return geom
    parts = list(geom.geoms) if isinstance(geom, shapely.MultiPolygon) else [geom]
    kept = []
    for poly in parts:
        holes = [r for r in poly.interiors if shapely.Polygon(r).area >= max_hole_m2]
        kept.append(shapely.Polygon(poly.exterior, holes))
    return kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)


def _edge_geometries(area: Area) -> NDArray[np.object_]:
    """Projected LineString of every CSR edge of the walk graph, oriented ``u -> w``.

    From :func:`routing.paths.edge_shapes` (edge geometry where present, else straight);
    built once per Area and cached.
    """
    arrays = area.arrays("walk")
    cached = _EDGE_GEOMS.get(arrays)
    if cached is None:
        cached = edge_shapes(area, "walk").lines(arrays, np.arange(arrays.time.nnz))
        _EDGE_GEOMS[arrays] = cached
    return cached
