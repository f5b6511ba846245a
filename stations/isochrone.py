"""Walking isochrones: the part of an Area reachable on foot within T minutes.

Method
------
1. The origin is located on its nearest walk *edge* (:meth:`routing.Area.locate`); the
   straight leg to its projection is walked at the Area's walking speed.
2. One bounded ``scipy.sparse.csgraph.dijkstra`` from a virtual source joined to both ends
   of that edge (the head with the rest of the edge, the tail through the reverse edge where
   walking allows) gives the door-to-node time of every node within the largest budget.
3. For each budget ``B``, **every directed edge** ``u -> v`` of the edge table (parallel
   edges, loops and self-loops included) is walked from its tail for the time left: in full
   when ``time(u) + t(u, v) <= B``, else the first ``(B - time(u)) / t(u, v)`` of its
   geometry. A two-way street is its two directed edges, so it is walked from both ends.
   The origin's own edge is walked from the origin's projection in both directions.
4. The reached pieces (and the origin's straight leg) are painted onto a grid as a distance
   field: each grid node holds its exact distance to the nearest reached piece (compiled,
   :mod:`stations._isogrid`). The polygon is the contour of that field at ``buffer_m``
   (contourpy), i.e. everything within ``buffer_m`` of a reached street piece, traced to a
   fraction of a cell. Holes smaller than ``fill_holes_m2`` (street blocks) are filled;
   larger ones (parks without paths, water) stay open.

The grid spacing is ``buffer_m / 4`` (6.25 m by default), coarser only when the reached
extent would exceed :data:`MAX_GRID_CELLS` nodes a side; budgets share one grid, each
contoured on the window its pieces cover. This follows the streets, so a river without a
bridge in reach stays outside the polygon, which a hull of reached nodes would jump across.

Off the streets, the origin stands in open space as wide as its leg (no street is nearer):
the disc of that radius around it is walkable straight and part of every polygon whose
budget covers the leg; a budget shorter than the leg is the disc it allows. So the polygons
nest: a place inside one budget's polygon is inside every larger budget's.
"""

from __future__ import annotations

import itertools
import logging
import math
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from routing._errors import CoordinateError
from routing.paths import network_speed

from ._query import format_distance

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from routing.area import Area
    from routing.edges import EdgePoints, EdgeTable
    from routing.network import GraphArrays

__all__ = [
    "CELLS_PER_BUFFER",
    "MAX_GRID_CELLS",
    "MAX_ISOCHRONE_MINUTES",
    "SIMPLIFY_M",
    "isochrones",
    "isochrones_geojson",
]

logger = logging.getLogger(__name__)

#: Longest isochrone (minutes) accepted.
MAX_ISOCHRONE_MINUTES = 240.0
#: Grid spacing as a fraction of ``buffer_m`` (6.25 m for the default 25 m band).
CELLS_PER_BUFFER = 4
#: Grid nodes along one side of the raster beyond which the cell grows (up to half of
#: ``buffer_m``, using up to four times as many nodes to stay there).
MAX_GRID_CELLS = 1024
#: Douglas-Peucker tolerance (m) of the traced boundary.
SIMPLIFY_M = 1.0

_BOXES: weakref.WeakKeyDictionary[EdgeTable, NDArray[np.float64]] = weakref.WeakKeyDictionary()


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
        EPSG:4326), one row per budget, ascending. ``attrs`` holds the origin, its distance
        to the street (``snap_m``), ``buffer_m``, ``fill_holes_m2``, the grid spacing
        ``cell_m`` and the method.

    Raises
    ------
    CoordinateError
        ``lon``/``lat`` NaN or out of range, or the origin off the map (farther than
        ``max_snap_m`` from every footpath).
    ValueError
        A budget outside ``(0, 240]`` minutes, a ``buffer_m`` that is not positive, a
        ``fill_holes_m2`` that is not finite, a negative ``max_snap_m``, or a ``buffer_m``
        too thin for the raster of so large an isochrone (the message says the least).
    """
    result = _isochrones(
        area,
        lon,
        lat,
        minutes,
        buffer_m=buffer_m,
        fill_holes_m2=fill_holes_m2,
        max_snap_m=max_snap_m,
    )
    frame = gpd.GeoDataFrame(
        {
            "minutes": result.minutes,
            "area_km2": result.area_km2,
            "geometry": gpd.array.GeometryArray(result.lonlat, crs=_wgs84()),
        },
        geometry="geometry",
    )
    frame.attrs.update(result.attrs)
    return frame


def isochrones_geojson(
    area: Area,
    lon: float,
    lat: float,
    *,
    minutes: Iterable[float] | float = (5, 10, 15),
    buffer_m: float = 25.0,
    fill_holes_m2: float = 5000.0,
    max_snap_m: float | None = None,
) -> dict[str, Any]:
    """:func:`isochrones` as an RFC 7946 FeatureCollection, largest budget first.

    Each Feature carries ``minutes`` and ``area_km2``; coordinates are rounded to 7 decimals
    (about 1 cm), and snapped with ``shapely.set_precision`` instead should rounding ever
    make a polygon invalid. What ``/api/isochrone`` returns, built without a GeoDataFrame.
    Parameters and errors as for :func:`isochrones`.
    """
    result = _isochrones(
        area,
        lon,
        lat,
        minutes,
        buffer_m=buffer_m,
        fill_holes_m2=fill_holes_m2,
        max_snap_m=max_snap_m,
    )
    features = []
    for i in range(len(result.minutes) - 1, -1, -1):
        minute = result.minutes[i]
        features.append(
            {
                "type": "Feature",
                "geometry": _geojson_geometry(_rounded(result.lonlat[i])),
                "properties": {
                    "minutes": int(minute) if minute.is_integer() else minute,
                    "area_km2": float(result.area_km2[i]),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class _Result:
    minutes: list[float]
    area_km2: NDArray[np.float64]
    lonlat: NDArray[np.object_]
    attrs: dict[str, Any]


def _isochrones(
    area: Area,
    lon: float,
    lat: float,
    minutes: Iterable[float] | float,
    *,
    buffer_m: float,
    fill_holes_m2: float,
    max_snap_m: float | None,
) -> _Result:
    """Check the input, walk, paint and trace: the polygons of :func:`isochrones`."""
    budgets = _check_minutes(minutes)
    if not (math.isfinite(buffer_m) and buffer_m > 0):
        msg = f"Expected buffer_m > 0, got {buffer_m!r}"
        raise ValueError(msg)
    if not math.isfinite(fill_holes_m2):
        msg = f"Expected a finite fill_holes_m2, got {fill_holes_m2!r}"
        raise ValueError(msg)
    if max_snap_m is None:
        max_snap_m = float(getattr(area.settings, "snap_max_distance", 500.0))
    if not max_snap_m >= 0:
        msg = f"Expected max_snap_m >= 0, got {max_snap_m!r}"
        raise ValueError(msg)
    x, y = area.project(lon, lat)
    origin = area.locate(x, y, network="walk", max_distance=max_snap_m, projected=True)
    snap_m = float(origin.distance[0])
    if not origin.ok[0]:
        msg = (
            f"Expected an origin within {max_snap_m:.0f} m of a footpath, got "
            f"({lon}, {lat}): origin off the map, {format_distance(snap_m)} from the nearest "
            "footpath"
        )
        raise CoordinateError(msg)
    arrays = area.arrays("walk")
    speed = network_speed(area, "walk")[0]
    leg = snap_m / speed
    times = _node_times(arrays, origin, leg=leg, limit=max(budgets) * 60.0)
    polygons, cell = _polygons(
        _Reach(arrays.edges, origin, times, leg=leg),
        [b * 60.0 for b in budgets],
        origin_xy=(float(x[0]), float(y[0])),
        projection=(float(origin.x[0]), float(origin.y[0])),
        buffer_m=buffer_m,
        fill_holes_m2=fill_holes_m2,
        speed=speed,
    )
    projected = np.asarray(polygons, dtype=object)
    lonlat = shapely.transform(projected, lambda xy: np.column_stack(area.unproject(*xy.T)))
    attrs = {
        "origin": (float(lon), float(lat)),
        "snap_m": snap_m,
        "buffer_m": buffer_m,
        "fill_holes_m2": fill_holes_m2,
        "cell_m": cell,
        "method": "every walk edge reached within each budget (partial edges cut, from "
        f"both ends), within {buffer_m:g} m, holes under {fill_holes_m2:g} m² filled",
    }
    return _Result(budgets, np.round(shapely.area(projected) / 1e6, 4), lonlat, attrs)


def _rounded(geom: Any) -> Any:
    """``geom`` with coordinates rounded to 1e-7 degrees, its validity kept."""
    rounded = shapely.transform(geom, lambda xy: np.round(xy, 7))
    return rounded if rounded.is_valid else shapely.set_precision(geom, 1e-7)


def _geojson_geometry(geom: Any) -> dict[str, Any]:
    """GeoJSON ``Polygon`` / ``MultiPolygon`` member of a shapely (Multi)Polygon."""
    _, coords, (rings, polygons, *_) = shapely.to_ragged_array(
        [shapely.MultiPolygon([geom]) if isinstance(geom, shapely.Polygon) else geom]
    )
    points = coords.tolist()
    ring_list = [points[a:b] for a, b in itertools.pairwise(rings.tolist())]
    parts = [ring_list[a:b] for a, b in itertools.pairwise(polygons.tolist())]
    if len(parts) == 1:
        return {"type": "Polygon", "coordinates": parts[0]}
    return {"type": "MultiPolygon", "coordinates": parts}


@lru_cache(maxsize=1)
def _wgs84() -> CRS:
    return CRS.from_epsg(4326)


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


def _node_times(
    arrays: GraphArrays, origin: EdgePoints, *, leg: float, limit: float
) -> NDArray[np.float64]:
    """Door-to-node walking time (s) of every node from the located origin (``inf`` beyond).

    A virtual source (node ``n``) is joined to the nodes the origin reaches along its edge
    (:meth:`~routing.edges.EdgePoints.exits`) with the leg plus the partial edge; one bounded
    Dijkstra on the collapsed matrix (the fastest of parallel edges) does the rest.
    """
    node, cost, _ = origin.exits(arrays.edges)
    node, cost = node[0], cost[0] + leg
    keep = node >= 0
    node, cost = node[keep], cost[keep]
    if node.size == 2 and node[0] == node[1]:  # a self-loop: both ways lead to one node
        node, cost = node[:1], cost.min(keepdims=True)
    if limit <= leg or node.size == 0:
        return np.full(arrays.n, np.inf)
    base = arrays.time
    n = arrays.n
    indptr = np.concatenate([base.indptr, [base.indptr[-1] + node.size]])
    graph = sparse.csr_matrix(
        (
            np.concatenate([base.data, np.maximum(cost, 1e-9)]),
            np.concatenate([base.indices, node]),
            indptr,
        ),
        shape=(n + 1, n + 1),
    )
    dist = dijkstra(graph, indices=n, limit=limit)
    return np.asarray(dist[:n], dtype=np.float64)


class _Reach:
    """How far every directed edge, and the origin's own edge, is walked within a budget."""

    def __init__(
        self, table: EdgeTable, origin: EdgePoints, times: NDArray[np.float64], *, leg: float
    ) -> None:
        self.table = table
        self.start = times[table.u]  # door-to-tail time of every directed edge
        self.length = table.geometry_m
        self.leg = leg
        self.edge = int(origin.edge[0])
        self.offset = float(origin.offset_m[0])
        twin = int(table.twin[self.edge])
        # seconds per metre along the origin's edge, forwards and back (inf: no way back)
        total = max(float(self.length[self.edge]), 1e-9)
        self.pace = (
            float(table.time[self.edge]) / total,
            float(table.time[twin]) / total if twin >= 0 else math.inf,
        )

    def ends(self, budget: float) -> tuple[NDArray[np.float64], float, float]:
        """Metres walked along each edge from its tail, and the stretch around the origin.

        Returns ``(end, back, ahead)``: edge ``e`` is walked over ``[0, end[e]]`` of its
        geometry; the origin's edge over ``[back, ahead]`` from the origin.
        """
        left = budget - self.start
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(left > 0, left / np.maximum(self.table.time, 1e-12), 0.0)
        end = np.minimum(share, 1.0) * self.length
        spare = max(0.0, budget - self.leg)
        ahead = min(float(self.length[self.edge]), self.offset + spare / self.pace[0])
        back = max(0.0, self.offset - spare / self.pace[1])
        return end, back, ahead


def _polygons(
    reach: _Reach,
    budgets: list[float],
    *,
    origin_xy: tuple[float, float],
    projection: tuple[float, float],
    buffer_m: float,
    fill_holes_m2: float,
    speed: float,
) -> tuple[list[Any], float]:
    """One projected (Multi)Polygon per budget (ascending seconds), and the grid spacing.

    The pieces walked within each budget are painted onto one grid, each budget adding
    what it walks beyond the previous one; a two-way street walked in full both ways is
    painted once.
    """
    from ._isogrid import Grid

    table = reach.table
    walked = [reach.ends(b) for b in budgets]
    boxes = _edge_boxes(table)
    # the origin's open surroundings: no street is nearer than the leg, so the disc of that
    # radius is walked straight (the whole disc once the budget covers the leg)
    ox, oy = origin_xy
    snap_m = math.hypot(projection[0] - ox, projection[1] - oy)
    disc = np.array([[ox - snap_m, oy - snap_m, ox + snap_m, oy + snap_m]])
    extent = np.union1d(np.flatnonzero(walked[-1][0] > 0), [reach.edge])
    grid = Grid.around(
        np.vstack([boxes[extent], disc]),
        origin_xy,
        level=buffer_m,
        cell=buffer_m / CELLS_PER_BUFFER,
        max_cells=MAX_GRID_CELLS,
        hard_max_cells=4 * MAX_GRID_CELLS,
    )
    grid.paint_segment(origin_xy, projection)  # the straight leg
    if snap_m > buffer_m:
        grid.paint_segment(origin_xy, origin_xy, radius=snap_m - buffer_m)
    done = np.zeros(table.m)
    twin = table.twin
    index = np.arange(table.m)
    back_done = ahead_done = reach.offset
    out: list[Any] = []
    for budget, (end, back, ahead) in zip(budgets, walked, strict=True):
        if budget <= reach.leg:
            out.append(shapely.Point(ox, oy).buffer(budget * speed, quad_segs=8))
            continue
        full = end >= reach.length
        once = full & (twin >= 0) & full[np.maximum(twin, 0)] & (twin < index)
        end = np.where(once, done, end)
        grow = np.flatnonzero(end > done)
        grid.paint(table, grow, done[grow], end[grow])
        grid.paint(
            table,
            np.array([reach.edge, reach.edge]),
            np.array([back, ahead_done]),
            np.array([back_done, ahead]),
        )
        done[grow] = end[grow]
        back_done, ahead_done = back, ahead
        seen = np.vstack([boxes[np.union1d(np.flatnonzero(end > 0), [reach.edge])], disc])
        out.append(
            grid.contour(seen, origin_xy, fill_holes_m2=fill_holes_m2, simplify_m=SIMPLIFY_M)
        )
    return out, grid.cell


def _edge_boxes(table: EdgeTable) -> NDArray[np.float64]:
    """Bounding box ``(minx, miny, maxx, maxy)`` of every edge's geometry (cached)."""
    boxes = _BOXES.get(table)
    if boxes is None:
        first = table.ptr[:-1]
        x, y = table.xy[:, 0], table.xy[:, 1]
        boxes = np.column_stack(
            [
                np.minimum.reduceat(x, first),
                np.minimum.reduceat(y, first),
                np.maximum.reduceat(x, first),
                np.maximum.reduceat(y, first),
            ]
        )
        _BOXES[table] = boxes
    return boxes
