"""Sparse walking times between demand points and candidate sites on an Area.

One bounded search per candidate on the reversed walk graph (:func:`stations._reach.
reach_each`, seeded at both ends of the candidate's street with its straight leg) gives the
nodes within the budget; each reached node hands its time on to the demand points that
leave their street through it, and points on the candidate's own street are also walked
to it directly along the street. Only pairs within the budget are kept: a candidates x
demand matrix is never formed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from ._reach import reach_each

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._walkmodel import WalkModel

__all__ = ["pair_times"]


@njit(cache=True, nogil=True)
def _join(
    r_ptr: NDArray[np.int64],
    r_node: NDArray[np.int64],
    r_time: NDArray[np.float64],
    node_ptr: NDArray[np.int64],
    node_dem: NDArray[np.int64],
    node_cost: NDArray[np.float64],
    cand_street: NDArray[np.int64],
    cand_frac: NDArray[np.float64],
    cand_leg: NDArray[np.float64],
    street_ptr: NDArray[np.int64],
    street_dem: NDArray[np.int64],
    dem_frac: NDArray[np.float64],
    dem_leg: NDArray[np.float64],
    tf: NDArray[np.float64],
    tb: NDArray[np.float64],
    n_dem: int,
    limit: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:  # pragma: no cover
    n_cand = r_ptr.size - 1
    best = np.full(n_dem, np.inf)
    seen = np.empty(n_dem, dtype=np.int64)
    out_ptr = np.zeros(n_cand + 1, dtype=np.int64)
    out_dem = np.empty(1024, dtype=np.int64)
    out_t = np.empty(1024, dtype=np.float64)
    total = 0
    for j in range(n_cand):
        n_seen = 0
        for q in range(r_ptr[j], r_ptr[j + 1]):
            x = r_node[q]
            for k in range(node_ptr[x], node_ptr[x + 1]):
                i = node_dem[k]
                t = r_time[q] + node_cost[k] + dem_leg[i]
                if t < best[i]:
                    if best[i] == np.inf:
                        seen[n_seen] = i
                        n_seen += 1
                    best[i] = t
        s = cand_street[j]
        if s >= 0:  # points on the candidate's own street, walked along it
            f = cand_frac[j]
            for k in range(street_ptr[s], street_ptr[s + 1]):
                i = street_dem[k]
                g = dem_frac[i]
                along = (f - g) * tf[s] if f >= g else (g - f) * tb[s]
                t = dem_leg[i] + along + cand_leg[j]
                if t < best[i]:
                    if best[i] == np.inf:
                        seen[n_seen] = i
                        n_seen += 1
                    best[i] = t
        for a in range(n_seen):
            i = seen[a]
            if best[i] <= limit:
                if total >= out_dem.size:
                    grown_d = np.empty(out_dem.size * 2, dtype=np.int64)
                    grown_t = np.empty(out_t.size * 2, dtype=np.float64)
                    grown_d[:total] = out_dem[:total]
                    grown_t[:total] = out_t[:total]
                    out_dem, out_t = grown_d, grown_t
                out_dem[total] = i
                out_t[total] = best[i]
                total += 1
            best[i] = np.inf
        out_ptr[j + 1] = total
    return out_ptr, out_dem[:total].copy(), out_t[:total].copy()


def _csr(keys: NDArray[np.int64], size: int) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``(ptr, order)``: the items grouped by key (``-1`` keys dropped)."""
    ok = np.flatnonzero(keys >= 0)
    order = ok[np.argsort(keys[ok], kind="stable")]
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.add.at(ptr, keys[order] + 1, 1)
    return np.cumsum(ptr), order.astype(np.int64)


def pair_times(
    model: WalkModel,
    cand_street: NDArray[np.int64],
    cand_frac: NDArray[np.float64],
    cand_leg: NDArray[np.float64],
    dem_street: NDArray[np.int64],
    dem_frac: NDArray[np.float64],
    dem_leg: NDArray[np.float64],
    *,
    limit_s: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Walking seconds from demand points to candidates, pairs within ``limit_s`` only.

    Positions are (street index, fraction, straight leg in seconds); a street of ``-1`` is
    off the map (no pairs). Returns the candidate-major CSR ``(ptr, demand, seconds)``.
    """
    c_ok = cand_street >= 0
    s = np.where(c_ok, cand_street, 0)
    u, v = model.u[s], model.v[s]
    # seeds: from the tail u (frac of the street) and the head v (the rest, backwards)
    seed_node = np.column_stack(
        [np.where(c_ok, u, -1), np.where(c_ok & np.isfinite(model.tb[s]), v, -1)]
    )
    seed_time = np.column_stack(
        [cand_leg + cand_frac * model.tf[s], cand_leg + (1.0 - cand_frac) * model.tb[s]]
    )
    seed_ptr = np.arange(0, 2 * cand_street.size + 1, 2, dtype=np.int64)
    r_ptr, r_node, r_time = reach_each(
        model.rev_indptr,
        model.rev_indices,
        model.rev_data,
        model.n,
        seed_ptr,
        seed_node.ravel().astype(np.int64),
        np.nan_to_num(seed_time.ravel(), nan=np.inf),
        float(limit_s),
    )
    d_ok = dem_street >= 0
    ds = np.where(d_ok, dem_street, 0)
    # each demand point leaves its street through v (ahead) and u (back, if two-way)
    exit_node = np.concatenate([np.where(d_ok, model.v[ds], -1), np.where(d_ok, model.u[ds], -1)])
    exit_cost = np.concatenate([(1.0 - dem_frac) * model.tf[ds], dem_frac * model.tb[ds]])
    exit_node = np.where(np.isfinite(exit_cost), exit_node, -1)
    node_ptr, order = _csr(exit_node.astype(np.int64), model.n)
    n_dem = dem_street.size
    street_ptr, street_order = _csr(np.where(d_ok, dem_street, -1).astype(np.int64), model.m)
    return _join(
        r_ptr,
        r_node,
        r_time,
        node_ptr,
        (order % n_dem).astype(np.int64),
        exit_cost[order].astype(np.float64),
        np.where(c_ok, cand_street, -1).astype(np.int64),
        cand_frac.astype(np.float64),
        cand_leg.astype(np.float64),
        street_ptr,
        street_order,
        dem_frac.astype(np.float64),
        dem_leg.astype(np.float64),
        model.tf,
        model.tb,
        n_dem,
        float(limit_s),
    )
