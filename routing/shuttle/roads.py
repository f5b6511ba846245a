"""Homes, stops and workplaces as points on the street: exact walks, drives and driven paths.

Every place the planner uses is located on its network's nearest *edge* (``Area.locate``):
homes on walk edges, stops and workplaces on drive edges (where the bus stops) and on walk
edges (where riders walk to). :class:`Located` then inserts the points into the graph
(``routing.edges.insert_points``), so plain ``scipy.sparse.csgraph.dijkstra`` between them is
exact: two stops on one edge have a positive leg, a stop on a one-way edge is reached from
its tail and left towards its head, and a walk follows the street from the home's projection
to the stop's.

A walk is the straight line from the home to its street, the walk along the streets, and the
straight line from the stop's walk street to the stop; a drive starts and ends at the points
themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from routing.edges import insert_points

from .matrix import UNREACHABLE, StopMatrix, tree_lengths

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from routing.area import Area
    from routing.edges import EdgePoints
    from routing.network import GraphArrays

__all__ = ["Located", "locate_points"]

_CHUNK_CELLS = 4_000_000  # sources x nodes per dijkstra call, bounding memory to ~100 MB


@dataclass(frozen=True, eq=False)
class Located:
    """Points located on one network and the network with the points inserted.

    Attributes
    ----------
    arrays
        The network's arrays.
    points
        Where each point lies (edge, fraction, projection, distance to the street).
    time, length
        CSR matrices of the network with every ``ok`` point as an extra node.
    node
        Each point's node in those matrices (``-1`` where the point is off the network).
    """

    arrays: GraphArrays
    points: EdgePoints
    time: sparse.csr_matrix
    length: sparse.csr_matrix
    node: NDArray[np.intp]

    @property
    def ok(self) -> NDArray[np.bool_]:
        """Points on the network (within the distance they were located with)."""
        return self.node >= 0

    def drive_matrix(self, ids: Sequence[str]) -> StopMatrix:
        """Integer fastest-drive seconds (rounded up) and their metres among all points.

        Points off the network are :data:`~routing.shuttle.matrix.UNREACHABLE` from and to
        everything else. Seconds are rounded *up*, so a leg between two distinct places is
        never 0 s and never shorter than the drive.
        """
        m = len(self.node)
        if len(ids) != m:
            msg = f"Expected one id per point, got {len(ids)} ids for {m} points"
            raise ValueError(msg)
        dur = np.full((m, m), UNREACHABLE, dtype=np.int64)
        dist = np.full((m, m), UNREACHABLE, dtype=np.int64)
        live = np.flatnonzero(self.ok)
        targets = self.node[live]
        step = max(1, _CHUNK_CELLS // max(self.time.shape[0], 1))
        for start in range(0, live.size, step):
            rows = live[start : start + step]
            src = self.node[rows]
            t, pred = dijkstra(self.time, directed=True, indices=src, return_predecessors=True)
            lens = tree_lengths(pred, src, self.length)
            tt, ll = t[:, targets], lens[:, targets]
            reach = np.isfinite(tt)
            dur[np.ix_(rows, live)] = np.where(reach, np.ceil(tt - 1e-6), UNREACHABLE)
            dist[np.ix_(rows, live)] = np.where(reach, np.rint(ll), UNREACHABLE)
        np.fill_diagonal(dur, 0)
        np.fill_diagonal(dist, 0)
        return StopMatrix(tuple(ids), np.maximum(dur, 0), np.maximum(dist, 0))

    def walks(self, origins: ArrayLike, targets: ArrayLike, *, limit: float) -> sparse.csr_matrix:
        """Walk metres from each origin point to each target point, those within ``limit``.

        Includes both straight legs (each point's ``distance`` to its street). One bounded
        Dijkstra per target on the reversed network (one-way footpaths honoured).

        Returns
        -------
        scipy.sparse.csr_matrix
            Shape ``(len(origins), len(targets))``; a zero-metre walk is stored as ``1e-9``.
        """
        o = np.asarray(origins, dtype=np.intp)
        tg = np.asarray(targets, dtype=np.intp)
        leg = np.where(self.ok, self.points.distance, np.inf)
        reverse = self.length.T.tocsr()
        o_ok = self.node[o] >= 0
        o_nodes = np.where(o_ok, self.node[o], 0)
        rows_out: list[NDArray[np.intp]] = []
        cols_out: list[NDArray[np.intp]] = []
        vals_out: list[NDArray[np.float64]] = []
        live = np.flatnonzero(self.node[tg] >= 0)
        step = max(1, _CHUNK_CELLS // max(self.time.shape[0], 1))
        for start in range(0, live.size, step):
            cols = live[start : start + step]
            src = self.node[tg[cols]]
            t_leg = leg[tg[cols]]
            bound = float(limit - t_leg.min())
            if bound < 0:
                continue
            d = dijkstra(reverse, directed=True, indices=src, limit=bound)
            w = d[:, o_nodes] + t_leg[:, None] + leg[o][None, :]
            w[:, ~o_ok] = np.inf
            r_t, r_o = np.nonzero(w <= limit)
            rows_out.append(r_o.astype(np.intp))
            cols_out.append(cols[r_t].astype(np.intp))
            vals_out.append(np.maximum(w[r_t, r_o], 1e-9))
        shape = (o.size, tg.size)
        if not rows_out:
            return sparse.csr_matrix(shape)
        return sparse.csr_matrix(
            (np.concatenate(vals_out), (np.concatenate(rows_out), np.concatenate(cols_out))),
            shape=shape,
        )

    def paths_lonlat(self, legs: Sequence[tuple[int, int]]) -> list[NDArray[np.float64]]:
        """The fastest path of each ``(from point, to point)`` leg as ``(k, 2)`` lon/lat.

        The path follows each edge's geometry, starting and ending at the points' projections
        (a leg between one place gives that place twice).
        """
        sources = sorted({a for a, _ in legs if self.node[a] >= 0})
        out: list[NDArray[np.float64]] = []
        if not sources:
            return [np.vstack([self._lonlat(a), self._lonlat(b)]) for a, b in legs]
        _, pred = dijkstra(
            self.time, directed=True, indices=self.node[sources], return_predecessors=True
        )
        row = {s: i for i, s in enumerate(sources)}
        for a, b in legs:
            if a == b or self.node[a] < 0 or self.node[b] < 0:
                out.append(np.vstack([self._lonlat(a), self._lonlat(b)]))
                continue
            nodes = _path(pred[row[a]], int(self.node[b]))
            out.append(self._geometry(nodes) if len(nodes) > 1 else self._lonlat(a)[None, :])
        return out

    def _lonlat(self, k: int) -> NDArray[np.float64]:
        return np.array([self.points.lon[k], self.points.lat[k]])

    def _geometry(self, nodes: list[int]) -> NDArray[np.float64]:
        """Lon/lat along a node path of the point-inserted network."""
        table = self.arrays.edges
        n = self.arrays.n
        pieces: list[NDArray[np.float64]] = []
        for x, y in itertools.pairwise(nodes):
            if x < n and y < n:
                pos = _csr_position(self.arrays.time, x, y)
                e = int(table.csr_edge[pos])
                pieces.append(table.lonlat[table.ptr[e] : table.ptr[e + 1]])
                continue
            p = (y if y >= n else x) - n
            street = int(table.street[self.points.edge[p]])
            pieces.append(table.cut(street, self._frac(x, street), self._frac(y, street)))
        coords = np.vstack(pieces)
        keep = np.ones(len(coords), dtype=bool)
        keep[1:] = np.any(np.abs(np.diff(coords, axis=0)) > 1e-12, axis=1)
        return coords[keep]

    def _frac(self, node: int, street: int) -> float:
        """Fraction along ``street`` of a node of the inserted network on it."""
        n = self.arrays.n
        if node >= n:
            p = node - n
            f = float(self.points.frac[p])
            return f if int(self.points.edge[p]) == street else 1.0 - f
        return 0.0 if node == int(self.arrays.edges.u[street]) else 1.0


def _csr_position(matrix: sparse.csr_matrix, row: int, col: int) -> int:
    lo, hi = int(matrix.indptr[row]), int(matrix.indptr[row + 1])
    hit = np.flatnonzero(matrix.indices[lo:hi] == col)
    if not hit.size:
        msg = f"Expected an edge {row} -> {col} in the network, got none"
        raise ValueError(msg)
    return lo + int(hit[0])


def _path(pred_row: NDArray[np.int32], target: int) -> list[int]:
    out = [int(target)]
    v = int(pred_row[target])
    while v >= 0:
        out.append(v)
        v = int(pred_row[v])
    out.reverse()
    return out


def locate_points(
    area: Area,
    lon: ArrayLike,
    lat: ArrayLike,
    *,
    network: str,
    max_distance: float,
) -> Located:
    """Locate points on ``network`` edges and insert them into the network.

    Points farther than ``max_distance`` from every edge stay off the network (``ok`` false);
    coordinates must be finite and in range (``Area.locate`` raises otherwise).
    """
    lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
    lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    arrays = area.arrays(network)  # type: ignore[arg-type]
    if lon_a.size == 0:
        points = arrays.edges.locate(np.zeros(0), np.zeros(0), max_distance=max_distance)
    else:
        points = area.locate(lon_a, lat_a, network=network, max_distance=max_distance)  # type: ignore[arg-type]
    # insert_points multiplies zero-length pieces by the inf "no way back" of one-way edges
    # before it drops them: numpy's 0 * inf warning there is noise, the result is exact.
    with np.errstate(invalid="ignore"):
        time, length, node = insert_points(arrays, points)
    return Located(arrays, points, time, length, node)
