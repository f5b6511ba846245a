"""Every directed edge of a road graph with its geometry, and points located on edges.

The network model is exact on the street: a point (origin, station, rider home, bus stop)
is projected onto the nearest *edge* of a graph, not moved to the nearest intersection.

* :class:`EdgeTable` holds **every** directed edge of a graph (parallel edges, loops and
  self-loops kept) with its length, travel time and geometry as flat arrays, the reverse
  edge sharing its geometry (``twin``), and where its node pair sits in the collapsed CSR
  matrices of :class:`~routing.network.GraphArrays` (which keep the minimum over parallel
  edges and are the shortest-path kernel only). Reached as ``area.arrays(network).edges``.
  Geometry for every consumer (paths, isochrones, coverage, maps) comes from here.
* :class:`EdgePoints` is the result of :meth:`routing.Area.locate`: for each point the edge,
  the position along it, the projected point and the straight distance. Its
  :meth:`~EdgePoints.entries` and :meth:`~EdgePoints.exits` give the nodes a point is
  reached from / reaches along its edge with the partial costs.
* :func:`insert_points` returns the graph with every located point as an extra node
  splitting its edge(s), so that plain ``scipy.sparse.csgraph`` searches between points are
  exact (two points on one edge, a target on the origin's edge, many sources at once).

Partial costs scale the edge's own ``travel_time`` and ``length`` by the fraction of its
geometry covered, so a point at ``frac`` of an edge splits it into ``frac * time`` and
``(1 - frac) * time``; on a two-way street the way back is the twin with ``1 - frac``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._segment_index import SegmentIndex
    from .network import GraphArrays

__all__ = ["MIN_WEIGHT", "EdgePoints", "EdgeTable", "build_edge_table", "insert_points"]

#: ``scipy.sparse.csgraph`` reads an explicit zero as "no edge": weights are kept >= this.
MIN_WEIGHT = 1e-6
#: Sphere radius (m) of the great-circle ``length`` osmnx and pyrosm give edges.
EARTH_RADIUS_M = 6_371_009.0


@dataclass(frozen=True, eq=False)
class EdgeTable:
    """Every directed edge of a graph, dense-indexed, with its geometry.

    Attributes
    ----------
    u, v
        Tail and head node of each edge (dense indices into
        :class:`~routing.network.GraphArrays`).
    key
        The edge's key in the MultiDiGraph (parallel edges differ by key).
    length, time
        The edge's ``length`` (m) and ``travel_time`` (s).
    ptr, xy, lonlat
        Flat geometry: edge ``e`` runs through ``xy[ptr[e]:ptr[e + 1]]`` from node ``u`` to
        node ``v``, both ends included (projected metres); ``lonlat`` holds the same points
        in WGS-84. Edges without a ``geometry`` are the straight segment ``u -> v``.
    cum
        Metres along the edge from its tail at each of its points (``cum[ptr[e]] == 0``,
        the last equal to ``length[e]``): great-circle segment lengths, scaled to the edge's
        ``length``, so that a share of the geometry is the same share of the edge's length
        and time.
    twin
        The reverse edge with the same geometry (``v -> u``), ``-1`` for a one-way edge.
    csr
        Position of the edge's ``(u, v)`` pair in the ``data`` of the CSR matrices
        ``GraphArrays.time`` / ``GraphArrays.length``.
    csr_edge
        Per CSR position, the edge whose weights the matrices kept (the fastest of parallel
        edges): the geometry of a path found on the matrices.
    """

    u: NDArray[np.intp]
    v: NDArray[np.intp]
    key: NDArray[np.int64]
    length: NDArray[np.float64]
    time: NDArray[np.float64]
    ptr: NDArray[np.int64]
    xy: NDArray[np.float64]
    lonlat: NDArray[np.float64]
    cum: NDArray[np.float64]
    twin: NDArray[np.intp]
    csr: NDArray[np.intp]
    csr_edge: NDArray[np.intp]

    @property
    def m(self) -> int:
        """Number of directed edges."""
        return int(self.u.shape[0])

    @property
    def geometry_m(self) -> NDArray[np.float64]:
        """Length (m) of each edge along its geometry (``cum`` at its last point)."""
        return self.cum[self.ptr[1:] - 1]

    @cached_property
    def _total(self) -> NDArray[np.float64]:
        return np.ascontiguousarray(self.geometry_m)

    @cached_property
    def street(self) -> NDArray[np.intp]:
        """The representative directed edge of each edge's street: ``min(e, twin[e])``.

        A two-way street is two directed edges on one geometry; points are located on the
        representative and its twin is the way back.
        """
        e = np.arange(self.m, dtype=np.intp)
        return np.where(self.twin >= 0, np.minimum(e, self.twin), e).astype(np.intp)

    @cached_property
    def _index(self) -> tuple[SegmentIndex, NDArray[np.int64], NDArray[np.int64]]:
        """Grid index over the straight segments of the representative edges."""
        from ._segments import segment_index  # numba: compiled on the first locate only

        streets = np.flatnonzero(self.street == np.arange(self.m))
        counts = self.ptr[streets + 1] - self.ptr[streets] - 1
        owner = np.repeat(streets, counts)
        first = _ranges(self.ptr[streets], counts)  # each segment's first point
        a, b = self.xy[first], self.xy[first + 1]
        index = segment_index(a[:, 0].copy(), a[:, 1].copy(), b[:, 0].copy(), b[:, 1].copy())
        return index, owner, first

    def locate(
        self, x: NDArray[np.float64], y: NDArray[np.float64], *, max_distance: float
    ) -> EdgePoints:
        """Project points (projected metres) onto their nearest street; see :class:`EdgePoints`."""
        from ._segments import nearest_segments, project_points

        x = np.atleast_1d(np.asarray(x, dtype=np.float64))
        y = np.atleast_1d(np.asarray(y, dtype=np.float64))
        index, owner, first = self._index
        seg, t, dist = nearest_segments(index, x, y)
        edge, offset, frac, px, py, lon, lat, ok = project_points(
            seg, t, dist, owner, first, self.cum, self.xy, self.lonlat, self._total, max_distance
        )
        return EdgePoints(
            edge=edge.astype(np.intp, copy=False),
            offset_m=offset,
            frac=frac,
            x=px,
            y=py,
            lon=lon,
            lat=lat,
            distance=dist,
            ok=ok,
        )

    def lines(
        self, edges: NDArray[np.intp] | None = None, *, lonlat: bool = False
    ) -> NDArray[np.object_]:
        """Shapely LineStrings of ``edges`` (default all), projected or WGS-84 (vectorised)."""
        import shapely

        edges = np.arange(self.m) if edges is None else np.asarray(edges, dtype=np.intp)
        counts = self.ptr[edges + 1] - self.ptr[edges]
        take = _ranges(self.ptr[edges], counts)
        coords = (self.lonlat if lonlat else self.xy)[take]
        owner = np.repeat(np.arange(edges.size), counts)
        return np.asarray(shapely.linestrings(coords, indices=owner), dtype=object)

    def cut(
        self, edge: int, start: float, end: float, *, lonlat: bool = True
    ) -> NDArray[np.float64]:
        """Points ``(k, 2)`` of ``edge`` between fractions ``start`` and ``end`` of its geometry.

        Runs backwards when ``start > end``; both cut points are included (a zero-length
        piece gives one point twice).
        """
        lo, hi = (float(start), float(end)) if start <= end else (float(end), float(start))
        b0, b1 = int(self.ptr[edge]), int(self.ptr[edge + 1])
        cum = self.cum[b0:b1]
        pts = (self.lonlat if lonlat else self.xy)[b0:b1]
        total = float(cum[-1])
        s0, s1 = lo * total, hi * total
        j0, j1 = (np.searchsorted(cum, (s0, s1), side="right") - 1).tolist()
        last = cum.size - 2
        j0, j1 = min(max(j0, 0), last), min(max(j1, 0), last)
        inner = pts[j0 + 1 : j1 + 1]
        if j1 >= j0 + 1 and cum[j1] >= s1:  # a vertex exactly at the end is the end point
            inner = inner[:-1]
        out = np.vstack([_along(cum, pts, j0, s0), inner, _along(cum, pts, j1, s1)])
        return out[::-1] if start > end else out


def _along(
    cum: NDArray[np.float64], pts: NDArray[np.float64], j: int, s: float
) -> NDArray[np.float64]:
    """The point ``s`` metres along a polyline, on its segment ``j``."""
    a, b = float(cum[j]), float(cum[j + 1])
    t = 0.0 if b <= a else min(max((s - a) / (b - a), 0.0), 1.0)
    return pts[j] + t * (pts[j + 1] - pts[j])


@dataclass(frozen=True, eq=False)
class EdgePoints:
    """Points located on the nearest edge of a network (vectorised over ``m`` points).

    Attributes
    ----------
    edge
        Index into the :class:`EdgeTable` (``-1`` where not ``ok``). For a two-way street one
        of its two directed edges (the representative, :attr:`EdgeTable.street`); its
        ``twin`` is the other.
    offset_m
        Metres along the edge's geometry from its tail ``u`` to the projection (measured as
        the edge's ``length`` is: great-circle, see :attr:`EdgeTable.cum`).
    frac
        ``offset_m`` / the edge's length, in ``[0, 1]``.
    x, y
        The projection in the Area's CRS; ``lon``, ``lat`` the same in WGS-84.
    distance
        Straight metres from the point to its projection (the distance to the street, also
        for points off the map; ``nan`` for invalid input).
    ok
        Within ``max_distance`` of the network. Where not, ``edge`` is ``-1`` and the
        position fields are ``nan``.
    """

    edge: NDArray[np.intp]
    offset_m: NDArray[np.float64]
    frac: NDArray[np.float64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    distance: NDArray[np.float64]
    ok: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    def take(self, index: NDArray[np.intp] | NDArray[np.bool_]) -> EdgePoints:
        """The points at ``index`` (an integer or boolean array) as a new EdgePoints."""
        return EdgePoints(
            edge=self.edge[index],
            offset_m=self.offset_m[index],
            frac=self.frac[index],
            x=self.x[index],
            y=self.y[index],
            lon=self.lon[index],
            lat=self.lat[index],
            distance=self.distance[index],
            ok=self.ok[index],
        )

    def entries(
        self, table: EdgeTable
    ) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
        """Nodes *from which* each point is reached along its edge: ``(node, time_s, length_m)``.

        Arrays of shape ``(m, 2)``: column 0 is the tail ``u`` with ``frac`` of the edge's
        time and length, column 1 the head ``v`` through the twin with ``1 - frac`` of the
        twin's. ``-1`` / ``inf`` where a direction does not exist (a one-way edge, a point
        not ``ok``).
        """
        return self._ends(table, leaving=False)

    def exits(
        self, table: EdgeTable
    ) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
        """Nodes reached *from* each point along its edge: ``(node, time_s, length_m)``.

        Column 0 is the head ``v`` with ``1 - frac`` of the edge, column 1 the tail ``u``
        through the twin with ``frac`` of the twin; ``-1`` / ``inf`` where there is none.
        """
        return self._ends(table, leaving=True)

    def _ends(
        self, table: EdgeTable, *, leaving: bool
    ) -> tuple[NDArray[np.intp], NDArray[np.float64], NDArray[np.float64]]:
        ok = self.ok & (self.edge >= 0)
        e = np.where(ok, self.edge, 0)
        tw = table.twin[e]
        back = ok & (tw >= 0)
        tw = np.where(back, tw, 0)
        f = np.where(ok, self.frac, 0.0)
        # along the edge: to the point from u (frac), from the point to v (1 - frac);
        # along the twin (v -> u): to the point from v (1 - frac), from it to u (frac)
        f_edge, f_twin = (1.0 - f, f) if leaving else (f, 1.0 - f)
        node = np.empty((len(self), 2), dtype=np.intp)
        node[:, 0] = np.where(ok, table.v[e] if leaving else table.u[e], -1)
        node[:, 1] = np.where(back, table.u[e] if leaving else table.v[e], -1)
        time = np.empty((len(self), 2))
        time[:, 0] = np.where(ok, f_edge * table.time[e], np.inf)
        time[:, 1] = np.where(back, f_twin * table.time[tw], np.inf)
        length = np.empty((len(self), 2))
        length[:, 0] = np.where(ok, f_edge * table.length[e], np.inf)
        length[:, 1] = np.where(back, f_twin * table.length[tw], np.inf)
        return node, time, length


def insert_points(
    arrays: GraphArrays, points: EdgePoints
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, NDArray[np.intp]]:
    """The graph with every located point as an extra node splitting its edge (and twin).

    Point ``i`` becomes node ``arrays.n + i``. Points on one street are chained in order
    along it (``u -> p1 -> p2 -> ... -> v`` and back along the twin), so a plain
    ``scipy.sparse.csgraph.dijkstra`` between points is exact: two points on one edge, a
    target on the origin's edge, many sources in one search.

    Parameters
    ----------
    arrays
        The graph's arrays (with :attr:`~routing.network.GraphArrays.edges`).
    points
        Points located on that graph (:meth:`routing.Area.locate`).

    Returns
    -------
    tuple
        ``(time, length, point_index)``: CSR matrices of ``n + m`` nodes on one sparsity
        pattern (time of the fastest edge per node pair, its length alongside), and each
        point's node (``-1`` where not ``ok``; such points stay isolated nodes).
    """
    table = arrays.edges
    n, m = arrays.n, len(points)
    point_index = np.where(points.ok, n + np.arange(m), -1).astype(np.intp)
    live = np.flatnonzero(points.ok & (points.edge >= 0))
    e = points.edge[live]
    street = table.street[e]
    f = np.where(street == e, points.frac[live], 1.0 - points.frac[live])
    order = np.lexsort((f, street))
    live, street, f = live[order], street[order], f[order]
    node = n + live
    first = np.ones(live.size, dtype=bool)
    first[1:] = street[1:] != street[:-1]
    last = np.ones(live.size, dtype=bool)
    last[:-1] = first[1:]
    prev_node = np.where(first, table.u[street], np.roll(node, 1))
    prev_f = np.where(first, 0.0, np.roll(f, 1))
    tw = table.twin[street]
    two_way = tw >= 0
    t_fwd, l_fwd = table.time[street], table.length[street]
    t_back = np.where(two_way, table.time[np.maximum(tw, 0)], 0.0)  # used where two-way only
    l_back = np.where(two_way, table.length[np.maximum(tw, 0)], 0.0)
    step, tail = f - prev_f, 1.0 - f
    end = table.v[street][last]
    rows = [prev_node, node[last], node[two_way], end[two_way[last]]]
    cols = [node, end, prev_node[two_way], node[last][two_way[last]]]
    times = [
        step * t_fwd,
        tail[last] * t_fwd[last],
        (step * t_back)[two_way],
        (tail * t_back)[last][two_way[last]],
    ]
    lengths = [
        step * l_fwd,
        tail[last] * l_fwd[last],
        (step * l_back)[two_way],
        (tail * l_back)[last][two_way[last]],
    ]
    r_new = np.concatenate(rows).astype(np.int64)
    c_new = np.concatenate(cols).astype(np.int64)
    t_new = np.maximum(np.concatenate(times), MIN_WEIGHT)
    l_new = np.maximum(np.concatenate(lengths), MIN_WEIGHT)
    # keep the faster of two pieces joining the same nodes (a point on a self-loop)
    pick = np.lexsort((t_new, c_new, r_new))
    r_new, c_new, t_new, l_new = r_new[pick], c_new[pick], t_new[pick], l_new[pick]
    keep = np.ones(r_new.size, dtype=bool)
    keep[1:] = (r_new[1:] != r_new[:-1]) | (c_new[1:] != c_new[:-1])
    r_new, c_new, t_new, l_new = r_new[keep], c_new[keep], t_new[keep], l_new[keep]
    base = arrays.time
    r0 = np.repeat(np.arange(n, dtype=np.int64), np.diff(base.indptr))
    rows_all = np.concatenate([r0, r_new])
    cols_all = np.concatenate([base.indices.astype(np.int64), c_new])
    shape = (n + m, n + m)
    time = sparse.csr_matrix((np.concatenate([base.data, t_new]), (rows_all, cols_all)), shape)
    length = sparse.csr_matrix(
        (np.concatenate([arrays.length.data, l_new]), (rows_all, cols_all)), shape
    )
    return time, length, point_index


def build_edge_table(
    u: NDArray[np.intp],
    v: NDArray[np.intp],
    key: NDArray[np.int64],
    length: NDArray[np.float64],
    time: NDArray[np.float64],
    geometry: NDArray[np.object_],
    *,
    node_xy: NDArray[np.float64],
    node_lonlat: NDArray[np.float64],
    csr: sparse.csr_matrix,
    crs: str | None,
) -> EdgeTable:
    """The :class:`EdgeTable` of a graph's edges (called by :func:`routing.graph_arrays`).

    Parameters
    ----------
    u, v, key, length, time
        One entry per directed edge (dense node indices).
    geometry
        Each edge's projected shapely LineString, or ``None`` for a straight edge. Shapes
        are oriented from ``u`` and their ends set to the nodes' exact coordinates.
    node_xy, node_lonlat
        ``(n, 2)`` node coordinates, projected and WGS-84.
    csr
        The collapsed travel-time matrix (sorted indices), to find each pair's position.
    crs
        The projected CRS, to unproject interior geometry points (``None``: interpolate
        between the nodes' lon/lat).
    """
    import shapely

    m = u.size
    counts = np.full(m, 2, dtype=np.int64)
    has = np.flatnonzero(np.fromiter((g is not None for g in geometry), dtype=bool, count=m))
    coords = np.empty((0, 2))
    owner = np.empty(0, dtype=np.int64)
    if has.size:
        coords, owner = shapely.get_coordinates(geometry[has], return_index=True)
        n_pts = np.bincount(owner, minlength=has.size)
        good = n_pts >= 2  # a degenerate shape is drawn straight
        keep = good[owner]
        coords, owner = coords[keep], (np.cumsum(good) - 1)[owner[keep]]
        has = has[good]
        counts[has] = n_pts[good]
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    xy = np.empty((int(ptr[-1]), 2))
    straight = np.ones(m, dtype=bool)
    straight[has] = False
    s_idx = np.flatnonzero(straight)
    xy[ptr[s_idx]] = node_xy[u[s_idx]]
    xy[ptr[s_idx] + 1] = node_xy[v[s_idx]]
    if has.size:
        begin = np.concatenate([[0], np.cumsum(counts[has])[:-1]])
        local = np.arange(owner.size) - begin[owner]
        first_pt = coords[begin]
        last_pt = coords[begin + counts[has] - 1]
        start = node_xy[u[has]]
        flip = np.hypot(*(last_pt - start).T) < np.hypot(*(first_pt - start).T)
        flip &= u[has] != v[has]
        src = np.where(
            flip[owner], begin[owner] + counts[has][owner] - 1 - local, begin[owner] + local
        )
        xy[ptr[has][owner] + local] = coords[src]
    xy[ptr[:-1]] = node_xy[u]  # shapes start and end exactly at their nodes
    xy[ptr[1:] - 1] = node_xy[v]
    lonlat = _lonlat(xy, ptr, u, v, node_lonlat, crs)
    cum = _cumulative_metres(xy, lonlat, ptr, length)
    twin = _twins(u, v, xy, ptr)
    n = csr.shape[0]
    keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(csr.indptr)) * n + csr.indices
    pair = u.astype(np.int64) * n + v
    pos = np.searchsorted(keys, pair).astype(np.intp)
    # the edge the matrices kept per pair: the fastest (first by time, then index)
    order = np.lexsort((np.arange(m), time, pos))
    first = np.ones(m, dtype=bool)
    first[1:] = pos[order][1:] != pos[order][:-1]
    csr_edge = np.full(csr.nnz, -1, dtype=np.intp)
    csr_edge[pos[order][first]] = order[first]
    return EdgeTable(
        u=u.astype(np.intp),
        v=v.astype(np.intp),
        key=key.astype(np.int64),
        length=length.astype(np.float64),
        time=time.astype(np.float64),
        ptr=ptr,
        xy=xy,
        lonlat=lonlat,
        cum=cum,
        twin=twin,
        csr=pos,
        csr_edge=csr_edge,
    )


def _cumulative_metres(
    xy: NDArray[np.float64],
    lonlat: NDArray[np.float64],
    ptr: NDArray[np.int64],
    length: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Metres from each edge's tail at each geometry point, ending at the edge's ``length``.

    Segments are measured as great circles between their WGS-84 ends (the convention of
    osmnx's and pyrosm's ``length``), then scaled per edge to its ``length`` attribute. A
    projected distance would not do: the ratio of projected to great-circle metres depends
    on a segment's direction (0.2-0.4 % between north-south and east-west at 40-60 deg N),
    so a share of a bent edge's *projected* length is not that share of its ``length``.
    """
    counts = np.diff(ptr)
    lon, lat = np.radians(lonlat[:, 0]), np.radians(lonlat[:, 1])
    h = (
        np.sin(np.diff(lat) / 2) ** 2
        + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
    )
    seg = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    flat = np.hypot(*np.diff(xy, axis=0).T)
    seg = np.where(np.isfinite(seg), seg, flat)  # no lon/lat: projected metres
    seg[ptr[1:-1] - 1] = 0.0  # no segment between one edge's last point and the next's first
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    cum -= np.repeat(cum[ptr[:-1]], counts)
    total = cum[ptr[1:] - 1]
    scale = np.divide(length, total, out=np.zeros_like(total), where=total > 0)
    return cum * np.repeat(scale, counts)


def _lonlat(
    xy: NDArray[np.float64],
    ptr: NDArray[np.int64],
    u: NDArray[np.intp],
    v: NDArray[np.intp],
    node_lonlat: NDArray[np.float64],
    crs: str | None,
) -> NDArray[np.float64]:
    """WGS-84 of every geometry point; the ends are the nodes' own lon/lat."""
    out = np.full(xy.shape, np.nan)
    if crs is not None:
        from pyproj import Transformer

        lon, lat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(
            xy[:, 0], xy[:, 1]
        )
        out[:, 0], out[:, 1] = lon, lat
    out[ptr[:-1]] = node_lonlat[u]
    out[ptr[1:] - 1] = node_lonlat[v]
    if crs is None:  # interpolate interior points between the two ends
        counts = np.diff(ptr)
        owner = np.repeat(np.arange(u.size), counts)
        local = np.arange(xy.shape[0]) - ptr[owner]
        t = (local / np.maximum(counts[owner] - 1, 1))[:, None]
        out = node_lonlat[u][owner] * (1 - t) + node_lonlat[v][owner] * t
    return out


def _twins(
    u: NDArray[np.intp], v: NDArray[np.intp], xy: NDArray[np.float64], ptr: NDArray[np.int64]
) -> NDArray[np.intp]:
    """For each edge, the reverse edge on the same geometry (``-1`` if none).

    Each geometry gets an order-sensitive hash of its points (millimetre grid) read forwards
    and backwards; edge ``f`` is the twin of ``e`` when ``(u, v, forward hash)`` of ``f`` is
    ``(v, u, backward hash)`` of ``e``. Identical parallel edges pair up in index order.
    """
    m = u.size
    counts = np.diff(ptr)
    owner = np.repeat(np.arange(m), counts)
    local = np.arange(xy.shape[0]) - ptr[owner]
    q = np.round(xy * 1000.0).astype(np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        h = q[:, 0] * np.uint64(0x9E3779B97F4A7C15) ^ (q[:, 1] * np.uint64(0xC2B2AE3D27D4EB4F))
        h ^= h >> np.uint64(29)
        width = int(counts.max()) if m else 1
        powers = np.cumprod(np.full(width, np.uint64(0x100000001B3), dtype=np.uint64))
        fwd = np.add.reduceat(h * powers[local], ptr[:-1]) if m else np.empty(0, np.uint64)
        rev_local = counts[owner] - 1 - local
        rev = np.add.reduceat(h * powers[rev_local], ptr[:-1]) if m else np.empty(0, np.uint64)
        uu = u.astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93)
        vv = v.astype(np.uint64) * np.uint64(0xA0761D6478BD642F)
        own = fwd ^ uu ^ (vv >> np.uint64(1))
        want = rev ^ (v.astype(np.uint64) * np.uint64(0xD6E8FEB86659FD93))
        want ^= (u.astype(np.uint64) * np.uint64(0xA0761D6478BD642F)) >> np.uint64(1)
    twin = np.full(m, -1, dtype=np.intp)
    a = np.lexsort((np.arange(m), own))  # edges by their own hash
    b = np.lexsort((np.arange(m), want))  # edges by the hash their twin would have
    own_s, want_s = own[a], want[b]
    # rank of each edge within its group of equal wanted hashes: pair the k-th with the k-th
    rank_b = np.arange(m) - np.searchsorted(want_s, want_s, side="left")
    lo = np.searchsorted(own_s, want_s, side="left")
    hi = np.searchsorted(own_s, want_s, side="right")
    hit = rank_b < hi - lo
    partner = a[np.minimum(lo + rank_b, m - 1)]
    twin[b[hit]] = partner[hit]
    # a hash match must also be a real reverse (same ends, same length of geometry)
    bad = (twin >= 0) & ((u != v[np.maximum(twin, 0)]) | (v != u[np.maximum(twin, 0)]))
    twin[bad] = -1
    return twin


def _ranges(starts: NDArray[np.int64], counts: NDArray[np.int64]) -> NDArray[np.int64]:
    """Concatenated ``arange(starts[i], starts[i] + counts[i])`` without a Python loop."""
    if counts.size == 0:
        return np.empty(0, dtype=np.int64)
    ends = counts.cumsum()
    shift = (starts - (ends - counts)).repeat(counts)
    return np.asarray(shift + np.arange(int(ends[-1])), dtype=np.int64)
