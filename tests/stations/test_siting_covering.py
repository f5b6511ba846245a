"""Maximal covering's reductions and region search against brute force.

Merged demand must give every open set the covered weight of the original instance (also
when the hash collides); the region search must never lose coverage and, when one region
holds every site, must reach the brute-force optimum; bounds on instances with many merged
demands must still bracket it.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stations import _siting_reduce
from stations._siting_lns import improve_covering
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
    assert all(cover[:, a].any() and (cover[:, a] & cover[:, b]).any()
               for a in range(k) for b in range(k))  # fmt: skip
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


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), p=st.integers(1, 3), n_fixed=st.integers(0, 2))
def test_region_search_keeps_fixed_sites_and_never_loses(seed, p, n_fixed) -> None:
    """Fixed sites stay open, excluded ones closed, p stays p and coverage never falls."""
    ptr, dem, weight, cover = _covering(seed, 30, 12, radius=2.5)
    fixed = np.zeros(12, dtype=bool)
    fixed[:n_fixed] = True
    allowed = ~fixed
    allowed[-2:] = False  # refused by their owners
    start = fixed.copy()
    start[n_fixed : n_fixed + p] = True
    found, _ = improve_covering(
        ptr, dem, weight, fixed, allowed, start, deadline=time.perf_counter() + 30
    )
    assert (found & ~fixed).sum() == p and found[fixed].all() and not found[-2:].any()
    assert _covered(cover, weight, found) >= _covered(cover, weight, start) - 1e-9


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
