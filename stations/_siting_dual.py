"""Maximal covering's Lagrangian dual, smoothed and minimised by L-BFGS-B.

Relaxing "a demand counts only if an open site covers it" (``y_i <= Σ_{j∈N_i} x_j``) with
multipliers ``0 <= λ_i <= w_i`` gives, for every ``λ``, an upper bound on the covered weight

    L(λ) = Σ_i (w_i - λ_i) + Σ_{j fixed} R_j + (sum of the p largest R_j among the free),
    R_j = Σ_{i∈N_j} λ_i,

whose minimum is the LP relaxation's bound. Subgradient steps
(:func:`stations._siting_core.lagrangian`) get near it fast and then stall; here the sum of
the ``p`` largest is written as ``min_μ p μ + Σ_j max(0, R_j - μ)`` and ``max(0, ·)`` is
replaced by the softplus ``τ log(1 + exp(· / τ))``, a smooth function above it, minimised
over ``(λ, μ)`` within the box by L-BFGS-B (scipy, on one BLAS thread) for falling ``τ``.
Only ``L`` itself is ever reported, evaluated exactly at the multipliers found, so every
figure is a valid bound whatever the smoothing or the solver's convergence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from scipy import optimize, sparse
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["covering_dual_bound", "smooth_covering_bound"]

#: Smoothing ``τ`` as shares of the mean demand weight, one L-BFGS-B run each.
_TAUS = (0.2, 0.06, 0.02, 0.006, 0.002)
#: L-BFGS-B iterations per ``τ`` at most.
_ITERATIONS = 150


def covering_dual_bound(
    matrix: sparse.csr_matrix,
    w: NDArray[np.float64],
    fixed: NDArray[np.bool_],
    free: NDArray[np.bool_],
    p: int,
    lam: NDArray[np.float64],
) -> float:
    """``L(λ)`` (see the module notes): an upper bound on the covered weight.

    ``matrix`` is candidates x demands (1 where the candidate covers the demand); ``lam``
    is clipped into ``[0, w]`` first (``L`` is a bound only there).
    """
    lam = np.clip(lam, 0.0, w)
    reach = matrix @ lam
    values = reach[free]
    take = min(p, values.size)
    top = np.partition(values, values.size - take)[values.size - take :].sum() if take else 0.0
    return float(w.sum() - lam.sum() + reach[fixed].sum() + top)


def smooth_covering_bound(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    w: NDArray[np.float64],
    fixed: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    p: int,
    lam: NDArray[np.float64],
    *,
    deadline: float,
    enough: Callable[[float], bool] | None = None,
) -> tuple[float, int]:
    """Tighten the covering bound from multipliers ``lam`` until ``deadline``.

    Parameters
    ----------
    ptr, dem, w
        Candidate-major covering pairs and demand weights (see :mod:`stations._siting_core`).
    fixed, allowed
        Fixed candidates (always open) and candidates that may be opened.
    p
        Free candidates to open.
    lam
        Starting multipliers (e.g. from subgradient steps), one per demand.
    deadline
        :func:`time.perf_counter` value at which to stop.
    enough
        Called with each better bound: ``True`` stops.

    Returns
    -------
    tuple
        ``(best bound on the covered weight, L-BFGS-B iterations)``.
    """
    k, n = ptr.size - 1, w.size
    cand = np.repeat(np.arange(k), np.diff(ptr))
    matrix = sparse.csr_matrix((np.ones(dem.size), (cand, dem)), shape=(k, n))
    by_demand = matrix.T.tocsr()
    free = allowed & ~fixed
    on_fixed = by_demand @ fixed.astype(np.float64)
    total = float(w.sum())
    lam = np.clip(np.asarray(lam, dtype=np.float64), 0.0, w)
    best = covering_dual_bound(matrix, w, fixed, free, p, lam)
    reach = matrix @ lam
    mu = float(np.sort(reach[free])[::-1][min(p, int(free.sum()) - 1)]) if free.any() else 0.0
    z = np.concatenate([lam, [mu]])
    box = optimize.Bounds(np.concatenate([np.zeros(n), [-np.inf]]), np.concatenate([w, [np.inf]]))
    scale = float(w.mean()) if n else 1.0
    iterations, stopped = 0, False

    def should_stop() -> bool:
        nonlocal stopped
        stopped = time.perf_counter() >= deadline or (enough is not None and enough(best))
        return stopped

    def look(x: NDArray[np.float64]) -> None:
        nonlocal best, iterations
        iterations += 1
        if iterations % 5 == 0:
            best = min(best, covering_dual_bound(matrix, w, fixed, free, p, x[:n]))
        if should_stop():
            raise StopIteration  # L-BFGS-B stops and returns this iterate

    for share in _TAUS:
        tau = share * scale

        def smoothed(x: NDArray[np.float64], tau: float = tau) -> tuple[float, np.ndarray]:
            t = ((matrix @ x[:n])[free] - x[n]) / tau
            sigma = np.zeros(k)
            sigma[free] = 0.5 * (1.0 + np.tanh(0.5 * t))
            value = total - x[:n].sum() + x[:n] @ on_fixed + p * x[n]
            value += tau * np.logaddexp(0.0, t).sum()
            grad = np.empty(n + 1)
            grad[:n] = on_fixed - 1.0 + by_demand @ sigma
            grad[n] = p - sigma.sum()
            return float(value), grad

        # L-BFGS-B's BLAS calls are small: more BLAS threads only spin beside the search
        with threadpool_limits(limits=1, user_api="blas"):
            z = optimize.minimize(
                smoothed, z, jac=True, method="L-BFGS-B", bounds=box, callback=look,
                options={"maxiter": _ITERATIONS, "maxcor": 10},
            ).x  # fmt: skip
        best = min(best, covering_dual_bound(matrix, w, fixed, free, p, z[:n]))
        if stopped or should_stop():
            break
    return best, iterations
