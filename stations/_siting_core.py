"""Compiled siting heuristics and the Lagrangian bound (numba), on sparse pairs only.

Every objective is written as one *truncated facility location*: demand ``i`` (weight
``w_i``) pays ``min(u_i, min over open candidates j of d_ij)``, where the pairs ``(i, j)``
are the sparse ones given (within the budget) and ``u_i`` is what it pays with no open
candidate in reach. Maximal covering is ``d = 0`` within the radius and ``u = 1`` (minimise
the uncovered weight); p-median is ``d`` = walking time and ``u`` = the cost cap. Fixed
candidates (existing stations) are open from the start and never closed.

Pairs are stored by candidate: candidate ``j`` reaches ``dem[ptr[j]:ptr[j + 1]]`` at
``cost[...]``.

* :func:`greedy` — lazy greedy (the objective is supermodular, so stale gains are upper
  bounds and a re-evaluated top that still leads is the true best).
* :func:`swap` — the fast interchange (Whitaker; Resende & Werneck 2007): every (in, out)
  pair's profit from the gain of opening ``j``, the loss of closing ``r`` and the demand
  that ``j`` would catch from ``r``; best improving swap per pass.
* :func:`lagrangian` — subgradient optimisation of the Lagrangian dual that relaxes "each
  demand assigned once": ``L(λ) = Σλ_i + Σ_i min(0, w_i u_i - λ_i) + Σ_{j open} ρ_j`` with
  ``ρ_j = Σ_{i∈N_j} min(0, w_i d_ij - λ_i)``, the free candidates opened being the ``p``
  most negative ``ρ``. Every ``L(λ)`` is a valid lower bound; its maximum equals the LP
  relaxation's bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ._reach import _pop, _push

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["assignment", "greedy", "lagrangian", "swap"]


@njit(cache=True, nogil=True)
def assignment(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    cost: NDArray[np.float64],
    u: NDArray[np.float64],
    is_open: NDArray[np.bool_],
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:  # pragma: no cover
    """Best and second-best cost of every demand among open candidates (and ``u``).

    Returns ``(best, best_candidate, second)``; ``best_candidate`` is ``-1`` for ``u``.
    """
    n = u.size
    best = u.copy()
    who = np.full(n, -1, dtype=np.int64)
    second = u.copy()
    for j in range(ptr.size - 1):
        if not is_open[j]:
            continue
        for k in range(ptr[j], ptr[j + 1]):
            i = dem[k]
            c = cost[k]
            if c < best[i]:
                second[i] = best[i]
                best[i] = c
                who[i] = j
            elif c < second[i]:
                second[i] = c
    return best, who, second


@njit(cache=True, nogil=True)
def _gain(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    cost: NDArray[np.float64],
    w: NDArray[np.float64],
    cur: NDArray[np.float64],
    j: int,
) -> float:  # pragma: no cover - compiled
    g = 0.0
    for k in range(ptr[j], ptr[j + 1]):
        i = dem[k]
        if cost[k] < cur[i]:
            g += w[i] * (cur[i] - cost[k])
    return g


@njit(cache=True, nogil=True)
def greedy(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    cost: NDArray[np.float64],
    w: NDArray[np.float64],
    u: NDArray[np.float64],
    is_open: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    p: int,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:  # pragma: no cover - compiled
    """Open ``p`` of the ``allowed`` closed candidates greedily; their order and gains."""
    k = ptr.size - 1
    cur = u.copy()
    for j in range(k):
        if is_open[j]:
            for q in range(ptr[j], ptr[j + 1]):
                if cost[q] < cur[dem[q]]:
                    cur[dem[q]] = cost[q]
    # max-heap of (gain bound, candidate) as a min-heap of negated gains
    heap_g = np.empty(k, dtype=np.float64)
    heap_j = np.empty(k, dtype=np.int64)
    size = 0
    for j in range(k):
        if allowed[j] and not is_open[j]:
            heap_g[size] = -_gain(ptr, dem, cost, w, cur, j)
            heap_j[size] = j
            size += 1
    order = np.argsort(heap_g[:size], kind="mergesort")  # a sorted array is a heap
    heap_g[:size] = heap_g[:size][order]
    heap_j[:size] = heap_j[:size][order]
    chosen = np.empty(p, dtype=np.int64)
    gains = np.empty(p, dtype=np.float64)
    picked = 0
    while picked < p and size > 0:
        _, j, size = _pop(heap_g, heap_j, size)
        g = _gain(ptr, dem, cost, w, cur, j)
        if size == 0 or -heap_g[0] <= g:  # still the best: its true gain beats every bound
            chosen[picked] = j
            gains[picked] = g
            picked += 1
            for q in range(ptr[j], ptr[j + 1]):
                if cost[q] < cur[dem[q]]:
                    cur[dem[q]] = cost[q]
        else:  # stale: back in with its true gain
            size = _push(heap_g, heap_j, size, -g, j)
    return chosen[:picked], gains[:picked]


@njit(cache=True, nogil=True)
def swap(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    cost: NDArray[np.float64],
    w: NDArray[np.float64],
    u: NDArray[np.float64],
    is_open: NDArray[np.bool_],
    fixed: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    max_passes: int,
    tolerance: float,
) -> tuple[NDArray[np.bool_], int]:  # pragma: no cover - compiled
    """Improve an open set by best swaps until none improves by more than ``tolerance``.

    Fixed candidates stay open; only ``allowed`` ones are opened. Returns the open set and
    the number of swaps made.
    """
    k = ptr.size - 1
    is_open = is_open.copy()
    swaps = 0
    slot = np.full(k, -1, dtype=np.int64)
    for _ in range(max_passes):
        best, who, second = assignment(ptr, dem, cost, u, is_open)
        movable = np.empty(k, dtype=np.int64)
        n_mov = 0
        for j in range(k):
            slot[j] = -1
            if is_open[j] and not fixed[j]:
                slot[j] = n_mov
                movable[n_mov] = j
                n_mov += 1
        if n_mov == 0:
            break
        loss = np.zeros(n_mov)
        for i in range(u.size):
            r = who[i]
            if r >= 0 and slot[r] >= 0:
                loss[slot[r]] += w[i] * (second[i] - best[i])
        extra = np.zeros(n_mov)
        best_profit = tolerance
        best_in = -1
        best_out = -1
        for j in range(k):
            if is_open[j] or not allowed[j]:
                continue
            gain = 0.0
            for q in range(ptr[j], ptr[j + 1]):
                i = dem[q]
                c = cost[q]
                if c < best[i]:
                    gain += w[i] * (best[i] - c)
                r = who[i]
                if r >= 0 and slot[r] >= 0 and c < second[i]:
                    extra[slot[r]] += w[i] * (second[i] - max(c, best[i]))
            for s in range(n_mov):
                profit = gain - loss[s] + extra[s]
                if profit > best_profit:
                    best_profit = profit
                    best_in = j
                    best_out = movable[s]
            for q in range(ptr[j], ptr[j + 1]):  # reset only what was touched
                r = who[dem[q]]
                if r >= 0 and slot[r] >= 0:
                    extra[slot[r]] = 0.0
        if best_in < 0:
            break
        is_open[best_in] = True
        is_open[best_out] = False
        swaps += 1
    return is_open, swaps


@njit(cache=True, nogil=True)
def lagrangian(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    cost: NDArray[np.float64],
    w: NDArray[np.float64],
    u: NDArray[np.float64],
    fixed: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    p: int,
    lam: NDArray[np.float64],
    upper: float,
    iterations: int,
    target_gap: float,
    theta: float,
    members: NDArray[np.float64],
) -> tuple[float, NDArray[np.bool_], float, int, float]:  # pragma: no cover - compiled
    """Best Lagrangian lower bound found from multipliers ``lam`` (updated in place).

    Each step's relaxed choice of sites is also a feasible solution: the best one seen is
    returned (a Lagrangian heuristic), and its value tightens the step size.
    Stops after ``iterations`` or once ``(upper - bound) / upper <= target_gap``; ``theta``
    is the step factor (2 to start; pass the returned one to continue a search).
    ``members`` counts the original demands in each (merged) demand: a merged demand moves
    as its members would, one step each, so the steps are those of the unmerged instance.
    Returns ``(bound, best open set, its value, iterations done, theta)``.
    """
    k = ptr.size - 1
    n = u.size
    best_bound = -np.inf
    stall = 0
    rho = np.empty(k)
    g = np.empty(n)
    free = np.empty(k, dtype=np.int64)
    n_free = 0
    for j in range(k):
        if allowed[j] and not fixed[j]:
            free[n_free] = j
            n_free += 1
    free = free[:n_free]
    take = min(p, n_free)
    done = 0
    best_open = fixed.copy()
    best_value = np.inf
    cur = np.empty(n)
    for it in range(iterations):
        done = it + 1
        bound = 0.0
        for i in range(n):
            bound += lam[i] + min(0.0, w[i] * u[i] - lam[i])
            g[i] = 1.0 - (1.0 if w[i] * u[i] - lam[i] < 0.0 else 0.0)
        for j in range(k):
            r = 0.0
            for q in range(ptr[j], ptr[j + 1]):
                i = dem[q]
                r += min(0.0, w[i] * cost[q] - lam[i])
            rho[j] = r
        opened = np.zeros(k, dtype=np.bool_)
        for j in range(k):
            if fixed[j]:
                opened[j] = True
                bound += rho[j]
        if take > 0:
            sel = free[np.argsort(rho[free])[:take]]
            for j in sel:
                opened[j] = True
                bound += rho[j]
        # the relaxed choice as a solution
        cur[:] = u
        for j in range(k):
            if opened[j]:
                for q in range(ptr[j], ptr[j + 1]):
                    if cost[q] < cur[dem[q]]:
                        cur[dem[q]] = cost[q]
        value = 0.0
        for i in range(n):
            value += w[i] * cur[i]
        if value < best_value:
            best_value = value
            best_open[:] = opened
            upper = min(upper, value)
        if best_bound == -np.inf or bound > best_bound + 1e-12 * max(1.0, abs(best_bound)):
            best_bound = bound
            stall = 0
        else:
            stall += 1
            if stall >= 20:
                theta *= 0.5
                stall = 0
        if upper > 0 and (upper - best_bound) <= target_gap * upper:
            break
        if theta < 1e-6:
            break
        for j in range(k):
            if not opened[j]:
                continue
            for q in range(ptr[j], ptr[j + 1]):
                i = dem[q]
                if w[i] * cost[q] - lam[i] < 0.0:
                    g[i] -= 1.0
        norm = 0.0
        for i in range(n):
            norm += members[i] * g[i] * g[i]
        if norm == 0.0:
            break  # the relaxed solution is feasible: the bound is optimal
        step = theta * max(upper - bound, 1e-9 * max(1.0, abs(upper))) / norm
        for i in range(n):  # beyond w_i u_i a multiplier only lowers the bound
            lam[i] = min(max(0.0, lam[i] + step * members[i] * g[i]), w[i] * u[i])
    return best_bound, best_open, best_value, done, theta
