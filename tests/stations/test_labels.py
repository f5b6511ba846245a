"""One-pass K-best labels against the previous per-station scipy Dijkstra, on random graphs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from stations._labels import Labels, add_sources, build_labels, remove_sources
from tests.grids import street_grid


@dataclass
class Case:
    reverse: sparse.csr_matrix
    nodes: np.ndarray
    offsets: np.ndarray
    k: int
    horizon: float

    @property
    def slots(self) -> np.ndarray:
        return np.arange(self.nodes.size, dtype=np.int32)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A random directed graph (integer weights: many ties), stations and K (often > stations)."""
    n = draw(st.integers(1, 40))
    m = draw(st.integers(0, 4 * n))
    rows = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=int)
    cols = np.array(draw(st.lists(st.integers(0, n - 1), min_size=m, max_size=m)), dtype=int)
    weights = np.array(draw(st.lists(st.integers(1, 3), min_size=m, max_size=m)), dtype=float)
    forward = sparse.csr_matrix((weights, (rows, cols)), shape=(n, n))
    s = draw(st.integers(0, 15))
    nodes = np.array(draw(st.lists(st.integers(0, n - 1), min_size=s, max_size=s)), dtype=np.intp)
    offsets = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=s, max_size=s)))
    k = draw(st.integers(1, 8))
    horizon = draw(st.sampled_from([2.0, 4.5, 8.0, 1e6]))
    return Case(forward.T.tocsr(), nodes, offsets, k, horizon)


def reference_times(case: Case, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The previous method: scipy Dijkstra from each station on the reversed graph.

    Returns the ``(n, S)`` station-time matrix (``inf`` past the horizon or for dropped
    stations) and each node's ``K`` best times, sorted.
    """
    n = case.reverse.shape[0]
    if case.nodes.size == 0:
        full = np.full((n, 0), np.inf)
    else:
        dist = np.atleast_2d(dijkstra(case.reverse, indices=case.nodes, limit=case.horizon))
        full = dist.T + case.offsets[None, :]
        full[full > case.horizon] = np.inf
        if keep is not None:
            full[:, ~keep] = np.inf
    best = np.sort(np.concatenate([full, np.full((n, case.k), np.inf)], axis=1), axis=1)
    return full, best[:, : case.k]


def check_labels(case: Case, labels: Labels, keep: np.ndarray | None = None) -> None:
    """Times equal the reference's K best; every label is a true, distinct station time."""
    full, best = reference_times(case, keep)
    np.testing.assert_allclose(labels.time, best.astype(np.float32), rtol=1e-6)
    assert np.array_equal(labels.slot >= 0, np.isfinite(best))
    for v in range(labels.time.shape[0]):
        row = labels.slot[v][labels.slot[v] >= 0]
        assert len(set(row.tolist())) == row.size
        np.testing.assert_allclose(labels.time[v, : row.size], full[v, row], rtol=1e-6)
    full_row = labels.slot[:, -1] >= 0
    expected_r = np.where(full_row, best[:, -1], case.horizon).astype(np.float32)
    np.testing.assert_allclose(labels.radius, expected_r, rtol=1e-6)


@settings(max_examples=150, deadline=None)
@given(case=cases())
def test_one_pass_labels_equal_per_station_dijkstra(case: Case) -> None:
    """Labels of one K-best pass equal the K best of a scipy search per station, ties included."""
    labels = build_labels(
        case.reverse, case.nodes, case.offsets, case.slots, k=case.k, horizon=case.horizon
    )
    check_labels(case, labels)
    # The next node of a label continues a shortest walk to the same station.
    forward = case.reverse.T.tocsr()
    full, _ = reference_times(case)
    for v, j in zip(*np.nonzero(labels.slot >= 0), strict=True):
        slot, nxt, t = int(labels.slot[v, j]), int(labels.next[v, j]), labels.time[v, j]
        if nxt < 0:
            assert case.nodes[slot] == v
            assert t == np.float32(case.offsets[slot])
        else:
            assert slot in labels.slot[nxt].tolist()
            np.testing.assert_allclose(t, forward[v, nxt] + full[nxt, slot], rtol=1e-6)


@settings(max_examples=100, deadline=None)
@given(case=cases(), data=st.data())
def test_updates_equal_a_fresh_build(case: Case, data: st.DataObject) -> None:
    """Adding stations, then removing some (repaired or rebuilt), equals building from scratch."""
    s = case.nodes.size
    first = data.draw(st.integers(0, s))
    base = build_labels(
        case.reverse,
        case.nodes[:first],
        case.offsets[:first],
        case.slots[:first],
        k=case.k,
        horizon=case.horizon,
    )
    added = add_sources(
        base, case.reverse, case.nodes[first:], case.offsets[first:], case.slots[first:]
    )
    check_labels(case, added)
    gone = np.array(
        data.draw(st.lists(st.integers(0, max(s - 1, 0)), max_size=s, unique=True)),
        dtype=np.int32,
    )
    keep = ~np.isin(case.slots, gone)
    for fraction in (0.0, 1.0):  # always rebuild, always repair
        removed = remove_sources(
            added,
            case.reverse,
            gone,
            nodes=case.nodes[keep],
            offsets=case.offsets[keep],
            live=case.slots[keep],
            max_fraction=fraction,
        )
        check_labels(case, removed, keep)


def test_no_stations_leave_every_row_empty_with_the_horizon_as_radius() -> None:
    """Without stations every row is empty and certified up to the horizon."""
    reverse = sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    labels = build_labels(
        reverse, np.empty(0, np.intp), np.empty(0), np.empty(0, np.int32), k=3, horizon=60.0
    )
    assert (labels.slot == -1).all() and np.isinf(labels.time).all()
    assert (labels.radius == 60.0).all()


def _grid_case(side: int, stations: int, *, k: int, seed: int) -> Case:
    """Stations on random nodes of a street grid, snap legs of up to 30 s."""
    forward = street_grid(side, seed=seed)
    rng = np.random.default_rng(seed)
    nodes = rng.integers(0, side * side, stations).astype(np.intp)
    offsets = rng.uniform(0.0, 30.0, stations)
    return Case(forward.T.tocsr(), nodes, offsets, k, 1800.0)


def test_city_sized_search_equals_per_station_dijkstra_through_build_add_and_repair() -> None:
    """With hundreds of stations (the search's queue outgrows its first allocation), build,
    insertion and region repair still give the scipy reference's K best times."""
    case = _grid_case(70, 300, k=8, seed=3)
    labels = build_labels(
        case.reverse, case.nodes, case.offsets, case.slots, k=case.k, horizon=case.horizon
    )
    check_labels(case, labels)
    base = build_labels(
        case.reverse,
        case.nodes[:250],
        case.offsets[:250],
        case.slots[:250],
        k=case.k,
        horizon=case.horizon,
    )
    added = add_sources(base, case.reverse, case.nodes[250:], case.offsets[250:], case.slots[250:])
    for field in ("time", "slot", "next", "radius"):
        np.testing.assert_array_equal(getattr(added, field), getattr(labels, field))
    gone = case.slots[::7]
    keep = ~np.isin(case.slots, gone)
    removed = remove_sources(
        labels,
        case.reverse,
        gone,
        nodes=case.nodes[keep],
        offsets=case.offsets[keep],
        live=case.slots[keep],
        max_fraction=1.0,
    )
    check_labels(case, removed, keep)


def test_a_slot_beyond_what_a_search_entry_holds_is_refused() -> None:
    """Slots must fit the search entry's source field: a clear error, not wrong labels."""
    from stations._kbest import MAX_SOURCES

    reverse = sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match=r"Expected station slots in \[0, 1,073,741,824\)"):
        build_labels(
            reverse, np.array([0]), np.zeros(1), np.array([MAX_SOURCES], np.int32), k=2, horizon=9.0
        )
