"""Multi-source Dijkstra labels: the K nearest stations of every walk-graph node.

For each node ``v`` the labels hold up to ``K`` stations sorted by walking time from ``v``
to the station (network time on the walk graph plus the station's own snap leg), the next
node on that walk, and a *certified radius* ``R[v]``:

    every station whose walking time from ``v`` is below ``R[v]`` is in ``v``'s labels.

``R[v]`` is the K-th label time when the row is full, else the search horizon. The
certificate is what makes filtered queries exact: when a filter (amenity, opening hours,
access) keeps fewer than ``k`` labels and the query's time budget exceeds ``R[v]``, the
locator falls back to an exact search from the origin.

How labels are built
--------------------
Times are computed on the *reversed* walk graph (a walk from ``v`` to a station is a walk
from the station to ``v`` on reversed edges) by a K-best multi-source Dijkstra compiled with
numba (:mod:`stations._kbest`): one pass over the graph from all stations at once, each node
accepting at most ``K`` labels from distinct stations and relaxing only those, so set-up
costs ``O(K * E * log)`` however many stations there are. The previous node of each
accepted label is the next node on the walk towards that station, so a walking path is read
off the labels hop by hop with no further search.

Updates keep every row the exact ``K`` nearest live stations (within the horizon):

* **added stations** run the same search seeded only with them, over the existing rows: a
  new station enters a row where it beats the row's ``K``-th label and is not propagated
  past a node where it does not, so the work is local to the nodes it now serves;
* **removed stations** clear the rows that held them and recompute just that region, seeded
  by the stations inside it and by the labels of its border nodes (rows outside the region
  held none of the removed stations, so they are still exact). When the region is more than
  ``max_fraction`` of the graph a fresh build is cheaper and is done instead.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from scipy import sparse

__all__ = [
    "Labels",
    "SearchGraph",
    "add_sources",
    "build_labels",
    "empty_labels",
    "remove_sources",
    "search_graph",
]

logger = logging.getLogger(__name__)

#: A deletion whose region (rows holding a removed station) exceeds this share of the nodes
#: rebuilds the labels instead of repairing the region; see ``benchmarks/bench_locator.py``.
REPAIR_MAX_FRACTION = 0.6


@dataclass(frozen=True, eq=False)
class Labels:
    """The K nearest stations of every node, with a certified radius.

    Attributes
    ----------
    time
        ``(n, K)`` float32 walking time (s) from the node to the station, ``inf`` when empty;
        each row sorted ascending.
    slot
        ``(n, K)`` int32 station slot (the locator's station index), ``-1`` when empty.
    next
        ``(n, K)`` int32 next node on the walk towards that station, ``-1`` at its node.
    radius
        ``(n,)`` float32 certified radius (s): every station closer than this is labelled.
    horizon
        The search bound (s) the labels were built with.
    """

    time: NDArray[np.float32]
    slot: NDArray[np.int32]
    next: NDArray[np.int32]
    radius: NDArray[np.float32]
    horizon: float

    @property
    def k(self) -> int:
        """Labels kept per node."""
        return int(self.time.shape[1])

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return int(self.time.nbytes + self.slot.nbytes + self.next.nbytes + self.radius.nbytes)


@dataclass(frozen=True, eq=False)
class SearchGraph:
    """The reversed walk graph (CSR) and its transpose in the layout the kernels take.

    Build it once per graph with :func:`search_graph`; the functions below also accept the
    reversed CSR matrix itself and convert it on every call (an ``O(E)`` transpose).

    Attributes
    ----------
    indptr, weights
        CSR row pointers and edge times (s) of the reversed walk graph.
    ends
        ``(E, 2)`` int32: each reversed edge's head (CSR column) and tail (CSR row), so that
        a search entry holding the edge knows both the node it reaches and where it came from.
    f_indptr, f_indices, f_weights
        CSR arrays of the walk graph itself (the transpose).
    """

    indptr: NDArray[np.int64]
    ends: NDArray[np.int32]
    weights: NDArray[np.float64]
    f_indptr: NDArray[np.int64]
    f_indices: NDArray[np.int32]
    f_weights: NDArray[np.float64]

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.indptr.size - 1)

    def arrays(
        self,
    ) -> tuple[
        NDArray[np.int64],
        NDArray[np.int32],
        NDArray[np.float64],
        NDArray[np.int64],
        NDArray[np.int32],
        NDArray[np.float64],
    ]:
        """The six arrays in the kernels' order, reversed graph first."""
        return (
            self.indptr,
            self.ends,
            self.weights,
            self.f_indptr,
            self.f_indices,
            self.f_weights,
        )


def search_graph(reverse_time: sparse.csr_matrix | SearchGraph) -> SearchGraph:
    """The :class:`SearchGraph` of a reversed travel-time matrix (returned as is if it is one)."""
    if isinstance(reverse_time, SearchGraph):
        return reverse_time
    reverse = reverse_time.tocsr()
    forward = reverse.T.tocsr()
    indptr = np.asarray(reverse.indptr, dtype=np.int64)
    ends = np.empty((reverse.indices.size, 2), dtype=np.int32)
    ends[:, 0] = reverse.indices
    ends[:, 1] = np.repeat(np.arange(reverse.shape[0], dtype=np.int32), np.diff(indptr))
    return SearchGraph(
        indptr,
        ends,
        np.asarray(reverse.data, dtype=np.float64),
        np.asarray(forward.indptr, dtype=np.int64),
        np.asarray(forward.indices, dtype=np.int32),
        np.asarray(forward.data, dtype=np.float64),
    )


def empty_labels(n: int, k: int, horizon: float) -> Labels:
    """Labels of ``n`` nodes with no station yet (every radius is the horizon)."""
    return Labels(
        time=np.full((n, k), np.inf, dtype=np.float32),
        slot=np.full((n, k), -1, dtype=np.int32),
        next=np.full((n, k), -1, dtype=np.int32),
        radius=np.full(n, horizon, dtype=np.float32),
        horizon=float(horizon),
    )


def build_labels(
    reverse_time: sparse.csr_matrix | SearchGraph,
    nodes: NDArray[np.intp],
    offsets: NDArray[np.float64],
    slots: NDArray[np.int32],
    *,
    k: int,
    horizon: float,
) -> Labels:
    """Labels of stations ``slots`` (at ``nodes``, ``offsets`` s off-network), in one pass.

    Parameters
    ----------
    reverse_time
        The walk graph's travel-time matrix, transposed (CSR), or its :class:`SearchGraph`.
    nodes
        Dense node index of each station.
    offsets
        Snap leg of each station in seconds (added to every time to it).
    slots
        The stations' slots.
    k
        Labels kept per node.
    horizon
        Search bound (s): stations farther than this from a node are not labelled there.
    """
    graph = search_graph(reverse_time)
    return add_sources(empty_labels(graph.n, k, horizon), graph, nodes, offsets, slots)


def add_sources(
    labels: Labels,
    reverse_time: sparse.csr_matrix | SearchGraph,
    nodes: NDArray[np.intp],
    offsets: NDArray[np.float64],
    slots: NDArray[np.int32],
) -> Labels:
    """Return new labels with stations ``slots`` (at ``nodes``, ``offsets`` s off-network) added.

    Parameters
    ----------
    labels
        Current labels (left unchanged); each row the exact ``K`` nearest of its stations.
    reverse_time
        The walk graph's travel-time matrix, transposed (CSR), or its :class:`SearchGraph`.
    nodes
        Dense node index of each new station.
    offsets
        Snap leg of each station in seconds (added to every time to it).
    slots
        The stations' slots (not yet in ``labels``).
    """
    from ._kbest import kbest_search, label_records  # numba: imported on first use

    t0 = time.perf_counter()
    graph = search_graph(reverse_time)
    seed_s = _checked_slots(slots, graph)
    W, kth, count = label_records(labels.time, labels.slot, labels.next)
    R = labels.radius.astype(np.float64)
    seed_n: NDArray[np.int32] = np.asarray(nodes, dtype=np.int32)
    accepted = kbest_search(
        *graph.arrays(),
        W,
        kth,
        count,
        R,
        np.asarray(offsets, dtype=np.float64),
        seed_n,
        seed_s,
        np.ones(seed_n.size, dtype=np.bool_),
        np.ones(graph.n, dtype=np.bool_),
        float(labels.horizon),
    )
    logger.debug(
        "added %d stations to %d-node labels (K=%d): %d labels set in %.3f s",
        seed_n.size,
        graph.n,
        labels.k,
        accepted,
        time.perf_counter() - t0,
    )
    return _finish(W, R, labels.horizon)


def remove_sources(
    labels: Labels,
    reverse_time: sparse.csr_matrix | SearchGraph,
    slots: NDArray[np.int32],
    *,
    nodes: NDArray[np.intp],
    offsets: NDArray[np.float64],
    live: NDArray[np.int32],
    max_fraction: float = REPAIR_MAX_FRACTION,
) -> Labels:
    """Return new labels without stations ``slots``, every row again the exact ``K`` nearest.

    Parameters
    ----------
    labels
        Current labels (left unchanged).
    reverse_time
        The walk graph's travel-time matrix, transposed (CSR), or its :class:`SearchGraph`.
    slots
        The removed stations' slots.
    nodes, offsets, live
        Node, snap leg (s) and slot of every station that stays (all of them: those inside
        the repaired region seed its search; a rebuild uses them all).
    max_fraction
        Rebuild from scratch when more than this share of the rows held a removed station.
    """
    slots = np.asarray(slots, dtype=np.int32)
    if slots.size == 0:
        return labels
    t0 = time.perf_counter()
    n = labels.time.shape[0]
    region: NDArray[np.bool_] = np.asarray(np.isin(labels.slot, slots).any(axis=1), dtype=bool)
    size = int(region.sum())
    if size == 0:
        return labels
    if size > max_fraction * n:
        out = build_labels(reverse_time, nodes, offsets, live, k=labels.k, horizon=labels.horizon)
        logger.debug(
            "removed %d stations: %d of %d rows affected, rebuilt in %.3f s",
            slots.size,
            size,
            n,
            time.perf_counter() - t0,
        )
        return out
    from ._kbest import boundary_seeds, kbest_search, label_records

    graph = search_graph(reverse_time)
    live_s = _checked_slots(live, graph)
    W, kth, count = label_records(labels.time, labels.slot, labels.next)
    k = labels.k
    W[region, : 2 * k] = -1
    W.view(np.float64)[region, k:] = np.inf
    kth[region] = np.inf
    count[region] = 0
    R = labels.radius.astype(np.float64)
    R[region] = labels.horizon
    bt, bn, bs = boundary_seeds(
        graph.indptr, graph.ends, graph.weights, W, count, region, float(labels.horizon)
    )
    live_n: NDArray[np.int32] = np.asarray(nodes, dtype=np.int32)
    inside = region[live_n]
    seed_t = np.concatenate([np.asarray(offsets, dtype=np.float64)[inside], bt])
    seed_n: NDArray[np.int32] = np.concatenate([live_n[inside], bn])
    seed_s = np.concatenate([live_s[inside], bs])
    at_source = np.zeros(seed_t.size, dtype=np.bool_)
    at_source[: int(inside.sum())] = True
    accepted = kbest_search(
        *graph.arrays(),
        W,
        kth,
        count,
        R,
        seed_t,
        seed_n,
        seed_s,
        at_source,
        region,
        float(labels.horizon),
    )
    logger.debug(
        "removed %d stations: repaired %d of %d rows (%d labels) in %.3f s",
        slots.size,
        size,
        n,
        accepted,
        time.perf_counter() - t0,
    )
    return _finish(W, R, labels.horizon)


def _checked_slots(slots: NDArray[np.int32], graph: SearchGraph) -> NDArray[np.int32]:
    """``slots`` as int32, once checked against what a search entry can encode."""
    from ._kbest import MAX_EDGES, MAX_SOURCES

    out = np.asarray(slots, dtype=np.int32)
    if out.size and not (int(out.min()) >= 0 and int(out.max()) < MAX_SOURCES):
        msg = (
            f"Expected station slots in [0, {MAX_SOURCES:,}), got "
            f"{int(out.min()):,} to {int(out.max()):,}"
        )
        raise ValueError(msg)
    if graph.ends.shape[0] >= MAX_EDGES:
        msg = f"Expected fewer than {MAX_EDGES:,} walk edges, got {graph.ends.shape[0]:,}"
        raise ValueError(msg)
    return out


def _finish(W: NDArray[np.int32], R: NDArray[np.float64], horizon: float) -> Labels:
    from ._kbest import record_rows

    time_, slot, nxt = record_rows(W)
    return Labels(time=time_, slot=slot, next=nxt, radius=R.astype(np.float32), horizon=horizon)
