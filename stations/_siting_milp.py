"""Siting models for HiGHS (``highspy``, called directly): LP bounds and exact MILPs.

All models are built column-wise from the sparse pairs (never a dense matrix) and passed
to HiGHS in one :class:`highspy.HighsLp`:

* :func:`facility_model` — truncated facility location (p-median, and the capacitated
  variants of p-median and maximal covering): ``x_j`` open, ``z_q`` the share of demand
  ``i`` served by pair ``q = (i, j)``, ``z0_i`` unserved; ``Σ z + z0 = 1``, ``z_q <= x_j``,
  ``Σ_free x = p``, and with capacities ``Σ_i w_i z_ij <= cap_j x_j``.
* :func:`covering_model` — maximal covering in its compact form (``y_i <= Σ_{j∈N_i}
  x_j``), and the partial set covering of LSCP (fewest ``x`` with ``Σ w_i y_i >= target``).

HiGHS prints a banner to stdout the first time a solver is made in a process; that one
construction runs with stdout redirected, so ``--json`` output stays clean.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["MilpResult", "covering_model", "facility_model", "run"]

_BANNER_LOCK = threading.Lock()
_BANNER_DONE = False


def _highs() -> Any:
    """A quiet :class:`highspy.Highs` (the one-off banner swallowed)."""
    global _BANNER_DONE
    import highspy

    with _BANNER_LOCK:
        if not _BANNER_DONE:
            sys.stdout.flush()
            saved = os.dup(1)
            try:
                with open(os.devnull, "wb") as null:
                    os.dup2(null.fileno(), 1)
                    solver = highspy.Highs()
            finally:
                os.dup2(saved, 1)
                os.close(saved)
            _BANNER_DONE = True
        else:
            solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    return solver


@dataclass(frozen=True)
class MilpResult:
    """What HiGHS returned.

    Attributes
    ----------
    x
        Open candidates (decisions read as ``> 0.5``); ``None`` without a solution.
    value
        Objective of the solution (``nan`` without one).
    bound
        The proven bound (MILP dual bound, or the LP optimum of a relaxation).
    optimal
        HiGHS proved optimality (within its tolerance).
    status
        HiGHS's model status text.
    """

    x: NDArray[np.bool_] | None
    value: float
    bound: float
    optimal: bool
    status: str


@dataclass
class _Model:
    cost: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    integer: NDArray[np.bool_]
    matrix: sparse.csc_matrix
    row_lower: NDArray[np.float64]
    row_upper: NDArray[np.float64]
    n_x: int
    maximize: bool = False


def _x_bounds(
    fixed: NDArray[np.bool_], allowed: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    lower = np.where(fixed, 1.0, 0.0)
    upper = np.where(fixed | allowed, 1.0, 0.0)
    return lower, upper


def facility_model(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    cost: NDArray[np.float64],
    w: NDArray[np.float64],
    u: NDArray[np.float64],
    fixed: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    p: int,
    capacity: NDArray[np.float64] | None,
) -> _Model:
    """Truncated facility location (see the module notes); minimises the weighted cost."""
    k, n, m = ptr.size - 1, u.size, dem.size
    cand = np.repeat(np.arange(k), np.diff(ptr))
    # columns: x (k), z (m), z0 (n); rows: assign (n), link (m), count (1), capacity (k)
    rows, cols, vals = [], [], []
    rows.append(dem)
    cols.append(k + np.arange(m))
    vals.append(np.ones(m))
    rows.append(np.arange(n))
    cols.append(k + m + np.arange(n))
    vals.append(np.ones(n))
    link = n + np.arange(m)
    rows += [link, link]
    cols += [k + np.arange(m), cand]
    vals += [np.ones(m), -np.ones(m)]
    free = np.flatnonzero(allowed & ~fixed)
    rows.append(np.full(free.size, n + m))
    cols.append(free)
    vals.append(np.ones(free.size))
    n_rows = n + m + 1
    row_lower = [np.ones(n), np.full(m, -np.inf), [float(p)]]
    row_upper = [np.ones(n), np.zeros(m), [float(p)]]
    if capacity is not None:
        capped = np.flatnonzero(np.isfinite(capacity))
        cap_row = np.full(k, -1)
        cap_row[capped] = n_rows + np.arange(capped.size)
        has = np.isfinite(capacity)[cand]
        rows += [cap_row[cand[has]], cap_row[capped]]
        cols += [k + np.flatnonzero(has), capped]
        vals += [w[dem[has]], -capacity[capped]]
        row_lower.append(np.full(capped.size, -np.inf))
        row_upper.append(np.zeros(capped.size))
        n_rows += capped.size
    x_lo, x_up = _x_bounds(fixed, allowed)
    n_cols = k + m + n
    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, n_cols),
    )
    return _Model(
        cost=np.concatenate([np.zeros(k), w[dem] * cost, w * u]),
        lower=np.concatenate([x_lo, np.zeros(m + n)]),
        upper=np.concatenate([x_up, np.ones(m + n)]),
        integer=np.concatenate([np.ones(k, dtype=bool), np.zeros(m + n, dtype=bool)]),
        matrix=matrix,
        row_lower=np.concatenate([np.asarray(r, dtype=float) for r in row_lower]),
        row_upper=np.concatenate([np.asarray(r, dtype=float) for r in row_upper]),
        n_x=k,
    )


def covering_model(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    w: NDArray[np.float64],
    fixed: NDArray[np.bool_],
    allowed: NDArray[np.bool_],
    *,
    p: int | None = None,
    target: float | None = None,
) -> _Model:
    """Maximal covering with ``p`` (maximise covered weight) or LSCP with ``target`` weight."""
    k, n = ptr.size - 1, w.size
    cand = np.repeat(np.arange(k), np.diff(ptr))
    # columns: x (k), y (n); rows: y_i - Σ x_j <= 0 (n), then count or target
    rows = [np.arange(n), dem]
    cols = [k + np.arange(n), cand]
    vals = [np.ones(n), -np.ones(dem.size)]
    free = np.flatnonzero(allowed & ~fixed)
    if p is not None:
        rows.append(np.full(free.size, n))
        cols.append(free)
        vals.append(np.ones(free.size))
        last = (float(p), float(p))
        cost = np.concatenate([np.zeros(k), w])
        maximize = True
    else:
        rows.append(np.full(n, n))
        cols.append(k + np.arange(n))
        vals.append(w)
        last = (float(target or 0.0), np.inf)
        cost = np.concatenate([np.where(fixed, 0.0, 1.0), np.zeros(n)])
        maximize = False
    matrix = sparse.csc_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n + 1, k + n)
    )
    x_lo, x_up = _x_bounds(fixed, allowed)
    return _Model(
        cost=cost,
        lower=np.concatenate([x_lo, np.zeros(n)]),
        upper=np.concatenate([x_up, np.ones(n)]),
        integer=np.concatenate([np.ones(k, dtype=bool), np.zeros(n, dtype=bool)]),
        matrix=matrix,
        row_lower=np.concatenate([np.full(n, -np.inf), [last[0]]]),
        row_upper=np.concatenate([np.zeros(n), [last[1]]]),
        n_x=k,
        maximize=maximize,
    )


def run(
    model: _Model,
    *,
    relax: bool = False,
    time_limit: float = 60.0,
    gap: float = 1e-6,
) -> MilpResult:
    """Solve ``model`` (its LP relaxation when ``relax``) with HiGHS.

    No starting solution is handed over: with one that broke a row (HiGHS 1.16,
    ``setSolution``), the reported objective disagreed with the returned columns.
    """
    import highspy

    solver = _highs()
    solver.setOptionValue("time_limit", float(max(time_limit, 0.1)))
    solver.setOptionValue("mip_rel_gap", float(gap))
    lp = highspy.HighsLp()
    lp.num_col_ = int(model.cost.size)
    lp.num_row_ = int(model.row_lower.size)
    lp.col_cost_ = model.cost
    lp.col_lower_ = model.lower
    lp.col_upper_ = model.upper
    lp.row_lower_ = model.row_lower
    lp.row_upper_ = model.row_upper
    lp.sense_ = highspy.ObjSense.kMaximize if model.maximize else highspy.ObjSense.kMinimize
    matrix = model.matrix
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    if not relax:
        kinds = [highspy.HighsVarType.kContinuous] * lp.num_col_
        for j in np.flatnonzero(model.integer):
            kinds[int(j)] = highspy.HighsVarType.kInteger
        lp.integrality_ = kinds
    solver.passModel(lp)
    solver.run()
    status = solver.getModelStatus()
    text = solver.modelStatusToString(status)
    info = solver.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    value = float(info.objective_function_value) if has_solution else float("nan")
    optimal = status == highspy.HighsModelStatus.kOptimal
    if relax:
        bound = value if optimal else (float("inf") if model.maximize else -float("inf"))
        return MilpResult(None, value, bound, optimal, text)
    bound = float(info.mip_dual_bound)
    x = None
    if has_solution:
        x = np.asarray(solver.getSolution().col_value[: model.n_x]) > 0.5
    return MilpResult(x, value, bound, optimal, text)
