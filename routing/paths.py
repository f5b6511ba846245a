"""Shortest paths between two points and path geometry on an Area's graphs.

Every search runs on :class:`~routing.network.GraphArrays` through
``scipy.sparse.csgraph.dijkstra``. Geometry follows the edges' own ``geometry`` where the
graph carries one (curved streets) and straight segments between nodes elsewhere.

What a route's totals mean
--------------------------
Both ends are located on their nearest edge (:meth:`routing.Area.locate`).
:attr:`Route.time_s` and :attr:`Route.length_m` are measured **along the network** from the
origin's projection on its street to the destination's: the partial edges at both ends
plus the edges between, exact on the street geometry (two points on one street are joined
along it when that is shorter; one-ways are respected). The straight legs from the points
to their streets are reported apart in :attr:`Route.snap_m`; :attr:`Route.total_time_s`
adds them at walking speed (door to door).
"""

from __future__ import annotations

import logging
import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra
from shapely import LineString

from ._errors import CoordinateError, DisconnectedGraphError
from .area import check_lonlat
from .edges import insert_points

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import ArrayLike, NDArray
    from scipy import sparse

    from .area import Area, Network
    from .edges import EdgePoints, EdgeTable
    from .network import GraphArrays

__all__ = [
    "EdgeShapes",
    "Route",
    "edge_index",
    "edge_lengths",
    "edge_shapes",
    "inserted_path_lonlat",
    "network_speed",
    "path_from_predecessors",
    "path_geometry",
    "path_lonlat",
    "shortest_path",
]

logger = logging.getLogger(__name__)

_EDGE_KEYS: weakref.WeakKeyDictionary[GraphArrays, tuple[NDArray[np.int64], NDArray[np.intp]]] = (
    weakref.WeakKeyDictionary()
)
_SHAPES: weakref.WeakKeyDictionary[GraphArrays, EdgeShapes] = weakref.WeakKeyDictionary()
_SPEEDS: weakref.WeakKeyDictionary[GraphArrays, tuple[float, float, bool]] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True)
class Route:
    """A shortest path by travel time between two points, exact on the street.

    Attributes
    ----------
    nodes
        Graph node ids passed, in order (empty when both ends lie on one street and the
        walk stays on it).
    length_m
        Length along the network (m), from the origin's projection on its street to the
        destination's, partial edges included.
    time_s
        Travel time along the network (s), the same span.
    geometry
        The path as a WGS-84 (lon, lat) LineString from projection to projection,
        following edge geometries.
    snap_m
        Straight-line distance (m) from the origin point to its street and from the
        destination's street to the destination point.
    walk_speed_mps
        Speed used for the straight legs in :attr:`total_time_s` (the walking speed).
    """

    nodes: tuple[int, ...]
    length_m: float
    time_s: float
    geometry: LineString
    snap_m: tuple[float, float]
    walk_speed_mps: float

    @property
    def total_time_s(self) -> float:
        """Network time plus both straight legs at walking speed (s): door to door."""
        return self.time_s + sum(self.snap_m) / self.walk_speed_mps

    @property
    def total_length_m(self) -> float:
        """Network length plus both straight legs (m): door to door."""
        return self.length_m + sum(self.snap_m)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with a GeoJSON geometry."""
        return {
            "length_m": round(self.length_m, 1),
            "time_s": round(self.time_s, 1),
            "total_length_m": round(self.total_length_m, 1),
            "total_time_s": round(self.total_time_s, 1),
            "snap_m": [round(v, 1) for v in self.snap_m],
            "nodes": list(self.nodes),
            "geometry": {
                "type": "LineString",
                "coordinates": np.round(shapely.get_coordinates(self.geometry), 7).tolist(),
            },
        }


def network_speed(area: Area, network: Network = "walk") -> tuple[float, float, bool]:
    """Typical and maximum edge speed (m/s) of a network, and whether the speed is constant.

    The typical speed is the Area's ``walk_speed_kmh`` setting on the walk graph when the
    Area carries one, else the median of ``length / travel_time`` over the edges. A
    constant speed means every edge has ``length = time * speed`` (so a walking distance is
    its time times the speed, exactly).
    """
    arrays = area.arrays(network)
    cached = _SPEEDS.get(arrays)
    if cached is None:
        ratio = arrays.length.data / arrays.time.data
        real = (arrays.length.data > 1e-5) & (arrays.time.data > 1e-5)
        ratio = ratio[real] if real.any() else np.array([1.0])
        median = float(np.median(ratio))
        constant = bool(np.all(np.abs(ratio - median) <= 1e-6 * median))
        cached = (median, float(ratio.max()), constant)
        _SPEEDS[arrays] = cached
    typical, fastest, constant = cached
    setting = getattr(area.settings, "walk_speed_kmh", None)
    if network == "walk" and isinstance(setting, int | float) and setting > 0:
        typical = float(setting) / 3.6
    return typical, fastest, constant


def path_from_predecessors(predecessors: NDArray[np.int32], target: int) -> NDArray[np.intp]:
    """Dense node indices from the search's source to ``target`` (source first).

    ``predecessors`` is one row of ``scipy.sparse.csgraph.dijkstra(...,
    return_predecessors=True)``; unreached targets give an empty array.
    """
    path = [int(target)]
    pred = predecessors
    cur = int(target)
    n = len(pred)
    while pred[cur] >= 0:
        cur = int(pred[cur])
        path.append(cur)
        if len(path) > n:  # a cycle would mean a corrupt predecessor row
            msg = "Expected a predecessor tree, got a cycle"
            raise RuntimeError(msg)
    return np.asarray(path[::-1], dtype=np.intp)


def edge_index(arrays: GraphArrays, u: ArrayLike, v: ArrayLike) -> NDArray[np.intp]:
    """Position in the CSR ``data`` arrays of the edges ``u[i] -> v[i]`` (``-1`` if absent).

    Vectorised: one binary search over all edges (dense node indices in, CSR positions out).
    """
    cached = _EDGE_KEYS.get(arrays)
    if cached is None:
        csr = arrays.time
        if not np.array_equal(csr.indices, arrays.length.indices):
            msg = "Expected the time and length matrices on one sparsity pattern"
            raise ValueError(msg)
        rows = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr))
        keys = rows * csr.shape[0] + csr.indices.astype(np.int64)
        order = np.argsort(keys, kind="stable").astype(np.intp)
        # a sentinel past every key and its "absent" answer: no clipping per lookup
        cached = (np.append(keys[order], np.iinfo(np.int64).max), np.append(order, -1))
        _EDGE_KEYS[arrays] = cached
    keys, order = cached
    want = np.asarray(u, dtype=np.int64) * arrays.n
    want += np.asarray(v, dtype=np.int64)
    pos = np.searchsorted(keys, want)
    return np.where(keys[pos] == want, order[pos], -1).astype(np.intp, copy=False)


def edge_lengths(
    arrays: GraphArrays, u: ArrayLike, v: ArrayLike, *, weight: str = "length"
) -> NDArray[np.float64]:
    """Weight (``"length"`` or ``"time"``) of the edges ``u[i] -> v[i]`` (dense indices).

    Vectorised: one binary search over all edges. Missing edges give ``nan``.
    """
    matrix = arrays.length if weight == "length" else arrays.time
    e = edge_index(arrays, u, v)
    return np.where(e >= 0, matrix.data[np.maximum(e, 0)], np.nan)


@dataclass(frozen=True, eq=False)
class EdgeShapes:
    """Shape of every CSR edge of a graph, as flat arrays.

    Edge ``e`` (a position in the CSR ``data``), running ``u -> w``, is drawn from node ``u``
    through ``xy[ptr[e]:ptr[e + 1]]``, whose last point is node ``w``. Shapes come from the
    fastest parallel edge's ``geometry`` (oriented from ``u``), else the straight segment.
    ``lonlat`` holds the same points in WGS-84, unprojected once, so that drawing a path is
    a gather with no coordinate transformation.
    """

    ptr: NDArray[np.int64]
    xy: NDArray[np.float64]
    lonlat: NDArray[np.float64]

    def lines(self, arrays: GraphArrays, edges: NDArray[np.intp]) -> NDArray[np.object_]:
        """Projected LineStrings of ``edges`` (vectorised)."""
        rows = np.searchsorted(arrays.time.indptr, edges, side="right") - 1
        counts = self.ptr[edges + 1] - self.ptr[edges]
        starts = np.column_stack([arrays.x[rows], arrays.y[rows]])
        take = _ranges(self.ptr[edges], counts)
        owner = np.repeat(np.arange(len(edges)), counts)
        coords = np.concatenate([starts, self.xy[take]])
        index = np.concatenate([np.arange(len(edges)), owner])
        order = np.argsort(index, kind="stable")
        return np.asarray(shapely.linestrings(coords[order], indices=index[order]), dtype=object)


def edge_shapes(area: Area, network: Network = "walk") -> EdgeShapes:
    """The :class:`EdgeShapes` of a network's CSR edges, built once per graph and cached.

    A view of :class:`~routing.edges.EdgeTable` (the one source of edge geometry): each CSR
    pair is drawn with the shape of the edge the matrices kept (``csr_edge``).
    """
    arrays = area.arrays(network)
    cached = _SHAPES.get(arrays)
    if cached is not None:
        return cached
    table = arrays.edges
    kept = table.csr_edge
    counts = table.ptr[kept + 1] - table.ptr[kept] - 1  # the first point is node u itself
    take = _ranges(table.ptr[kept] + 1, counts)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    shapes = EdgeShapes(ptr=ptr, xy=table.xy[take], lonlat=table.lonlat[take])
    _SHAPES[arrays] = shapes
    return shapes


def _ranges(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenated ``arange(starts[i], starts[i] + counts[i])`` without a Python loop."""
    if counts.size == 0:
        return np.empty(0, dtype=np.int64)
    ends = counts.cumsum()  # the methods skip numpy's function dispatch: µs count here
    # item j of range i is starts[i] + j, at output position ends[i] - counts[i] + j
    shift = (starts - (ends - counts)).repeat(counts)
    return np.asarray(shift + np.arange(int(ends[-1])), dtype=np.int64)


def path_lonlat(
    area: Area, path: Sequence[int] | NDArray[np.intp], *, network: Network = "walk"
) -> NDArray[np.float64]:
    """WGS-84 ``(lon, lat)`` points, shape ``(n, 2)``, of a path given as dense node indices.

    Each step follows its edge's shape (the EdgeTable geometry of the fastest parallel edge,
    as in :func:`edge_shapes`); the first point is the first node, the last the last node. A
    single-node path gives that node twice (a zero-length line). Cheap enough per request:
    one binary search for the edges and one gather of their points from the EdgeTable, with
    no coordinate transformation, no per-edge Python and nothing built per graph.

    Raises
    ------
    ValueError
        An empty path, or two consecutive nodes not joined by an edge.
    """
    arrays = area.arrays(network)
    idx = np.asarray(path, dtype=np.intp)
    if idx.ndim != 1 or idx.size == 0:
        msg = f"Expected a path of at least one node, got shape {idx.shape}"
        raise ValueError(msg)
    first = (arrays.lon[idx[0]], arrays.lat[idx[0]])
    if idx.size == 1:
        return np.array([first, first], dtype=np.float64)
    e = edge_index(arrays, idx[:-1], idx[1:])
    if e.min() < 0:
        bad = int(np.flatnonzero(e < 0)[0])
        msg = f"Expected consecutive path nodes joined by an edge, got none at step {bad}"
        raise ValueError(msg)
    table = arrays.edges  # the path's own edges only: no per-graph gather on a first request
    kept = table.csr_edge[e]
    begin = table.ptr[kept] + 1  # the first point is node u itself
    counts = table.ptr[kept + 1] - begin
    take = begin if counts.max() == 1 else _ranges(begin, counts)  # all straight: one each
    out = np.empty((take.size + 1, 2), dtype=np.float64)
    out[0] = first
    out[1:] = table.lonlat[take]
    return out


def path_geometry(
    area: Area, path: Sequence[int] | NDArray[np.intp], *, network: Network = "walk"
) -> LineString:
    """WGS-84 LineString of a path given as dense node indices (see :func:`path_lonlat`)."""
    return LineString(path_lonlat(area, path, network=network))


def shortest_path(
    area: Area,
    orig_lonlat: tuple[float, float],
    dest_lonlat: tuple[float, float],
    *,
    network: Network = "walk",
    max_distance: float | None = None,
) -> Route:
    """Fastest path between two WGS-84 points on the ``network`` graph, exact on the street.

    Parameters
    ----------
    area
        The Area to route on.
    orig_lonlat, dest_lonlat
        ``(lon, lat)`` of the two ends.
    network
        ``"walk"`` or ``"drive"``.
    max_distance
        Largest straight distance (m) from a point to its nearest street; defaults to the
        Area's ``snap_max_distance``.

    Returns
    -------
    Route
        Graph nodes passed, network length and time from projection to projection,
        geometry (the same span, following the streets) and the two straight legs. Two
        points with one projection give a zero-length route.

    Raises
    ------
    CoordinateError
        A coordinate is NaN or out of range, or a point is farther than ``max_distance``
        from every street ("off the map"; the message gives the distance).
    DisconnectedGraphError
        No path leads from the origin to the destination.
    """
    lon, lat = _two_points(orig_lonlat, dest_lonlat)
    spots = area.locate(lon, lat, network=network, max_distance=max_distance)
    for which, i in (("origin", 0), ("destination", 1)):
        if not spots.ok[i]:
            msg = (
                f"Expected the {which} within {_limit(area, max_distance):.0f} m of the "
                f"{network} network, got a point {spots.distance[i]:.0f} m from the nearest "
                f"street ({lon[i]:.6f}, {lat[i]:.6f}): off the map"
            )
            raise CoordinateError(msg)
    arrays = area.arrays(network)
    time, length, index = insert_points(arrays, spots)
    src, dst = int(index[0]), int(index[1])
    speed, fastest, _ = network_speed(area, network)
    # Exact either way: a bounded search first (most routes are short), the full one if the
    # destination lies beyond the bound.
    straight = math.hypot(spots.x[0] - spots.x[1], spots.y[0] - spots.y[1])
    bound = 3.0 * straight / fastest + 600.0
    dist, pred = dijkstra(time, indices=src, limit=bound, return_predecessors=True)
    if not math.isfinite(dist[dst]):
        dist, pred = dijkstra(time, indices=src, return_predecessors=True)
    if not math.isfinite(dist[dst]):
        msg = (
            f"Expected a {network} path from ({lon[0]:.6f}, {lat[0]:.6f}) to "
            f"({lon[1]:.6f}, {lat[1]:.6f}), got two parts of the graph that are not connected"
        )
        raise DisconnectedGraphError(msg)
    path = path_from_predecessors(pred, dst)
    coords, metres = inserted_path_lonlat(arrays, spots, time, length, path)
    graph_nodes = path[path < arrays.n]
    return Route(
        nodes=tuple(int(v) for v in arrays.nodes[graph_nodes]),
        length_m=metres,
        time_s=float(dist[dst]),
        geometry=LineString(coords),
        snap_m=(float(spots.distance[0]), float(spots.distance[1])),
        walk_speed_mps=speed if network == "walk" else network_speed(area, "walk")[0],
    )


def inserted_path_lonlat(
    arrays: GraphArrays,
    points: EdgePoints,
    time: sparse.csr_matrix,
    length: sparse.csr_matrix,
    path: NDArray[np.intp],
) -> tuple[NDArray[np.float64], float]:
    """WGS-84 points and metres of a path found on :func:`~routing.edges.insert_points`.

    Node ``arrays.n + i`` is point ``i`` (drawn at its projection); every hop follows its
    edge's geometry, cut at the points on it. A one-node path is that point twice.
    """
    table = arrays.edges
    n = arrays.n
    if path.size == 1:
        p = _end_lonlat(arrays, points, int(path[0]))
        return np.array([p, p]), 0.0
    pieces = [np.array([_end_lonlat(arrays, points, int(path[0]))])]
    metres = 0.0
    for a, b in zip(path[:-1].tolist(), path[1:].tolist(), strict=True):
        metres += float(length[a, b])
        if a < n and b < n:
            e = int(table.csr_edge[edge_index(arrays, [a], [b])[0]])
            pieces.append(table.lonlat[table.ptr[e] + 1 : table.ptr[e + 1]])
            continue
        i = (a if a >= n else b) - n
        street = int(table.street[points.edge[i]])
        ends = [_street_frac(table, points, street, node, n) for node in (a, b)]
        options = [(fa, fb) for fa in ends[0] for fb in ends[1]]
        cost = float(time[a, b])
        fa, fb = min(options, key=lambda ab: abs(_piece_time(table, street, *ab) - cost))
        pieces.append(table.cut(street, fa, fb)[1:])
    return np.vstack(pieces), metres


def _street_frac(
    table: EdgeTable, points: EdgePoints, street: int, node: int, n: int
) -> list[float]:
    """Where ``node`` (a graph node or an inserted point) lies on ``street``, as fractions."""
    if node >= n:
        i = node - n
        f = float(points.frac[i])
        return [f if int(points.edge[i]) == street else 1.0 - f]
    out = []
    if node == table.u[street]:
        out.append(0.0)
    if node == table.v[street]:
        out.append(1.0)
    return out


def _piece_time(table: EdgeTable, street: int, fa: float, fb: float) -> float:
    if fb >= fa:
        return (fb - fa) * float(table.time[street])
    twin = int(table.twin[street])
    return (fa - fb) * float(table.time[twin]) if twin >= 0 else math.inf


def _end_lonlat(arrays: GraphArrays, points: EdgePoints, node: int) -> tuple[float, float]:
    if node >= arrays.n:
        i = node - arrays.n
        return float(points.lon[i]), float(points.lat[i])
    return float(arrays.lon[node]), float(arrays.lat[node])


def _two_points(
    a: tuple[float, float], b: tuple[float, float]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    for name, p in (("origin", a), ("destination", b)):
        if not hasattr(p, "__len__") or len(p) != 2:
            msg = f"Expected the {name} as (lon, lat), got {p!r}"
            raise CoordinateError(msg)
    return check_lonlat([a[0], b[0]], [a[1], b[1]])


def _limit(area: Area, max_distance: float | None) -> float:
    if max_distance is not None:
        return max_distance
    return float(getattr(area.settings, "snap_max_distance", 500.0))
