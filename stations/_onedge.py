"""Queries from a point on an edge: the labels of the edge's two ends, same-street stations.

An origin located at fraction ``f`` of its street ``e`` (``u -> v``) leaves it through
``v`` after ``(1 - f) * time[e]`` and, on a two-way street, through ``u`` after
``f * time[twin]``. A station's labels hold the walk from a node to the station's own point
(its partial edge and straight leg included, see :mod:`stations._labels`), so

    walk(origin -> s) = min( min_j  c_j + label_j(s),   direct(origin -> s) )

where ``j`` runs over the exits with costs ``c_j`` and ``direct`` is the walk along the
street itself when ``s`` is on the origin's street (forward along ``e``, or back along the
twin). :func:`combine_labels` evaluates that for many origins at once (compiled).

Why the combined radius is still a certificate
----------------------------------------------
Let ``R_j`` be the certified radius of exit ``j`` (every station within ``R_j`` of node
``j`` is in its labels, with its exact time) and ``R = min_j (c_j + R_j)``. A station ``s``
whose walk from the origin is ``W < R`` is either reached along the origin's own street
(the ``direct`` term, evaluated exactly) or leaves through some exit ``j``:
``W = c_j + d(j, s)`` with ``d(j, s) = W - c_j < R_j``, so ``s`` is in ``j``'s labels with
time ``d(j, s)``. Every candidate is a real walk (an upper bound), so the minimum over
candidates is exactly ``W``. Hence every station closer than ``R`` is found with its exact
time, and the merged list below ``R`` is exactly the true order: ``R`` certifies the
combination as ``R_j`` certifies a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit
from scipy.sparse.csgraph import dijkstra

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import NDArray
    from scipy import sparse

    from routing.edges import EdgeTable

__all__ = [
    "DIRECT",
    "Found",
    "combine_labels",
    "entry_column",
    "search_from_street",
    "street_times",
    "walk_pieces",
]

#: ``how`` of a hit reached along the origin's own street (not through an exit node).
DIRECT = 2


@dataclass(frozen=True, eq=False)
class Found:
    """Hits of many origins: ``(m, k)`` network time (station leg included), slot (``-1``:
    none) and how each was reached (exit 0 / 1 or :data:`DIRECT`), nearest first."""

    time: NDArray[np.float64]
    slot: NDArray[np.int64]
    how: NDArray[np.int64]

    def row(self, i: int) -> list[tuple[int, float, int]]:
        """Origin ``i``'s hits as ``(slot, time, how)``."""
        has = self.slot[i] >= 0
        return list(
            zip(
                self.slot[i][has].tolist(),
                self.time[i][has].tolist(),
                self.how[i][has].tolist(),
                strict=True,
            )
        )


@njit(cache=True, nogil=True)
def combine_labels(
    T: NDArray[np.float32],
    S: NDArray[np.int32],
    R: NDArray[np.float32],
    edge: NDArray[np.int64],
    frac: NDArray[np.float64],
    u: NDArray[np.int64],
    v: NDArray[np.int64],
    twin: NDArray[np.int64],
    etime: NDArray[np.float64],
    same_edge: NDArray[np.int64],
    same_slot: NDArray[np.int64],
    same_frac: NDArray[np.float64],
    same_leg: NDArray[np.float64],
    passes: NDArray[np.bool_],
    budget: NDArray[np.float64],
    k: int,
) -> tuple[
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.bool_],
]:  # pragma: no cover - compiled
    """The ``k`` best certified hits of each origin from its exits' labels and its street.

    Parameters
    ----------
    T, S, R
        Labels: ``(n, K)`` times and slots (rows sorted by time) and certified radii.
    edge, frac
        Each origin's street (``-1``: off the map) and position on it.
    u, v, twin, etime
        The edge table's tails, heads, twins and travel times.
    same_edge, same_slot, same_frac, same_leg
        Stations by street (sorted by ``same_edge``): slot, position on the street and the
        station's straight leg in seconds.
    passes
        Per slot, whether the station passes the query's filters.
    budget
        Per origin, the network time budget (s); ``inf`` for none.
    k
        Hits wanted.

    Returns
    -------
    tuple
        ``(time, slot, how, count, certified)``: ``(m, k)`` network times (station leg
        included) and slots of the certified hits, sorted, with ``how`` the exit used (0:
        the head ``v``, 1: the tail ``u`` via the twin, :data:`DIRECT`: along the street);
        the number of hits; and whether they are the exact answer (``k`` found below the
        combined radius, or the budget lies inside it).
    """
    m = edge.size
    width = S.shape[1]
    out_t = np.full((m, k), np.inf)
    out_s = np.full((m, k), -1, dtype=np.int64)
    out_h = np.full((m, k), -1, dtype=np.int64)
    count = np.zeros(m, dtype=np.int64)
    certified = np.zeros(m, dtype=np.bool_)
    cand_t = np.empty(2 * width + 16)
    cand_s = np.empty(2 * width + 16, dtype=np.int64)
    cand_h = np.empty(2 * width + 16, dtype=np.int64)
    for q in range(m):
        e = edge[q]
        if e < 0:
            continue
        f = frac[q]
        tw = twin[e]
        nodes = (v[e], u[e] if tw >= 0 else -1)
        costs = ((1.0 - f) * etime[e], f * etime[tw] if tw >= 0 else np.inf)
        radius = np.inf
        for j in range(2):
            if nodes[j] >= 0:
                radius = min(radius, costs[j] + R[nodes[j]])
        limit = min(budget[q], radius)
        lo = np.searchsorted(same_edge, e)
        hi = np.searchsorted(same_edge, e, side="right")
        need = 2 * width + (hi - lo)
        if need > cand_t.size:
            cand_t = np.empty(need)
            cand_s = np.empty(need, dtype=np.int64)
            cand_h = np.empty(need, dtype=np.int64)
        c = 0
        for j in range(2):
            x = nodes[j]
            if x < 0:
                continue
            for col in range(width):
                s = S[x, col]
                if s < 0:
                    break
                t = costs[j] + T[x, col]
                if t > limit:
                    break
                if passes[s]:
                    cand_t[c] = t
                    cand_s[c] = s
                    cand_h[c] = j
                    c += 1
        for i in range(lo, hi):
            s = same_slot[i]
            if not passes[s]:
                continue
            fs = same_frac[i]
            if fs >= f:
                t = (fs - f) * etime[e] + same_leg[i]
            elif tw >= 0:
                t = (f - fs) * etime[tw] + same_leg[i]
            else:
                continue
            if t <= limit:
                cand_t[c] = t
                cand_s[c] = s
                cand_h[c] = DIRECT
                c += 1
        # the best of each slot, then the k best slots by time
        got = 0
        for _ in range(k):
            best = -1
            for i in range(c):
                if cand_s[i] < 0:
                    continue
                if best < 0 or cand_t[i] < cand_t[best]:
                    best = i
            if best < 0:
                break
            s = cand_s[best]
            out_t[q, got] = cand_t[best]
            out_s[q, got] = s
            out_h[q, got] = cand_h[best]
            got += 1
            for i in range(c):
                if cand_s[i] == s:
                    cand_s[i] = -1
        count[q] = got
        certified[q] = got >= k or budget[q] <= radius
    return out_t, out_s, out_h, count, certified


def street_times(
    table: EdgeTable,
    e: int,
    f: float,
    fracs: NDArray[np.float64],
    legs: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Walk (s) from fraction ``f`` of street ``e`` to stations on it, along it only."""
    tw = int(table.twin[e])
    ahead = fracs >= f
    back = (f - fracs) * table.time[tw] if tw >= 0 else np.full(fracs.shape, np.inf)
    return np.where(ahead, (fracs - f) * table.time[e], back) + legs


def search_from_street(
    time: sparse.csr_matrix,
    table: EdgeTable,
    e: int,
    fracs: NDArray[np.float64],
    budgets: NDArray[np.float64],
    *,
    k: int,
    slots: NDArray[np.int64],
    seed_node: NDArray[np.int64],
    seed_time: NDArray[np.float64],
    same: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]],
    passes: Callable[[NDArray[Any]], NDArray[np.bool_]],
    start_limit: float,
    predecessors: bool,
) -> tuple[list[list[tuple[int, float, int]]], NDArray[np.float64], NDArray[np.int32] | None]:
    """Exact ``k`` nearest stations of origins on one street, by Dijkstra from its two ends.

    One bounded search from each end of street ``e`` serves every origin on it: origin
    ``o`` at ``fracs[o]`` adds its own exit costs to the two rows. The bound grows (x4) until
    each origin has ``k`` matches within it, its budget is spent or the graph is exhausted;
    every station within the bound is found with its exact time (a walk within the bound
    leaves through an end at a distance within the bound, where the rows are exact).

    Parameters
    ----------
    time
        The walk graph's travel-time CSR matrix.
    table
        Its edge table.
    e, fracs, budgets
        The street, each origin's position on it and network budget (s).
    k
        Matches wanted.
    slots, seed_node, seed_time
        The candidate stations (one label key) and their two entries: node ``(s, 2)``
        (``-1`` for none) and time from that node to the station's point, leg included.
    same
        ``(slot, frac, leg_s)`` of the candidates on street ``e`` (reached along it).
    passes
        The query's filter on slots.
    start_limit
        First bound (s).
    predecessors
        Also return the predecessor rows (for paths).

    Returns
    -------
    tuple
        Per origin the hits ``(slot, time_s, how)`` sorted by time (``how``: 0 through the
        head, 1 through the tail, :data:`DIRECT` along the street), the two distance rows
        and their predecessor rows (``None`` unless asked).
    """
    tw = int(table.twin[e])
    ends = [int(table.v[e])] + ([int(table.u[e])] if tw >= 0 else [])
    n = time.shape[0]
    limit = min(float(budgets.max()), start_limit)
    ok_slot = passes(slots)
    pass_slots = slots[ok_slot]
    p_node, p_time = seed_node[ok_slot], seed_time[ok_slot]
    same_slot, same_frac, same_leg = same
    keep_same = passes(same_slot)
    same_slot, same_frac, same_leg = same_slot[keep_same], same_frac[keep_same], same_leg[keep_same]
    while True:
        result = dijkstra(time, indices=ends, limit=limit, return_predecessors=predecessors)
        dist, pred = result if predecessors else (result, None)
        dist = np.atleast_2d(dist)
        via = np.where(p_node[None] >= 0, dist[:, np.maximum(p_node, 0)], np.inf) + p_time[None]
        best_entry = via.min(axis=2)  # (ends, stations)
        exhausted = bool(np.isfinite(dist).sum(axis=1).min() >= n)
        out: list[list[tuple[int, float, int]]] = []
        for lo in range(0, fracs.size, _CHUNK):
            out.extend(
                _best_of_street(
                    table,
                    e,
                    fracs[lo : lo + _CHUNK],
                    np.minimum(budgets[lo : lo + _CHUNK], limit),
                    best_entry,
                    pass_slots,
                    (same_slot, same_frac, same_leg),
                    k=k,
                )
            )
        short = np.array([len(h) < k for h in out])
        done = exhausted or not bool((short & (budgets > limit)).any())
        if done:
            return out, dist, pred
        limit = min(float(budgets.max()), limit * 4.0)


#: Origins of one street evaluated together (bounds the ``(origins, ends, stations)`` array).
_CHUNK = 64


def _best_of_street(
    table: EdgeTable,
    e: int,
    fracs: NDArray[np.float64],
    limits: NDArray[np.float64],
    best_entry: NDArray[np.float64],
    slots: NDArray[np.int64],
    same: tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]],
    *,
    k: int,
) -> list[list[tuple[int, float, int]]]:
    """The ``k`` nearest ``(slot, time, how)`` of origins on street ``e`` within ``limits``.

    ``best_entry`` is ``(ends, stations)``: the time from each end of the street to each
    station (entries and leg included); origins add their exit costs, stations on the
    street itself also count along it.
    """
    tw = int(table.twin[e])
    ends = best_entry.shape[0]
    costs = np.column_stack(
        [(1.0 - fracs) * table.time[e], fracs * (table.time[tw] if tw >= 0 else 0.0)]
    )[:, :ends]
    per_end = best_entry[None, :, :] + costs[:, :, None]  # (origins, ends, stations)
    how = per_end.argmin(axis=1)
    t = np.take_along_axis(per_end, how[:, None, :], axis=1)[:, 0, :]
    cand_s = np.broadcast_to(slots, t.shape)
    same_slot, same_frac, same_leg = same
    if same_slot.size:
        f, fs = fracs[:, None], same_frac[None, :]
        back = (f - fs) * table.time[tw] if tw >= 0 else np.inf
        direct = np.where(fs >= f, (fs - f) * table.time[e], back) + same_leg[None, :]
        t = np.concatenate([t, direct], axis=1)
        cand_s = np.concatenate([cand_s, np.broadcast_to(same_slot, direct.shape)], axis=1)
        how = np.concatenate([how, np.full(direct.shape, DIRECT)], axis=1)
    t = np.where(t <= limits[:, None], t, np.inf)
    width = min(t.shape[1], k + int(same_slot.size))
    if width == 0:
        return [[] for _ in range(fracs.size)]
    if width < t.shape[1]:  # a station may come twice (along the street and around): keep k + those
        top = np.argpartition(t, width - 1, axis=1)[:, :width]
    else:
        top = np.broadcast_to(np.arange(width), (t.shape[0], width))
    top_t = np.take_along_axis(t, top, axis=1)
    top_s = np.take_along_axis(cand_s, top, axis=1)
    top_h = np.take_along_axis(how, top, axis=1)
    order = np.lexsort((top_s, top_t), axis=1)
    out = []
    for tt, ss, hh in zip(
        np.take_along_axis(top_t, order, axis=1).tolist(),
        np.take_along_axis(top_s, order, axis=1).tolist(),
        np.take_along_axis(top_h, order, axis=1).tolist(),
        strict=True,
    ):
        seen: set[int] = set()
        hits: list[tuple[int, float, int]] = []
        for t_, s_, h_ in zip(tt, ss, hh, strict=True):
            if t_ == np.inf or len(hits) == k:
                break
            if s_ not in seen:
                seen.add(s_)
                hits.append((s_, t_, h_))
        out.append(hits)
    return out


def entry_column(table: EdgeTable, node: int, edge: int, seed_time: NDArray[np.float64]) -> int:
    """Which entry of a station on ``edge`` a walk arriving at ``node`` takes (0: u, 1: v)."""
    at_u, at_v = node == table.u[edge], node == table.v[edge] and table.twin[edge] >= 0
    if at_u and at_v:
        return int(seed_time[1] < seed_time[0])
    if at_u:
        return 0
    if at_v:
        return 1
    msg = f"Expected a walk ending at an end of edge {edge}, got node {node}"
    raise ValueError(msg)


def walk_pieces(
    table: EdgeTable,
    origin: tuple[int, float],
    how: int,
    station: tuple[int, float],
    entry: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], float, float]:
    """The partial edges of a walk: from the origin's projection to its exit node, and from
    the station's entry node to the station's projection (WGS-84 points, metres of each).

    For a walk along the street itself (``how == DIRECT``) the first piece is the whole
    walk and the second is empty.
    """
    e, f = origin
    es, fs = station
    if how == DIRECT:
        forward = fs >= f
        metres = (fs - f) * table.length[e] if forward else (f - fs) * table.length[table.twin[e]]
        return table.cut(e, f, fs), np.empty((0, 2)), float(metres), 0.0
    if how == 0:
        first, first_m = table.cut(e, f, 1.0), (1.0 - f) * table.length[e]
    else:
        first, first_m = table.cut(e, f, 0.0), f * table.length[table.twin[e]]
    if entry == 0:
        last, last_m = table.cut(es, 0.0, fs), fs * table.length[es]
    else:
        last, last_m = table.cut(es, 1.0, fs), (1.0 - fs) * table.length[table.twin[es]]
    return first, last, float(first_m), float(last_m)
