"""Travel-time and distance matrices among stops and workplaces.

:class:`StopMatrix` holds integer drive seconds and metres among the planner's locations (see
:meth:`routing.shuttle.roads.Located.drive_matrix`, which fills it from a few multi-source
``scipy.sparse.csgraph.dijkstra`` calls). Distances are the length of the *fastest* path, found
by pointer jumping over the shortest-path tree (:func:`tree_lengths`) rather than by walking
each path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from numpy.typing import NDArray


__all__ = ["UNREACHABLE", "StopMatrix", "edge_values", "tree_lengths"]

logger = logging.getLogger(__name__)

#: Duration / distance standing for "no path" in integer matrices (about 31 years / 1e6 km).
UNREACHABLE = 1_000_000_000


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


def tree_lengths(
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
