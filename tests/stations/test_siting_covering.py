"""Maximal covering's reductions, searches and bounds against brute force and HiGHS.

Merged demand must give every open set the covered weight of the original instance (also
when the hash collides); the region search and the annealing must never lose coverage and
must reach the brute-force optimum (one region holding every site; a small instance); the
Lagrangian bound must lie above the optimum for any multipliers and its smoothed
minimisation reach HiGHS's LP bound; bounds on instances with many merged demands must
still bracket the optimum.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy import sparse

from stations import _siting_reduce
from stations._siting_anneal import anneal_covering
from stations._siting_dual import covering_dual_bound, smooth_covering_bound
from stations._siting_lns import improve_covering
from stations._siting_milp import covering_model, run
from stations._siting_reduce import merge_demand
from stations.siting import SitingProblem, solve_siting


def _covering(seed: int, n: int, k: int, *, radius: float, copies: int = 1):
    """Candidate-major covering pairs of random points (each demand point ``copies`` times)."""
    rng = np.random.default_rng(seed)
    xy = np.repeat(rng.uniform(0, 10, (n, 2)), copies, axis=0)
    cand_xy = rng.uniform(0, 10, (k, 2))
    dist = np.hypot(*(xy[:, None, :] - cand_xy[None, :, :]).transpose(2, 0, 1))
    cover = dist <= radius
    d, c = np.nonzero(cover)
    order = np.lexsort((d, c))
    ptr = np.zeros(k + 1, dtype=np.int64)
    ptr[1:] = np.cumsum(np.bincount(c, minlength=k))
    weight = rng.integers(1, 10, xy.shape[0]).astype(float)
    return ptr, d[order].astype(np.int64), weight, cover


def _covered(cover: np.ndarray, weight: np.ndarray, sites: np.ndarray) -> float:
    return float(weight[cover[:, sites].any(axis=1)].sum())


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n_fixed=st.integers(0, 3), copies=st.integers(1, 3))
def test_merged_demand_covers_the_same_weight(seed, n_fixed, copies) -> None:
    """Every open set containing the fixed sites covers the same weight after merging."""
    ptr, dem, weight, cover = _covering(seed, 30, 10, radius=2.5, copies=copies)
    fixed = np.zeros(10, dtype=bool)
    fixed[:n_fixed] = True
    m_ptr, m_dem, m_w, members = merge_demand(ptr, dem, weight, fixed)
    assert m_w.sum() == pytest.approx(weight.sum()) and members.sum() == weight.size
    if copies > 1:
        assert m_w.size < weight.size
    merged = np.zeros((m_w.size, 10), dtype=bool)
    merged[m_dem, np.repeat(np.arange(10), np.diff(m_ptr))] = True
    rng = np.random.default_rng(seed)
    for _ in range(10):
        sites = fixed | (rng.random(10) < 0.3)
        assert _covered(merged, m_w, sites) == pytest.approx(_covered(cover, weight, sites))


def test_merging_survives_hash_collisions(monkeypatch) -> None:
    """With a hash under which every set of one size collides, no two sets are mixed up."""
    monkeypatch.setattr(_siting_reduce, "_salt", lambda k: np.ones(k, dtype=np.uint64))
    ptr, dem, weight, cover = _covering(4, 40, 12, radius=2.5, copies=2)
    fixed = np.zeros(12, dtype=bool)
    m_ptr, m_dem, m_w, _ = merge_demand(ptr, dem, weight, fixed)
    merged = np.zeros((m_w.size, 12), dtype=bool)
    merged[m_dem, np.repeat(np.arange(12), np.diff(m_ptr))] = True
    assert len({tuple(row) for row in cover}) <= m_w.size < weight.size
    for sites in itertools.combinations(range(12), 3):
        chosen = np.isin(np.arange(12), sites)
        assert _covered(merged, m_w, chosen) == pytest.approx(_covered(cover, weight, chosen))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), p=st.integers(2, 4))
def test_region_search_reaches_the_optimum_when_one_region_holds_all(seed, p) -> None:
    """Sites that all share demand form one region: the search ends at the optimum."""
    ptr, dem, weight, cover = _covering(seed, 40, 9, radius=7.0)
    k = 9
    # the premise (not every seed's draw meets it): every pair of sites shares demand
    assume(all(cover[:, a].any() and (cover[:, a] & cover[:, b]).any()
               for a in range(k) for b in range(k)))  # fmt: skip
    start = np.zeros(k, dtype=bool)
    start[:p] = True
    found, _ = improve_covering(
        ptr, dem, weight, np.zeros(k, dtype=bool), np.ones(k, dtype=bool), start,
        deadline=time.perf_counter() + 30,
    )  # fmt: skip
    best = max(_covered(cover, weight, np.isin(np.arange(k), s))
               for s in itertools.combinations(range(k), p))  # fmt: skip
    assert found.sum() == p
    assert _covered(cover, weight, found) == pytest.approx(best)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), p=st.integers(1, 3), copies=st.integers(2, 4))
def test_bounds_bracket_the_optimum_with_merged_demand(seed, p, copies) -> None:
    """Heuristic + Lagrangian bound (merged demand) bracket the brute-force optimum."""
    *_, weight, cover = _covering(seed, 12, 8, radius=3.0, copies=copies)
    d, c = np.nonzero(cover)
    problem = SitingProblem.from_pairs(
        d, c, np.ones(d.size), weight=weight,
        demand_ids=[f"d{i}" for i in range(weight.size)],
        candidate_ids=[f"c{j}" for j in range(8)],
    )  # fmt: skip
    result = solve_siting(problem, objective="mclp", p=p, radius=3.0, exact=False)
    best = max(_covered(cover, weight, np.isin(np.arange(8), s))
               for s in itertools.combinations(range(8), p))  # fmt: skip
    assert result.lower <= best + 1e-6 <= result.upper + 2e-6
    assert result.value == pytest.approx(result.lower)


@pytest.mark.parametrize("search", [improve_covering, anneal_covering])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), p=st.integers(1, 3), n_fixed=st.integers(0, 2))
def test_searches_keep_fixed_sites_and_never_lose(search, seed, p, n_fixed) -> None:
    """Region search and annealing keep fixed sites open, refused ones closed, p new sites,
    and never lose coverage."""
    ptr, dem, weight, cover = _covering(seed, 30, 12, radius=2.5)
    fixed = np.zeros(12, dtype=bool)
    fixed[:n_fixed] = True
    allowed = ~fixed
    allowed[-2:] = False  # refused by their owners
    start = fixed.copy()
    start[n_fixed : n_fixed + p] = True
    found, _ = search(ptr, dem, weight, fixed, allowed, start, deadline=time.perf_counter() + 30)
    assert (found & ~fixed).sum() == p and found[fixed].all() and not found[-2:].any()
    assert _covered(cover, weight, found) >= _covered(cover, weight, start) - 1e-9


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), p=st.integers(2, 4))
def test_annealing_reaches_the_brute_force_optimum_on_small_instances(seed, p) -> None:
    """From the worst start (the first p sites), its move budget ends at the optimum."""
    ptr, dem, weight, cover = _covering(seed, 40, 10, radius=2.5)
    start = np.zeros(10, dtype=bool)
    start[:p] = True
    found, _ = anneal_covering(
        ptr, dem, weight, np.zeros(10, dtype=bool), np.ones(10, dtype=bool), start,
        deadline=time.perf_counter() + 30, seed=seed,
    )  # fmt: skip
    best = max(_covered(cover, weight, np.isin(np.arange(10), s))
               for s in itertools.combinations(range(10), p))  # fmt: skip
    assert found.sum() == p
    assert _covered(cover, weight, found) == pytest.approx(best)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 3), n_fixed=st.integers(0, 2),
       scale=st.floats(0.0, 1.5))  # fmt: skip
def test_covering_dual_bound_is_above_the_optimum_for_any_multipliers(
    seed, p, n_fixed, scale
) -> None:
    """L(λ) bounds the brute-force optimum for any λ, also outside [0, w] (it is clipped)."""
    ptr, dem, weight, cover = _covering(seed, 25, 9, radius=2.5)
    k = 9
    fixed = np.zeros(k, dtype=bool)
    fixed[:n_fixed] = True
    free = ~fixed
    free[-1] = False  # refused
    lam = np.random.default_rng(seed).uniform(-0.5, 1.0, weight.size) * weight * scale
    cand = np.repeat(np.arange(k), np.diff(ptr))
    matrix = sparse.csr_matrix((np.ones(dem.size), (cand, dem)), shape=(k, weight.size))
    best = max(_covered(cover, weight, fixed | np.isin(np.arange(k), s))
               for s in itertools.combinations(np.flatnonzero(free), p))  # fmt: skip
    assert covering_dual_bound(matrix, weight, fixed, free, p, lam) >= best - 1e-9


def test_smoothed_dual_reaches_the_lp_bound_of_highs() -> None:
    """From zero multipliers the smoothed dual ends within 0.2 % of HiGHS's LP bound (never
    below it: its value is a Lagrangian bound, and the LP is their minimum)."""
    ptr, dem, weight, _ = _covering(7, 600, 80, radius=1.2)
    k = 80
    fixed = np.zeros(k, dtype=bool)
    fixed[:3] = True
    allowed = ~fixed
    lp = run(covering_model(ptr, dem, weight, fixed, allowed, p=8), relax=True)
    most, iterations = smooth_covering_bound(
        ptr, dem, weight, fixed, allowed, 8, np.zeros(weight.size),
        deadline=time.perf_counter() + 60,
    )  # fmt: skip
    assert lp.optimal and iterations > 0
    assert lp.bound - 1e-6 <= most <= lp.bound * 1.002


def test_smoothed_dual_stops_when_told() -> None:
    """``enough`` stops it at the first bound it sees; the bound is still valid."""
    ptr, dem, weight, _ = _covering(3, 300, 40, radius=1.5)
    seen: list[float] = []
    most, _ = smooth_covering_bound(
        ptr, dem, weight, np.zeros(40, dtype=bool), np.ones(40, dtype=bool), 5,
        weight.copy(), deadline=time.perf_counter() + 60,
        enough=lambda bound: seen.append(bound) or True,
    )  # fmt: skip
    lp = run(covering_model(ptr, dem, weight, np.zeros(40, bool), np.ones(40, bool), p=5),
             relax=True)  # fmt: skip
    assert len(seen) == 1 and most >= lp.bound - 1e-6
