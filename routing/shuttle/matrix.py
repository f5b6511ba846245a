"""Travel-time and distance matrices among stops and workplaces, and walk distances to stops.

All shortest paths run on :class:`~routing.network.GraphArrays` with
``scipy.sparse.csgraph.dijkstra`` in a few multi-source calls. Durations are the fastest drive
(integer seconds, rounded); distances are the length of that fastest path (integer metres),
found by pointer jumping over the shortest-path tree rather than by walking each path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from routing.network import GraphArrays

__all__ = [
    "UNREACHABLE",
    "StopMatrix",
    "drive_matrix",
    "edge_values",
    "path_indices",
    "walk_distances",
]

logger = logging.getLogger(__name__)

#: Duration / distance standing for "no path" in integer matrices (about 31 years / 1e6 km).
UNREACHABLE = 1_000_000_000

_CHUNK_CELLS = 4_000_000  # rows x nodes per dijkstra call, bounding memory to ~100 MB


@dataclass(frozen=True, eq=False)
class StopMatrix:
    """Square integer matrices over locations (stops, then workplaces).

    Attributes
    ----------
    ids
        Location ids, matrix order.
    duration
        Fastest drive in seconds, ``duration[i, j]`` from ``ids[i]`` to ``ids[j]``;
        :data:`UNREACHABLE` where there is no path.
    distance
        Length in metres of that fastest drive (:data:`UNREACHABLE` where no path).
    """

    ids: tuple[str, ...]
    duration: NDArray[np.int64]
    distance: NDArray[np.int64]

    def __post_init__(self) -> None:
        n = len(self.ids)
        for name in ("duration", "distance"):
            m = getattr(self, name)
            if m.shape != (n, n):
                msg = f"Expected {name} of shape ({n}, {n}), got {m.shape}"
                raise ValueError(msg)
            if (m < 0).any():
                msg = f"Expected non-negative {name}s, got {int(m.min())}"
                raise ValueError(msg)

    def index(self, location_id: str) -> int:
        """Matrix index of a location id."""
        try:
            return self.ids.index(location_id)
        except ValueError:
            msg = f"Expected a location id of this matrix, got {location_id!r}"
            raise KeyError(msg) from None


def edge_values(
    matrix: sparse.csr_matrix, rows: NDArray[np.intp], cols: NDArray[np.intp]
) -> NDArray[np.float64]:
    """Values of a CSR matrix at ``(rows[k], cols[k])``, vectorised (0 where absent)."""
    coo = matrix.tocoo()
    n = matrix.shape[1]
    keys = coo.row.astype(np.int64) * n + coo.col.astype(np.int64)
    order = np.argsort(keys)
    keys, vals = keys[order], coo.data[order]
    want = rows.astype(np.int64) * n + cols.astype(np.int64)
    pos = np.searchsorted(keys, want)
    pos = np.minimum(pos, len(keys) - 1)
    found = keys[pos] == want
    return np.where(found, vals[pos], 0.0)


def _tree_lengths(
    pred: NDArray[np.int32],
    sources: NDArray[np.intp],
    length: sparse.csr_matrix,
) -> NDArray[np.float64]:
    """Length from each source to every node along the shortest-path tree ``pred``.

    Pointer jumping: ``L[v] += L[P[v]]; P[v] = P[P[v]]`` until every pointer reaches the root,
    ``O(log depth)`` vectorised passes instead of walking each path.
    """
    k, n = pred.shape
    has = pred >= 0
    rows = np.repeat(np.arange(k), n).reshape(k, n)
    cols = np.tile(np.arange(n), k).reshape(k, n)
    lens = np.zeros((k, n), dtype=float)
    lens[has] = edge_values(length, pred[has].astype(np.intp), cols[has].astype(np.intp))
    ptr = np.where(has, pred, -1).astype(np.int64)
    while True:
        active = ptr >= 0
        if not active.any():
            break
        r = rows[active]
        p = ptr[active]
        lens[active] += lens[r, p]
        ptr[active] = ptr[r, p]
    lens[np.arange(k), sources] = 0.0
    return lens


def drive_matrix(
    arrays: GraphArrays,
    indices: ArrayLike,
    ids: list[str] | tuple[str, ...],
) -> StopMatrix:
    """Integer duration / distance matrix among drive-graph nodes.

    Parameters
    ----------
    arrays
        Drive graph arrays (``area.arrays("drive")``).
    indices
        Dense node indices of the locations (repeats allowed).
    ids
        One id per location.
    """
    idx = np.asarray(indices, dtype=np.intp)
    if len(idx) != len(ids):
        msg = f"Expected one id per location, got {len(ids)} ids for {len(idx)} locations"
        raise ValueError(msg)
    uniq, inverse = np.unique(idx, return_inverse=True)
    u = len(uniq)
    dur = np.full((u, u), np.inf)
    dist = np.full((u, u), np.inf)
    step = max(1, _CHUNK_CELLS // max(arrays.n, 1))
    for start in range(0, u, step):
        src = uniq[start : start + step]
        t, pred = dijkstra(arrays.time, directed=True, indices=src, return_predecessors=True)
        lens = _tree_lengths(pred, src, arrays.length)
        dur[start : start + len(src)] = t[:, uniq]
        dist[start : start + len(src)] = np.where(np.isfinite(t[:, uniq]), lens[:, uniq], np.inf)
    full_dur = dur[np.ix_(inverse, inverse)]
    full_dist = dist[np.ix_(inverse, inverse)]
    d_int = np.where(np.isfinite(full_dur), np.rint(full_dur), UNREACHABLE).astype(np.int64)
    m_int = np.where(np.isfinite(full_dist), np.rint(full_dist), UNREACHABLE).astype(np.int64)
    return StopMatrix(tuple(ids), d_int, m_int)


def walk_distances(
    arrays: GraphArrays,
    stop_indices: NDArray[np.intp],
    stop_offsets: NDArray[np.float64],
    home_indices: NDArray[np.intp],
    home_offsets: NDArray[np.float64],
    *,
    limit: float,
) -> sparse.csr_matrix:
    """Walk distances (metres) from homes to stops, those within ``limit`` only.

    A walk is: straight from the home to its walk-graph node (``home_offsets``), along the walk
    graph, straight from the stop's walk node to the stop (``stop_offsets``). Runs a bounded
    Dijkstra from every stop on the reversed walk graph (so one-way footpaths are honoured).

    Returns
    -------
    scipy.sparse.csr_matrix
        Shape ``(n_homes, n_stops)``; stored entries are walks ``<= limit`` (a zero-metre walk
        is stored as ``1e-9`` so it is not lost as an implicit zero).
    """
    reverse = arrays.length.T.tocsr()
    n_homes = len(home_indices)
    rows: list[NDArray[np.intp]] = []
    cols: list[NDArray[np.intp]] = []
    vals: list[NDArray[np.float64]] = []
    step = max(1, _CHUNK_CELLS // max(arrays.n, 1))
    for start in range(0, len(stop_indices), step):
        src = stop_indices[start : start + step]
        off = stop_offsets[start : start + step]
        # Bound each search by what is left of the walk after the stop's own offset.
        bound = float(limit - max(0.0, float(off.min()))) if len(off) else 0.0
        if bound < 0:
            continue
        d = dijkstra(reverse, directed=True, indices=src, limit=bound)
        walk = d[:, home_indices] + off[:, None] + home_offsets[None, :]
        r_stop, r_home = np.nonzero(walk <= limit)
        rows.append(r_home.astype(np.intp))
        cols.append((r_stop + start).astype(np.intp))
        vals.append(np.maximum(walk[r_stop, r_home], 1e-9))
    if rows:
        out = sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n_homes, len(stop_indices)),
        )
    else:
        out = sparse.csr_matrix((n_homes, len(stop_indices)))
    return out


def path_indices(pred_row: NDArray[np.int32], target: int) -> list[int]:
    """Node indices of the path ending at ``target`` in one predecessor row (source first)."""
    out = [int(target)]
    v = int(pred_row[target])
    while v >= 0:
        out.append(v)
        v = int(pred_row[v])
    out.reverse()
    return out
