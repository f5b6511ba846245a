"""Compiled K-best multi-source Dijkstra (numba) behind :mod:`stations._labels`.

One search over the graph keeps, for every node, the ``K`` nearest *distinct* sources:

* the heap holds ``(time, node, source, previous node)`` entries;
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


@njit(cache=True, nogil=True)
def _heap_push(
    hk: NDArray[np.float64],
    hn: NDArray[np.int32],
    hs: NDArray[np.int32],
    hp: NDArray[np.int32],
    size: int,
    t: float,
    node: int,
    src: int,
    prev: int,
) -> int:
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if hk[parent] <= t:
            break
        hk[i] = hk[parent]
        hn[i] = hn[parent]
        hs[i] = hs[parent]
        hp[i] = hp[parent]
        i = parent
    hk[i] = t
    hn[i] = node
    hs[i] = src
    hp[i] = prev
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(
    hk: NDArray[np.float64],
    hn: NDArray[np.int32],
    hs: NDArray[np.int32],
    hp: NDArray[np.int32],
    size: int,
) -> int:
    """Remove the root (read it first); return the new size."""
    size -= 1
    t = hk[size]
    node = hn[size]
    src = hs[size]
    prev = hp[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and hk[c + 1] < hk[c]:
            c += 1
        if hk[c] >= t:
            break
        hk[i] = hk[c]
        hn[i] = hn[c]
        hs[i] = hs[c]
        hp[i] = hp[c]
        i = c
    if size > 0:
        hk[i] = t
        hn[i] = node
        hs[i] = src
        hp[i] = prev
    return size


@njit(cache=True, nogil=True)
def _grow_f8(a: NDArray[np.float64], cap: int) -> NDArray[np.float64]:
    out = np.empty(cap, dtype=np.float64)
    out[: a.size] = a
    return out


@njit(cache=True, nogil=True)
def _grow_i4(a: NDArray[np.int32], cap: int) -> NDArray[np.int32]:
    out = np.empty(cap, dtype=np.int32)
    out[: a.size] = a
    return out


@njit(cache=True, nogil=True)
def kbest_search(
    indptr: NDArray[np.int64],
    indices: NDArray[np.int32],
    weights: NDArray[np.float64],
    T: NDArray[np.float64],
    S: NDArray[np.int32],
    N: NDArray[np.int32],
    R: NDArray[np.float64],
    seed_t: NDArray[np.float64],
    seed_node: NDArray[np.int32],
    seed_src: NDArray[np.int32],
    seed_prev: NDArray[np.int32],
    allowed: NDArray[np.bool_],
    horizon: float,
) -> int:
    """Run the K-best search from the seeds, updating ``T, S, N, R`` in place.

    Parameters
    ----------
    indptr, indices, weights
        CSR arrays of the graph the search walks (the reversed walk graph).
    T, S, N
        ``(n, K)`` rows sorted by time: time, source, previous node (``-1`` at the seed);
        empty entries are ``inf`` / ``-1`` / ``-1`` at the end of a row.
    R
        ``(n,)`` certified radius, lowered to a row's ``K``-th time when the row fills.
    seed_t, seed_node, seed_src, seed_prev
        Initial heap entries.
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
    hn = np.empty(cap, dtype=np.int32)
    hs = np.empty(cap, dtype=np.int32)
    hp = np.empty(cap, dtype=np.int32)
    size = 0
    for i in range(seed_t.size):
        if seed_t[i] > horizon or not allowed[seed_node[i]]:
            continue
        size = _heap_push(hk, hn, hs, hp, size, seed_t[i], seed_node[i], seed_src[i], seed_prev[i])
    accepted = 0
    while size > 0:
        t = hk[0]
        u = hn[0]
        s = hs[0]
        p = hp[0]
        size = _heap_pop(hk, hn, hs, hp, size)
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
                cap = 2 * hk.size
                hk = _grow_f8(hk, cap)
                hn = _grow_i4(hn, cap)
                hs = _grow_i4(hs, cap)
                hp = _grow_i4(hp, cap)
            size = _heap_push(hk, hn, hs, hp, size, nt, v, s, u)
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
) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.int32], NDArray[np.int32]]:
    """Heap entries carrying the labels of nodes outside ``region`` across its border.

    For every edge ``u -> v`` with ``u`` outside and ``v`` inside the region, one entry per
    label of ``u``: ``(T[u, j] + w, v, S[u, j], u)``.
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
    sp = np.empty(count, dtype=np.int32)
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
                    sp[i] = u
                    i += 1
    return st, sn, ss, sp
