"""Compiled K-best multi-source Dijkstra (numba) behind :mod:`stations._labels`.

One search over the graph keeps, for every node, the ``K`` nearest *distinct* sources:

* a 4-ary heap holds ``(time, edge or node, source)`` entries;
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

Memory, not arithmetic, is what the search waits for: entries pop in time order all over the
graph, so almost every popped label lands on a node whose row is not in any cache. Hence:

* a node's labels are one record (:func:`label_records`): sources, next nodes and times side
  by side, 64-byte aligned, so a row costs a few cache lines instead of one per array; its
  label count and ``K``-th time are kept apart in small dense arrays, which answer most
  "can this entry still enter that row?" checks without the row;
* a heap entry is 16 bytes in one array (time, and the edge it was relaxed along with its
  source), its edge giving both the node it reaches and the node it came from (one
  ``(E, 2)`` lookup); the four children of an entry share one cache line, and each step
  down the heap prefetches the next level;
* the next entry's edge, node record and adjacency, and every neighbour's record before it
  is checked, are prefetched (``llvm.prefetch``), so those misses overlap the work at hand.

The pop order is that of the plain 4-ary heap on the same times (the heap compares times
only), so labels, ties included, do not depend on this layout.

The functions are compiled on first call and cached on disk (``cache=True``): later
processes load the machine code instead of compiling (numba's ``NUMBA_CACHE_DIR`` moves the
cache when the package directory is read-only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = [
    "MAX_EDGES",
    "MAX_SOURCES",
    "boundary_seeds",
    "kbest_search",
    "label_records",
    "record_rows",
]

# A heap entry's payload: source in bits 0-29, edge (or, for a seed, node) in bits 30-60.
_SRC_BITS = 30
_SRC_MASK = (1 << _SRC_BITS) - 1
_FIELD_MASK = (1 << 31) - 1
_AT_SOURCE = 1 << 61  # a seed at its station's own node (no next node)
_SEED = 1 << 62  # a seed: the field is its node, not an edge

#: Largest number of sources (station slots) and of graph edges the payload encodes.
MAX_SOURCES = 1 << _SRC_BITS
MAX_EDGES = 1 << 31


def _prefetch_codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
    """``llvm.prefetch`` (read, keep in all cache levels) of ``array[index...]``."""
    aryty = signature.args[0]
    ary = context.make_array(aryty)(context, builder, args[0])
    index = [
        context.cast(builder, arg, ty, types.intp)
        for arg, ty in zip(args[1:], signature.args[1:], strict=True)
    ]
    ptr = cgutils.get_item_pointer(
        context, builder, aryty, ary, index, wraparound=False, boundscheck=False
    )
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
    fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
    builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
    return context.get_dummy_value()


def _prefetch1_typer(typingctx: Any, arr: Any, i: Any) -> Any:
    return types.void(arr, i), _prefetch_codegen


def _prefetch2_typer(typingctx: Any, arr: Any, i: Any, j: Any) -> Any:
    return types.void(arr, i, j), _prefetch_codegen


# Hints with no effect on results: prefetch arr[i] / arr[i, j] (compiled code only).
_prefetch1: Any = intrinsic(_prefetch1_typer)
_prefetch2: Any = intrinsic(_prefetch2_typer)


def label_records(
    time: NDArray[np.floating[Any]], slot: NDArray[np.int32], nxt: NDArray[np.int32]
) -> tuple[NDArray[np.int32], NDArray[np.float64], NDArray[np.int8]]:
    """The kernels' working rows of ``(n, K)`` label arrays (rows sorted, empty at the end).

    Returns
    -------
    records
        ``(n, 4K)`` int32, each row one 64-byte aligned record: sources in ``[0, K)``, next
        nodes in ``[K, 2K)``, and the times as float64 in ``[K, 2K)`` of its float64 view.
    kth
        ``(n,)`` the ``K``-th time of a full row, ``inf`` for the others.
    count
        ``(n,)`` labels in each row.
    """
    n, k = slot.shape
    if not 1 <= k <= 64:
        msg = f"Expected 1 to 64 labels per node, got {k}"
        raise ValueError(msg)
    width = 16 * k  # bytes per record
    buf = np.empty(n * width + 64, dtype=np.uint8)
    start = -buf.ctypes.data % 64
    records = buf[start : start + n * width].view(np.int32).reshape(n, 4 * k)
    kth = np.empty(n, dtype=np.float64)
    count = np.empty(n, dtype=np.int8)
    _pack(np.asarray(time, dtype=np.float32), slot, nxt, records, kth, count)
    return records, kth, count


def record_rows(
    records: NDArray[np.int32],
) -> tuple[NDArray[np.float32], NDArray[np.int32], NDArray[np.int32]]:
    """``(time, slot, next)`` arrays of :func:`label_records`' records (float32 times)."""
    n, k = records.shape[0], records.shape[1] // 4
    time = np.empty((n, k), dtype=np.float32)
    slot = np.empty((n, k), dtype=np.int32)
    nxt = np.empty((n, k), dtype=np.int32)
    _unpack(records, time, slot, nxt)
    return time, slot, nxt


@njit(cache=True, nogil=True)
def _pack(
    time: NDArray[np.float32],
    slot: NDArray[np.int32],
    nxt: NDArray[np.int32],
    W: NDArray[np.int32],
    kth: NDArray[np.float64],
    count: NDArray[np.int8],
) -> None:
    n, k = slot.shape
    WF = W.view(np.float64)
    for u in range(n):
        c = 0
        for j in range(k):
            W[u, j] = slot[u, j]
            W[u, k + j] = nxt[u, j]
            WF[u, k + j] = time[u, j]
            if slot[u, j] >= 0:
                c += 1
        count[u] = c
        kth[u] = WF[u, 2 * k - 1] if c == k else np.inf


@njit(cache=True, nogil=True)
def _unpack(
    W: NDArray[np.int32],
    time: NDArray[np.float32],
    slot: NDArray[np.int32],
    nxt: NDArray[np.int32],
) -> None:
    n, k = slot.shape
    WF = W.view(np.float64)
    for u in range(n):
        for j in range(k):
            slot[u, j] = W[u, j]
            nxt[u, j] = W[u, k + j]
            time[u, j] = WF[u, k + j]


@njit(cache=True, nogil=True)
def _heap_push(
    h: NDArray[np.float64],
    hi: NDArray[np.int64],
    b: int,
    size: int,
    t: float,
    value: int | np.int64,
) -> int:
    """Push ``(t, value)`` onto the 4-ary min-heap in ``h``; return the new size.

    Entry ``i`` is ``h[b + 2 i]`` (time) and ``hi[b + 2 i + 1]`` (payload), ``hi`` being
    ``h``'s int64 view; ``b`` (from :func:`_heap_new`) puts each entry's four children on
    one 64-byte cache line.
    """
    i = size
    while i > 0:
        parent = (i - 1) >> 2
        tp = h[b + 2 * parent]
        if tp <= t:
            break
        h[b + 2 * i] = tp
        hi[b + 2 * i + 1] = hi[b + 2 * parent + 1]
        i = parent
    h[b + 2 * i] = t
    hi[b + 2 * i + 1] = value
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(h: NDArray[np.float64], hi: NDArray[np.int64], b: int, size: int) -> int:
    """Remove the root (read it first); return the new size.

    Each step down prefetches the grandchildren (four cache lines), which the next step
    compares.
    """
    size -= 1
    t = h[b + 2 * size]
    value = hi[b + 2 * size + 1]
    i = 0
    while True:
        first = 4 * i + 1
        if first >= size:
            break
        g = 4 * first + 1
        if g < size:
            _prefetch1(h, b + 2 * g)
            _prefetch1(h, b + 2 * g + 8)
            _prefetch1(h, b + 2 * g + 16)
            _prefetch1(h, b + 2 * g + 24)
        c = first
        tc = h[b + 2 * c]
        last = min(first + 4, size)
        for j in range(first + 1, last):
            tj = h[b + 2 * j]
            if tj < tc:
                c = j
                tc = tj
        if tc >= t:
            break
        h[b + 2 * i] = tc
        hi[b + 2 * i + 1] = hi[b + 2 * c + 1]
        i = c
    if size > 0:
        h[b + 2 * i] = t
        hi[b + 2 * i + 1] = value
    return size


@njit(cache=True, nogil=True)
def _heap_new(cap: int) -> tuple[NDArray[np.float64], int]:
    """Room for ``cap`` heap entries and the offset ``b`` that aligns children to a line."""
    h = np.empty(2 * cap + 16, dtype=np.float64)
    b = 6 + ((-h.ctypes.data) % 64) // 8
    return h, b


@njit(cache=True, nogil=True)
def _previous(
    f_indptr: NDArray[np.int64],
    f_indices: NDArray[np.int32],
    f_weights: NDArray[np.float64],
    W: NDArray[np.int32],
    WF: NDArray[np.float64],
    count: NDArray[np.int8],
    v: int | np.int64,
    s: int | np.int64,
    t: float,
) -> int:
    """The neighbour whose label for ``s`` plus the edge to it gives ``t`` (-1 if none).

    A relaxed heap entry carries the edge it came along; a seed that carries a label in from
    outside a region (:func:`boundary_seeds`) does not, and its neighbour is found here
    among ``v``'s out-neighbours, whose label for ``s`` plus the edge weight reproduces
    ``t`` bit for bit.
    """
    k = W.shape[1] // 4
    for f in range(f_indptr[v], f_indptr[v + 1]):
        u = f_indices[f]
        for j in range(count[u]):
            if W[u, j] == s:
                if WF[u, k + j] + f_weights[f] == t:
                    return u
                break
    return -1


@njit(cache=True, nogil=True)
def kbest_search(
    indptr: NDArray[np.int64],
    ends: NDArray[np.int32],
    weights: NDArray[np.float64],
    f_indptr: NDArray[np.int64],
    f_indices: NDArray[np.int32],
    f_weights: NDArray[np.float64],
    W: NDArray[np.int32],
    kth: NDArray[np.float64],
    count: NDArray[np.int8],
    R: NDArray[np.float64],
    seed_t: NDArray[np.float64],
    seed_node: NDArray[np.int32],
    seed_src: NDArray[np.int32],
    seed_at_source: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    horizon: float,
) -> int:
    """Run the K-best search from the seeds, updating ``W, kth, count, R`` in place.

    Parameters
    ----------
    indptr, ends, weights
        CSR arrays of the graph the search walks (the reversed walk graph); ``ends`` is
        ``(E, 2)``: each edge's head (its CSR column) and tail (its CSR row).
    f_indptr, f_indices, f_weights
        The same graph transposed (the walk graph): where a carried-in label's next node is
        found.
    W, kth, count
        The rows as :func:`label_records` makes them: per node, up to ``K`` labels sorted by
        time (source, next node -- ``-1`` at the source's own node -- and time), its ``K``-th
        time when full and its label count.
    R
        ``(n,)`` certified radius, lowered to a row's ``K``-th time when the row fills.
    seed_t, seed_node, seed_src
        Initial heap entries (sources below :data:`MAX_SOURCES`).
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
    k = W.shape[1] // 4
    WF = W.view(np.float64)  # times: WF[u, k + j]
    inf = np.inf
    cap = max(1024, 4 * seed_t.size)
    h, b = _heap_new(cap)
    hi = h.view(np.int64)
    size = 0
    for i in range(seed_t.size):
        if seed_t[i] > horizon or not allowed[seed_node[i]]:
            continue
        value = _SEED | (np.int64(seed_node[i]) << _SRC_BITS) | np.int64(seed_src[i])
        if seed_at_source[i]:
            value |= _AT_SOURCE
        size = _heap_push(h, hi, b, size, seed_t[i], value)
    accepted = 0
    while size > 0:
        t = h[b]
        value = hi[b + 1]
        size = _heap_pop(h, hi, b, size)
        if size > 0 and not (hi[b + 1] & _SEED):  # the next entry's edge, while this one runs
            _prefetch2(ends, (hi[b + 1] >> _SRC_BITS) & _FIELD_MASK, 0)
        s = value & _SRC_MASK
        field = (value >> _SRC_BITS) & _FIELD_MASK
        if value & _SEED:
            u = np.int64(field)
            p = np.int64(-1 if value & _AT_SOURCE else -2)  # -2: carried in, found below
        else:
            u = np.int64(ends[field, 0])
            p = np.int64(ends[field, 1])
        eu = indptr[u]  # u's edges, wanted if the label is accepted
        _prefetch2(ends, eu, 0)
        _prefetch1(weights, eu)
        c = np.int64(count[u])
        ku = kth[u]
        if ku <= t and (ku < inf or c == k):
            continue  # K sources already reach u no later
        dup = False
        for j in range(c):
            if W[u, j] == s:
                dup = True
                break
        if dup:
            continue
        if p == -2:
            p = np.int64(_previous(f_indptr, f_indices, f_weights, W, WF, count, u, s, t))
        j = int(c) if c < k else k - 1  # insert after the labels no later than t
        while j > 0 and WF[u, k + j - 1] > t:
            WF[u, k + j] = WF[u, k + j - 1]
            W[u, j] = W[u, j - 1]
            W[u, k + j] = W[u, k + j - 1]
            j -= 1
        WF[u, k + j] = t
        W[u, j] = s
        W[u, k + j] = p
        if c < k:
            c += 1
            count[u] = c
        if c == k:
            last = WF[u, 2 * k - 1]
            kth[u] = last
            if last < R[u]:
                R[u] = last
        accepted += 1
        e0 = indptr[u]
        e1 = indptr[u + 1]
        for e in range(e0, e1):
            v = ends[e, 0]
            _prefetch2(W, v, 0)
            _prefetch1(kth, v)
        for e in range(e0, e1):
            v = np.int64(ends[e, 0])
            if v == p:
                continue  # the label came from there: v holds s already
            nt = t + weights[e]
            if nt > horizon or not allowed[v]:
                continue
            kv = kth[v]
            cv = count[v]
            if kv <= nt and (kv < inf or cv == k):
                continue
            seen = False
            for j in range(cv):
                if W[v, j] == s:
                    seen = True
                    break
            if seen:
                continue
            if size == cap:
                cap *= 2
                grown, gb = _heap_new(cap)
                grown[gb : gb + 2 * size] = h[b : b + 2 * size]
                h = grown
                b = gb
                hi = h.view(np.int64)
            size = _heap_push(h, hi, b, size, nt, (e << _SRC_BITS) | s)
        if size > 0:  # the next entry's node: its record, K-th time, radius and adjacency
            nv = hi[b + 1]
            nf = (nv >> _SRC_BITS) & _FIELD_MASK
            nu = np.int64(nf) if nv & _SEED else np.int64(ends[nf, 0])
            _prefetch2(W, nu, 0)
            _prefetch2(W, nu, 2 * k)
            _prefetch2(W, nu, 4 * k - 1)
            _prefetch1(kth, nu)
            _prefetch1(R, nu)
            _prefetch1(indptr, nu)
    return accepted


@njit(cache=True, nogil=True)
def boundary_seeds(
    indptr: NDArray[np.int64],
    ends: NDArray[np.int32],
    weights: NDArray[np.float64],
    W: NDArray[np.int32],
    count: NDArray[np.int8],
    region: NDArray[np.bool_],
    horizon: float,
) -> tuple[NDArray[np.float64], NDArray[np.int32], NDArray[np.int32]]:
    """Heap entries carrying the labels of nodes outside ``region`` across its border.

    For every edge ``u -> v`` with ``u`` outside and ``v`` inside the region, one entry per
    label of ``u``: ``(T[u, j] + w, v, S[u, j])``.
    """
    n = W.shape[0]
    k = W.shape[1] // 4
    WF = W.view(np.float64)
    total = 0
    for u in range(n):
        if region[u]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            if region[ends[e, 0]]:
                for j in range(count[u]):
                    if WF[u, k + j] + weights[e] > horizon:
                        break
                    total += 1
    st = np.empty(total, dtype=np.float64)
    sn = np.empty(total, dtype=np.int32)
    ss = np.empty(total, dtype=np.int32)
    i = 0
    for u in range(n):
        if region[u]:
            continue
        for e in range(indptr[u], indptr[u + 1]):
            v = ends[e, 0]
            if region[v]:
                for j in range(count[u]):
                    if WF[u, k + j] + weights[e] > horizon:
                        break
                    st[i] = WF[u, k + j] + weights[e]
                    sn[i] = v
                    ss[i] = W[u, j]
                    i += 1
    return st, sn, ss
