"""Simulated annealing for maximal covering: many cheap site moves, worse ones sometimes.

Greedy + swaps stop at a swap-local optimum; on large instances, where each open site
overlaps many others, the better coverings differ from it by many sites moved together,
which neither a single swap nor an exact re-solve of a few neighbouring sites finds. This
search moves one open site at a time, mostly to a candidate sharing demand with it (a
random demand it covers, then a random candidate covering that demand), sometimes to any
usable candidate, and accepts a move that covers ``delta`` less weight with probability
``exp(delta / T)``. The temperature ``T`` falls geometrically with the time spent, from
a share of the mean weight an open site covers to a hundredth of it, so the search wanders
first and settles by the deadline. A move costs two walks over the sites' pairs (the
demand each open site covers is counted), so millions fit in the time of one greedy.

The best open set seen is returned: the covered weight never falls below the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ._siting_lns import cover_count, demand_major

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["anneal_covering"]

#: Seconds between two looks at the clock (about).
_LOOK = 0.2
#: Starting temperature as a share of the mean weight an open site covers; it ends at 1 %.
_HOT = 0.135
_COOL = 0.01
#: Share of moves to a candidate sharing demand with the site moved (the rest: anywhere).
_NEAR = 0.9
#: Moves at most, per covering pair (at least ``_FEWEST``): small instances end early.
_MOVES_PER_PAIR = 40
_FEWEST = 20_000


@njit(cache=True, nogil=True)
def _moves(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    dptr: NDArray[np.int64],
    dcand: NDArray[np.int64],
    w: NDArray[np.float64],
    is_open: NDArray[np.bool_],
    count: NDArray[np.int64],
    movable: NDArray[np.bool_],
    usable: NDArray[np.bool_],
    moves: int,
    t_start: float,
    t_end: float,
    seed: int,
    covered: float,
    best: float,
    best_open: NDArray[np.bool_],
) -> tuple[float, float]:  # pragma: no cover - compiled
    """``moves`` annealing steps, the temperature going from ``t_start`` to ``t_end``.

    ``is_open``, ``count`` (open sites covering each demand) and ``best_open`` are updated
    in place. Returns ``(covered weight now, best covered weight)``.
    """
    np.random.seed(seed)
    k = ptr.size - 1
    opened = np.empty(k, dtype=np.int64)
    pos = np.full(k, -1, dtype=np.int64)
    n_open = 0
    for j in range(k):
        if is_open[j] and movable[j]:
            opened[n_open] = j
            pos[j] = n_open
            n_open += 1
    anywhere = np.flatnonzero(usable)
    if n_open == 0 or anywhere.size == 0:
        return covered, best
    ratio = (t_end / t_start) ** (1.0 / max(moves - 1, 1))
    t = t_start
    for _ in range(moves):
        t *= ratio
        r = opened[np.random.randint(n_open)]
        j = -1
        if ptr[r + 1] > ptr[r] and np.random.random() < _NEAR:
            i = dem[ptr[r] + np.random.randint(ptr[r + 1] - ptr[r])]
            j = dcand[dptr[i] + np.random.randint(dptr[i + 1] - dptr[i])]
        else:
            j = anywhere[np.random.randint(anywhere.size)]
        if is_open[j] or not usable[j]:
            continue
        loss = 0.0
        for a in range(ptr[r], ptr[r + 1]):
            i = dem[a]
            count[i] -= 1
            if count[i] == 0:
                loss += w[i]
        gain = 0.0
        for a in range(ptr[j], ptr[j + 1]):
            if count[dem[a]] == 0:
                gain += w[dem[a]]
        delta = gain - loss
        if delta >= 0.0 or np.random.random() < np.exp(delta / t):
            for a in range(ptr[j], ptr[j + 1]):
                count[dem[a]] += 1
            is_open[r] = False
            is_open[j] = True
            opened[pos[r]] = j
            pos[j] = pos[r]
            pos[r] = -1
            covered += delta
            if covered > best:
                best = covered
                best_open[:] = is_open
        else:  # undo the closing
            for a in range(ptr[r], ptr[r + 1]):
                count[dem[a]] += 1
    return covered, best


def anneal_covering(
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
    seed: int = 0,
) -> tuple[NDArray[np.bool_], int]:
    """Improve a maximal covering's open set by simulated annealing until ``deadline``.

    Parameters
    ----------
    ptr, dem, w
        Candidate-major covering pairs and demand weights (see :mod:`stations._siting_core`).
    fixed, allowed, is_open
        Fixed candidates (never moved), candidates that may be opened, and the open set.
    deadline
        :func:`time.perf_counter` value at which to stop; the temperature reaches its
        lowest then, or after 40 moves per pair if sooner (small instances).
    enough
        Called with the best covered weight at each look at the clock: ``True`` stops the
        search (the bound is close enough).
    say
        Called with a progress line about every second.
    seed
        Of the random moves.

    Returns
    -------
    tuple
        ``(best open set seen, moves tried)``; it covers at least what ``is_open`` covers.
    """
    n = w.size
    dptr, dcand = demand_major(ptr, dem, n)
    current = is_open.copy()
    count = cover_count(ptr, dem, current, n)
    covered = float(w[count > 0].sum())
    best, best_open = covered, current.copy()
    movable = ~fixed
    usable = allowed & ~fixed
    n_movable = int((current & movable).sum())
    if n_movable == 0 or not usable.any():
        return best_open, 0
    hot = _HOT * max(covered, float(w.max(initial=1.0))) / n_movable
    budget = max(_MOVES_PER_PAIR * dem.size, _FEWEST)
    began = time.perf_counter()
    span = max(deadline - began, 1e-3)
    batch, tried, step, said = 10_000, 0, 0, began
    while tried < budget:
        now = time.perf_counter()
        if now >= deadline or (enough is not None and enough(best)):
            break
        batch = min(batch, budget - tried)
        # the schedule follows time or moves, whichever is further along
        done = max((now - began) / span, tried / budget)
        ahead = max(min(now + _LOOK - began, span) / span, (tried + batch) / budget)
        covered, best = _moves(
            ptr, dem, dptr, dcand, w, current, count, movable, usable, batch,
            hot * _COOL**done, hot * _COOL ** min(ahead, 1.0), seed + step, covered, best,
            best_open,
        )  # fmt: skip
        tried += batch
        step += 1
        took = time.perf_counter() - now
        batch = int(min(max(batch * _LOOK / max(took, 1e-6), 1_000), 4 * batch))
        if say is not None and time.perf_counter() - said >= 1.0:
            said = time.perf_counter()
            say(f"annealing: {tried:,} moves, {best:,.1f} covered (now {covered:,.1f})")
    return best_open, tried
