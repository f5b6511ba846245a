"""Compiled walking searches of the coverage and siting tools.

Two kernels on a CSR graph (``indptr``, ``indices``, ``data``; the *reversed* walk graph, so
that a search from stations gives every node's walk *to* its nearest station):

* :func:`relax_from` — one multi-source Dijkstra seeded with arbitrary start times (a
  station's straight leg plus the partial edge to each end of its street), keeping for every
  node the time and the seed that reached it first. It only ever lowers a node's time, so the
  same kernel computes a coverage from scratch (all times ``inf``), adds a station (seeded
  from it alone over the current times) and repairs the region a removed station leaves
  (its nodes reset to ``inf``, seeded from their border).
* :func:`reach_each` — one bounded search per source, keeping only the nodes within the
  budget: the sparse (source, node, time) triples siting needs, never a dense matrix.

Both use a binary heap with lazy deletion (a node may be pushed several times; stale entries
are skipped when popped).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["reach_each", "relax_from"]


@njit(cache=True, nogil=True)
def _push(
    heap_t: NDArray[np.float64], heap_n: NDArray[np.int64], size: int, t: float, node: int
) -> int:  # pragma: no cover - compiled
    i = size
    heap_t[i] = t
    heap_n[i] = node
    while i > 0:
        parent = (i - 1) >> 1
        if heap_t[parent] <= heap_t[i]:
            break
        heap_t[parent], heap_t[i] = heap_t[i], heap_t[parent]
        heap_n[parent], heap_n[i] = heap_n[i], heap_n[parent]
        i = parent
    return size + 1


@njit(cache=True, nogil=True)
def _pop(
    heap_t: NDArray[np.float64], heap_n: NDArray[np.int64], size: int
) -> tuple[float, int, int]:  # pragma: no cover - compiled
    t, node = heap_t[0], heap_n[0]
    size -= 1
    heap_t[0] = heap_t[size]
    heap_n[0] = heap_n[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and heap_t[left + 1] < heap_t[left]:
            child = left + 1
        if heap_t[i] <= heap_t[child]:
            break
        heap_t[child], heap_t[i] = heap_t[i], heap_t[child]
        heap_n[child], heap_n[i] = heap_n[i], heap_n[child]
        i = child
    return t, node, size


@njit(cache=True, nogil=True)
def _grow(
    heap_t: NDArray[np.float64], heap_n: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:  # pragma: no cover - compiled
    new_t = np.empty(heap_t.size * 2, dtype=np.float64)
    new_n = np.empty(heap_n.size * 2, dtype=np.int64)
    new_t[: heap_t.size] = heap_t
    new_n[: heap_n.size] = heap_n
    return new_t, new_n


@njit(cache=True, nogil=True)
def _append(
    items: NDArray[np.int64], count: int, value: int
) -> NDArray[np.int64]:  # pragma: no cover - compiled
    """``items`` with ``value`` at ``count`` (doubled first when full)."""
    if count >= items.size:
        grown = np.empty(items.size * 2, dtype=np.int64)
        grown[:count] = items[:count]
        items = grown
    items[count] = value
    return items


@njit(cache=True, nogil=True)
def relax_from(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    data: NDArray[np.float64],
    dist: NDArray[np.float64],
    owner: NDArray[np.int64],
    seed_node: NDArray[np.int64],
    seed_time: NDArray[np.float64],
    seed_owner: NDArray[np.int64],
    limit: float,
) -> NDArray[np.int64]:  # pragma: no cover - compiled
    """Lower ``dist`` / ``owner`` in place from the seeds; return the nodes that changed.

    A seed ``(node, time, owner)`` starts the search at ``node`` with ``time`` already spent.
    Times above ``limit`` are not kept (they stay as they were, ``inf`` in a fresh search).
    """
    n = dist.size
    cap = max(1024, 2 * seed_node.size + 16)
    heap_t = np.empty(cap, dtype=np.float64)
    heap_n = np.empty(cap, dtype=np.int64)
    size = 0
    changed = np.empty(max(16, seed_node.size), dtype=np.int64)
    n_changed = 0
    touched = np.zeros(n, dtype=np.bool_)
    for i in range(seed_node.size):
        x = seed_node[i]
        t = seed_time[i]
        if x < 0 or not t <= limit or not t < dist[x]:
            continue
        dist[x] = t
        owner[x] = seed_owner[i]
        if size >= heap_t.size:
            heap_t, heap_n = _grow(heap_t, heap_n)
        size = _push(heap_t, heap_n, size, t, x)
    while size > 0:
        t, x, size = _pop(heap_t, heap_n, size)
        if t > dist[x]:
            continue  # stale entry
        if not touched[x]:
            touched[x] = True
            changed = _append(changed, n_changed, x)
            n_changed += 1
        src = owner[x]
        for k in range(indptr[x], indptr[x + 1]):
            y = indices[k]
            ty = t + data[k]
            if ty < dist[y] and ty <= limit:
                dist[y] = ty
                owner[y] = src
                if size >= heap_t.size:
                    heap_t, heap_n = _grow(heap_t, heap_n)
                size = _push(heap_t, heap_n, size, ty, y)
    return changed[:n_changed]


@njit(cache=True, nogil=True)
def reach_each(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    data: NDArray[np.float64],
    n: int,
    seed_ptr: NDArray[np.int64],
    seed_node: NDArray[np.int64],
    seed_time: NDArray[np.float64],
    limit: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:  # pragma: no cover
    """One bounded search per source; the nodes each reaches within ``limit``.

    Source ``s`` is seeded by ``seed_node/seed_time[seed_ptr[s]:seed_ptr[s + 1]]``.

    Returns
    -------
    tuple
        ``(ptr, node, time)``: source ``s`` reaches ``node[ptr[s]:ptr[s + 1]]`` in
        ``time[...]`` seconds (each node once, at its least time).
    """
    n_src = seed_ptr.size - 1
    dist = np.full(n, np.inf)
    done = np.zeros(n, dtype=np.bool_)
    heap_t = np.empty(1024, dtype=np.float64)
    heap_n = np.empty(1024, dtype=np.int64)
    out_n = np.empty(1024, dtype=np.int64)
    out_t = np.empty(1024, dtype=np.float64)
    ptr = np.zeros(n_src + 1, dtype=np.int64)
    total = 0
    seen = np.empty(1024, dtype=np.int64)
    for s in range(n_src):
        size = 0
        n_seen = 0
        for i in range(seed_ptr[s], seed_ptr[s + 1]):
            x = seed_node[i]
            t = seed_time[i]
            if x < 0 or not t <= limit or not t < dist[x]:
                continue
            if dist[x] == np.inf:
                seen = _append(seen, n_seen, x)
                n_seen += 1
            dist[x] = t
            if size >= heap_t.size:
                heap_t, heap_n = _grow(heap_t, heap_n)
            size = _push(heap_t, heap_n, size, t, x)
        while size > 0:
            t, x, size = _pop(heap_t, heap_n, size)
            if done[x] or t > dist[x]:
                continue
            done[x] = True
            if total >= out_n.size:
                grown_n = np.empty(out_n.size * 2, dtype=np.int64)
                grown_t = np.empty(out_t.size * 2, dtype=np.float64)
                grown_n[:total] = out_n[:total]
                grown_t[:total] = out_t[:total]
                out_n, out_t = grown_n, grown_t
            out_n[total] = x
            out_t[total] = t
            total += 1
            for k in range(indptr[x], indptr[x + 1]):
                y = indices[k]
                ty = t + data[k]
                if ty < dist[y] and ty <= limit:
                    if dist[y] == np.inf:
                        seen = _append(seen, n_seen, y)
                        n_seen += 1
                    dist[y] = ty
                    if size >= heap_t.size:
                        heap_t, heap_n = _grow(heap_t, heap_n)
                    size = _push(heap_t, heap_n, size, ty, y)
        for i in range(n_seen):  # reset only what this source touched
            dist[seen[i]] = np.inf
            done[seen[i]] = False
        ptr[s + 1] = total
    return ptr, out_n[:total].copy(), out_t[:total].copy()
