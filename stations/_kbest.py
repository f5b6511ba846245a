"""Compiled K-best multi-source Dijkstra (numba) behind :mod:`stations._labels`.

One search over the graph keeps, for every node, the ``K`` nearest *distinct* sources:

* a 4-ary heap holds ``(time, node, source)`` entries;
* a node accepts a popped entry unless it already holds that source or already holds ``K``
  labels no later than the entry's time;
* only accepted labels are relaxed, so every node relaxes at most ``K`` times and the work is
  ``O(K * E * log)`` whatever the number of sources.

Accepted labels are exact: a source among the ``K`` nearest of ``v`` is among the ``K``
nearest of every node on its shortest path to ``v`` (up to ties, where an equally near source
takes its place), so its shortest path survives the pruning. Entries arrive in time order, so
the first ``K`` distinct sources a node accepts are its ``K`` nearest.

The same kernel updates labels in place: started on existing rows (exact ``K`` nearest of
the old sources) with only new sources as seeds, it inserts each new source where it beats a
row's ``K``-th label and stops where it does not (nothing beyond such a node can want it
either). Restricted to a node mask and seeded from the labels of the mask's boundary, it
recomputes the rows of a region after sources were deleted.

The functions are compiled on first call and cached on disk (``cache=True``): later
processes load the machine code instead of compiling (numba's ``NUMBA_CACHE_DIR`` moves the
cache when the package directory is read-only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["boundary_seeds", "kbest_search"]


_NODE_SHIFT = 32
_SRC_MASK = (1 << 32) - 1
_AT_SOURCE = 1 << 62  # flag bit of a heap entry seeded at its station's own node


@njit(cache=True, nogil=True)
def _heap_push(
    hk: NDArray[np.float64],
    hv: NDArray[np.int64],
    hp: NDArray[np.int32],
    size: int,
    t: float,
    value: int | np.int64,
    came_from: int | np.int64,
) -> int:
    """Push onto a 4-ary min-heap of (time, packed entry, previous node); return the new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        if hk[parent] <= t:
            break
        hk[i] = hk[parent]
        hv[i] = hv[parent]
        hp[i] = hp[parent]
        i = parent
    hk[i] = t
    hv[i] = value
    hp[i] = came_from
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(
    hk: NDArray[np.float64], hv: NDArray[np.int64], hp: NDArray[np.int32], size: int
) -> int:
    """Remove the root (read it first); return the new size."""
    size -= 1
    t = hk[size]
    value = hv[size]
    came_from = hp[size]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        c = first
        last = min(first + 4, size)
        for j in range(first + 1, last):
            if hk[j] < hk[c]:
                c = j
        if hk[c] >= t:
            break
        hk[i] = hk[c]
        hv[i] = hv[c]
        hp[i] = hp[c]
        i = c
    if size > 0:
        hk[i] = t
        hv[i] = value
        hp[i] = came_from
    return size


@njit(cache=True, nogil=True)
def _grow_f8(a: NDArray[np.float64], cap: int) -> NDArray[np.float64]:
    out = np.empty(cap, dtype=np.float64)
    out[: a.size] = a
    return out


@njit(cache=True, nogil=True)
def _grow_i8(a: NDArray[np.int64], cap: int) -> NDArray[np.int64]:
    out = np.empty(cap, dtype=np.int64)
    out[: a.size] = a
    return out


@njit(cache=True, nogil=True)
def _grow_i4(a: NDArray[np.int32], cap: int) -> NDArray[np.int32]:
    out = np.empty(cap, dtype=np.int32)
    out[: a.size] = a
    return out


@njit(cache=True, nogil=True)
def _previous(
    f_indptr: NDArray[np.int64],
    f_indices: NDArray[np.int32],
    f_weights: NDArray[np.float64],
    T: NDArray[np.float64],
    S: NDArray[np.int32],
    v: int | np.int64,
    s: int | np.int64,
    t: float,
) -> int:
    """The neighbour whose label for ``s`` plus the edge to it gives ``t`` (-1 if none).

    A relaxed heap entry carries the node it came from; a seed that carries a label in from
    outside a region (:func:`boundary_seeds`) does not, and its neighbour is found here
    among ``v``'s out-neighbours, whose label for ``s`` plus the edge weight reproduces
    ``t`` bit for bit.
    """
    k = S.shape[1]
    for f in range(f_indptr[v], f_indptr[v + 1]):
        u = f_indices[f]
        for j in range(k):
            if S[u, j] < 0:
                break
            if S[u, j] == s:
                if T[u, j] + f_weights[f] == t:
                    return u
                break
    return -1


@njit(cache=True, nogil=True)
def kbest_search(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    weights: NDArray[np.float64],
    f_indptr: NDArray[np.int64],
    f_indices: NDArray[np.int32],
    f_weights: NDArray[np.float64],
    T: NDArray[np.float64],
    S: NDArray[np.int32],
    N: NDArray[np.int32],
    R: NDArray[np.float64],
    seed_t: NDArray[np.float64],
    seed_node: NDArray[np.int32],
    seed_src: NDArray[np.int32],
    seed_at_source: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    horizon: float,
) -> int:
    """Run the K-best search from the seeds, updating ``T, S, N, R`` in place.

    Parameters
    ----------
    indptr, indices, weights
        CSR arrays of the graph the search walks (the reversed walk graph).
    f_indptr, f_indices, f_weights
        The same graph transposed (the walk graph): where each label's next node is found.
    T, S, N
        ``(n, K)`` rows sorted by time: time, source, next node (``-1`` at the source's
        own node); empty entries are ``inf`` / ``-1`` / ``-1`` at the end of a row.
    R
        ``(n,)`` certified radius, lowered to a row's ``K``-th time when the row fills.
    seed_t, seed_node, seed_src
        Initial heap entries.
    seed_at_source
        Per seed: it is the source at its own node (next ``-1``), not a label carried in
        from a neighbour.
    allowed
        Nodes that may accept labels; the others are neither labelled nor crossed.
    horizon
        Entries later than this are dropped.

    Returns
    -------
    int
        Labels accepted.
    """
    k = T.shape[1]
    cap = max(1024, 4 * seed_t.size)
    hk = np.empty(cap, dtype=np.float64)
    hv = np.empty(cap, dtype=np.int64)
    hp = np.empty(cap, dtype=np.int32)  # the node an entry was relaxed from (-1: a seed)
    size = 0
    for i in range(seed_t.size):
        if seed_t[i] > horizon or not allowed[seed_node[i]]:
            continue
        value = (np.int64(seed_node[i]) << _NODE_SHIFT) | np.int64(seed_src[i])
        if seed_at_source[i]:
            value |= _AT_SOURCE
        size = _heap_push(hk, hv, hp, size, seed_t[i], value, -1)
    accepted = 0
    while size > 0:
        t = hk[0]
        value = hv[0]
        came_from = hp[0]
        size = _heap_pop(hk, hv, hp, size)
        u = np.int64((value & ~_AT_SOURCE) >> _NODE_SHIFT)
        s = np.int64(value & _SRC_MASK)
        if S[u, k - 1] >= 0 and T[u, k - 1] <= t:
            continue  # K sources already reach u no later
        dup = False
        for j in range(k):
            if S[u, j] == s:
                dup = True
                break
            if S[u, j] < 0:
                break
        if dup:
            continue
        p = -1
        if came_from >= 0:
            p = came_from
        elif not (value & _AT_SOURCE):  # a label carried in by a seed: find its neighbour
            p = _previous(f_indptr, f_indices, f_weights, T, S, u, s, t)
        pos = 0
        while T[u, pos] <= t:  # stops inside the row: T[u, k-1] > t here
            pos += 1
        for j in range(k - 1, pos, -1):
            T[u, j] = T[u, j - 1]
            S[u, j] = S[u, j - 1]
            N[u, j] = N[u, j - 1]
        T[u, pos] = t
        S[u, pos] = s
        N[u, pos] = p
        if S[u, k - 1] >= 0 and T[u, k - 1] < R[u]:
            R[u] = T[u, k - 1]
        accepted += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nt = t + weights[e]
            if nt > horizon or not allowed[v]:
                continue
            if S[v, k - 1] >= 0 and T[v, k - 1] <= nt:
                continue
            seen = False
            for j in range(k):
                if S[v, j] == s:
                    seen = True
                    break
                if S[v, j] < 0:
                    break
            if seen:
                continue
            if size == hk.size:
                hk = _grow_f8(hk, 2 * hk.size)
                hv = _grow_i8(hv, 2 * hv.size)
                hp = _grow_i4(hp, 2 * hp.size)
            size = _heap_push(hk, hv, hp, size, nt, (np.int64(v) << _NODE_SHIFT) | s, u)
    return accepted


@njit(cache=True, nogil=True)
def boundary_seeds(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    weights: NDArray[np.float64],
    T: NDArray[np.float64],
    S: NDArray[np.int32],
    region: NDArray[np.bool_],
    horizon: float,
) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.int32]]:
    """Heap entries carrying the labels of nodes outside ``region`` across its border.

    For every edge ``u -> v`` with ``u`` outside and ``v`` inside the region, one entry per
    label of ``u``: ``(T[u, j] + w, v, S[u, j])``.
    """
    n, k = T.shape
    count = 0
    for u in range(n):
        if region[u]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            if region[indices[e]]:
                for j in range(k):
                    if S[u, j] < 0 or T[u, j] + weights[e] > horizon:
                        break
                    count += 1
    st = np.empty(count, dtype=np.float64)
    sn = np.empty(count, dtype=np.int32)
    ss = np.empty(count, dtype=np.int32)
    i = 0
    for u in range(n):
        if region[u]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            if region[v]:
                for j in range(k):
                    if S[u, j] < 0 or T[u, j] + weights[e] > horizon:
                        break
                    st[i] = T[u, j] + weights[e]
                    sn[i] = v
                    ss[i] = S[u, j]
                    i += 1
    return st, sn, ss
