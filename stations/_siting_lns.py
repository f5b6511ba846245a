"""Large-neighbourhood search for maximal covering: regions re-solved exactly.

Greedy + swaps stop at a swap-local optimum that can lie a few per cent below the best
covering on large instances, where each open site overlaps many others: improving needs
several sites moved at once. This search takes one open site and its nearest open
neighbours (a breadth-first walk over the open sites that share demand: ``q`` of them),
frees them, and finds the best ``q`` sites among them and every usable candidate sharing
demand with them, for the demand those candidates reach that the other open sites leave
uncovered. The rest is untouched, so the region's best is the best with the others held; it
is taken only when it covers more, and the covered weight never falls.

Regions are solved exactly by enumerating the ``q``-subsets depth first, candidates taken by
decreasing weight alone, and a depth is left as soon as the heaviest remaining candidates
could not beat the best found (a valid bound: a candidate adds at most its weight alone);
past ``_BUDGET`` candidates tried, a region keeps the best found so far (large regions are
searched in part).
``q`` grows from 2 once a sweep over every open site finds nothing; each sweep ends with
fast-interchange swaps, which move sites between distant regions.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ._siting_core import swap

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["cover_count", "demand_major", "improve_covering"]

#: Seconds between two looks at the clock (about).
_LOOK = 0.2
#: Candidates tried per region at most, so that one region stays well under a look.
_BUDGET = 300_000


@njit(cache=True, nogil=True)
def _region(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    dptr: NDArray[np.int64],
    dcand: NDArray[np.int64],
    is_open: NDArray[np.bool_],
    movable: NDArray[np.bool_],
    usable: NDArray[np.bool_],
    seed: int,
    q: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:  # pragma: no cover - compiled
    """The freed open sites (breadth-first from ``seed``) and the region's candidates."""
    k = ptr.size - 1
    seen = np.zeros(k, dtype=np.bool_)
    freed = np.empty(q, dtype=np.int64)
    freed[0] = seed
    seen[seed] = True
    n_freed, head = 1, 0
    while head < n_freed and n_freed < q:
        r = freed[head]
        head += 1
        for a in range(ptr[r], ptr[r + 1]):
            i = dem[a]
            for b in range(dptr[i], dptr[i + 1]):
                j = dcand[b]
                if movable[j] and is_open[j] and not seen[j] and n_freed < q:
                    seen[j] = True
                    freed[n_freed] = j
                    n_freed += 1
    freed = freed[:n_freed]
    taken = np.zeros(k, dtype=np.bool_)
    cands = np.empty(k, dtype=np.int64)
    n_c = 0
    for r in freed:
        taken[r] = True
        cands[n_c] = r
        n_c += 1
    for r in freed:
        for a in range(ptr[r], ptr[r + 1]):
            i = dem[a]
            for b in range(dptr[i], dptr[i + 1]):
                j = dcand[b]
                if not taken[j] and usable[j] and not is_open[j]:
                    taken[j] = True
                    cands[n_c] = j
                    n_c += 1
    return freed, cands[:n_c]


@njit(cache=True, nogil=True)
def _exchange(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    dptr: NDArray[np.int64],
    dcand: NDArray[np.int64],
    w: NDArray[np.float64],
    is_open: NDArray[np.bool_],
    count: NDArray[np.int64],
    movable: NDArray[np.bool_],
    usable: NDArray[np.bool_],
    seeds: NDArray[np.int64],
    q: int,
    tolerance: float,
    budget: int,
) -> tuple[float, int]:  # pragma: no cover - compiled
    """Exact best ``q``-site exchange around each seed, by enumeration; applied when better.

    ``is_open`` and ``count`` (open sites covering each demand) are updated in place. A
    region's search stops after ``budget`` candidates tried (its best so far is kept).
    Returns ``(covered weight gained, exchanges made)``.
    """
    n = w.size
    gained = 0.0
    made = 0
    local = np.full(n, -1, dtype=np.int64)
    freed_cover = np.zeros(n, dtype=np.int64)
    for seed in seeds:
        if not is_open[seed]:
            continue
        freed, cands = _region(ptr, dem, dptr, dcand, is_open, movable, usable, seed, q)
        m = freed.size
        for r in freed:
            for a in range(ptr[r], ptr[r + 1]):
                freed_cover[dem[a]] += 1
        # local demands: reached by the region, not covered from outside it
        n_pairs = 0
        for j in cands:
            n_pairs += ptr[j + 1] - ptr[j]
        glob = np.empty(n_pairs, dtype=np.int64)
        l_ptr = np.zeros(cands.size + 1, dtype=np.int64)
        l_dem = np.empty(n_pairs, dtype=np.int64)
        n_local, e = 0, 0
        for a in range(cands.size):
            j = cands[a]
            for b in range(ptr[j], ptr[j + 1]):
                i = dem[b]
                if count[i] - freed_cover[i] > 0:
                    continue
                if local[i] < 0:
                    local[i] = n_local
                    glob[n_local] = i
                    n_local += 1
                l_dem[e] = local[i]
                e += 1
            l_ptr[a + 1] = e
        lw = np.empty(n_local)
        for t in range(n_local):
            lw[t] = w[glob[t]]
        cover = np.zeros(n_local, dtype=np.int64)
        before = 0.0
        for a in range(m):  # the freed sites come first in cands
            for b in range(l_ptr[a], l_ptr[a + 1]):
                if cover[l_dem[b]] == 0:
                    before += lw[l_dem[b]]
                cover[l_dem[b]] += 1
        cover[:] = 0
        # depth-first over the m-subsets of the region's candidates, taken by decreasing
        # weight alone, so that a depth stops once even the next heaviest cannot beat the best
        lone = np.zeros(cands.size)
        for a in range(cands.size):
            for b in range(l_ptr[a], l_ptr[a + 1]):
                lone[a] += lw[l_dem[b]]
        by = np.argsort(-lone)
        top = np.zeros(cands.size + 1)
        for t in range(cands.size):
            top[t + 1] = top[t] + lone[by[t]]
        best = before
        best_pick = np.arange(m)
        pick = np.full(m, -1, dtype=np.int64)
        taken = np.zeros(m, dtype=np.bool_)
        value = np.zeros(m)
        c = cands.size
        depth = 0
        tried = 0
        while depth >= 0 and tried < budget:
            tried += 1
            if taken[depth]:  # take this depth's last choice back
                a = by[pick[depth]]
                for b in range(l_ptr[a], l_ptr[a + 1]):
                    cover[l_dem[b]] -= 1
                taken[depth] = False
            pick[depth] += 1
            at = pick[depth]
            rest = m - depth
            if at > c - rest or value[depth] + top[at + rest] - top[at] <= best + tolerance:
                depth -= 1
                continue
            a = by[at]
            v = value[depth]
            for b in range(l_ptr[a], l_ptr[a + 1]):
                if cover[l_dem[b]] == 0:
                    v += lw[l_dem[b]]
                cover[l_dem[b]] += 1
            taken[depth] = True
            if depth == m - 1:
                if v > best + tolerance:
                    best = v
                    best_pick[:] = pick
            else:
                depth += 1
                value[depth] = v
                pick[depth] = pick[depth - 1]
        for d in range(m):  # when the budget ran out
            if taken[d]:
                for b in range(l_ptr[by[pick[d]]], l_ptr[by[pick[d]] + 1]):
                    cover[l_dem[b]] -= 1
        for t in range(n_local):
            local[glob[t]] = -1
        for r in freed:
            for a in range(ptr[r], ptr[r + 1]):
                freed_cover[dem[a]] = 0
        if best > before + tolerance:
            for r in freed:
                is_open[r] = False
                for a in range(ptr[r], ptr[r + 1]):
                    count[dem[a]] -= 1
            for t in range(m):
                j = cands[by[best_pick[t]]]
                is_open[j] = True
                for a in range(ptr[j], ptr[j + 1]):
                    count[dem[a]] += 1
            gained += best - before
            made += 1
    return gained, made


def demand_major(
    ptr: NDArray[np.int64], dem: NDArray[np.int64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(dptr, dcand)``: the candidates covering demand ``i`` are ``dcand[dptr[i]:dptr[i+1]]``."""
    cand = np.repeat(np.arange(ptr.size - 1, dtype=np.int64), np.diff(ptr))
    order = np.argsort(dem, kind="stable")
    dptr = np.zeros(n + 1, dtype=np.int64)
    dptr[1:] = np.cumsum(np.bincount(dem, minlength=n))
    return dptr, cand[order]


def cover_count(ptr: NDArray[np.int64], dem: NDArray[np.int64], sites: NDArray[np.bool_],
                n: int) -> NDArray[np.int64]:  # fmt: skip
    """Open ``sites`` covering each of the ``n`` demands."""
    cand = np.repeat(np.arange(ptr.size - 1), np.diff(ptr))
    return np.bincount(dem[sites[cand]], minlength=n)


def improve_covering(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    w: NDArray[np.float64],
    fixed: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    is_open: NDArray[np.bool_],
    *,
    deadline: float,
    enough: Callable[[float], bool] | None = None,
    say: Callable[[str], None] | None = None,
) -> tuple[NDArray[np.bool_], int]:
    """Improve a maximal covering's open set region by region until ``deadline``.

    Parameters
    ----------
    ptr, dem, w
        Candidate-major covering pairs and demand weights (see :mod:`stations._siting_core`).
    fixed, allowed, is_open
        Fixed candidates, candidates that may be opened, and the open set to improve.
    deadline
        :func:`time.perf_counter` value at which to stop.
    enough
        Called with the covered weight after each region: ``True`` stops the search (the
        bound is close enough).
    say
        Called with a progress line after each sweep.

    Returns
    -------
    tuple
        ``(open set, exchanges made)``.
    """
    n = w.size
    is_open = is_open.copy()
    dptr, dcand = demand_major(ptr, dem, n)
    movable = ~fixed
    rng = np.random.default_rng(0)
    tolerance = 1e-9 * max(float(w.sum()), 1.0)
    covered = _covered_weight(ptr, dem, w, is_open)
    exchanged = 0

    def stop() -> bool:
        return time.perf_counter() >= deadline or (enough is not None and enough(covered))

    def polish(text: str) -> int:
        nonlocal is_open, covered
        is_open, moves = swap(
            ptr, dem, np.zeros(dem.size), w, np.ones(n), is_open, fixed, allowed, 50, tolerance
        )  # fmt: skip
        covered = _covered_weight(ptr, dem, w, is_open)
        if say is not None:
            say(f"{text}, {moves} swaps: {covered:,.1f} covered")
        return moves

    for q in range(2, int((is_open & movable).sum()) + 1):  # small regions first
        if stop():
            break
        while not stop():
            count = cover_count(ptr, dem, is_open, n)
            gained = 0.0
            seeds = rng.permutation(np.flatnonzero(is_open & movable))
            at, batch = 0, 1
            while at < seeds.size and not stop():
                began = time.perf_counter()
                more, made = _exchange(
                    ptr, dem, dptr, dcand, w, is_open, count, movable, allowed,
                    seeds[at : at + batch], q, tolerance, _BUDGET,
                )  # fmt: skip
                at += batch  # as many seeds next time as fit in a look at the clock
                took = time.perf_counter() - began
                batch = max(1, min(2 * batch, 64) if took < _LOOK / 2 else batch // 2)
                gained += more
                covered += more
                exchanged += made
            if polish(f"exchanges of {q} sites: {exchanged} made") == 0 and gained <= tolerance:
                break
    return is_open, exchanged


def _covered_weight(
    ptr: NDArray[np.int64], dem: NDArray[np.int64], w: NDArray[np.float64],
    sites: NDArray[np.bool_],
) -> float:  # fmt: skip
    return float(w[cover_count(ptr, dem, sites, w.size) > 0].sum())
