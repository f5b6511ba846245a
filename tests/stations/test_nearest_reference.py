"""Nearest-k walking times and order against the independent raw-OSM reference.

The reference (tests/reference.py) rebuilds the walk network from the OSM file itself,
every vertex a node, inserts the origin and every station on its nearest segment and runs
scipy Dijkstra: no simplified graph, labels, edge table or grid index in common with the
locator. Points along streets and off them, long edges, the parallel bend, the ring, and an
origin with a station on the same street.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import build_area, load_area
from routing.presets import helsinki_pbf
from stations import KINDS, Station
from stations.locate import Locator
from tests.conftest import TEST_DATA, shared_osm
from tests.reference import Reference

if TYPE_CHECKING:
    from routing import Area

WALK = 4.5 / 3.6
FIXTURES = [HealthCheck.function_scoped_fixture]


def _stations(area: Area, xy: np.ndarray) -> list[Station]:
    lon, lat = area.unproject(xy[:, 0], xy[:, 1])
    return [
        Station(id=f"r{i}", kind=KINDS[i % 2], name=f"R{i}", lon=float(lo), lat=float(la))
        for i, (lo, la) in enumerate(zip(lon, lat, strict=True))
    ]


class Case:
    """An area, its reference and a fixed station set with a locator over it."""

    def __init__(self, area: Area, ref: Reference, n_stations: int, seed: int, k: int) -> None:
        rng = np.random.default_rng(seed)
        self.area, self.ref = area, ref
        self.station_xy = ref.near_streets(rng, n_stations, 30.0)
        self.stations = _stations(area, self.station_xy)
        self.locator = Locator(area, self.stations, labels_per_node=k)

    def check(self, origins_xy: np.ndarray, *, k: int, kind: str | None = None) -> None:
        """Batch and single answers equal the reference: times, and order where not tied."""
        keep = np.array([kind is None or s.kind == kind for s in self.stations])
        expected = self.ref.walk_times(origins_xy, self.station_xy, max_distance=500.0)
        expected[:, ~keep] = np.inf
        lon, lat = self.area.unproject(origins_xy[:, 0], origins_xy[:, 1])
        batch = self.locator.nearest_batch(lon, lat, k=k, kind=kind)
        for i in range(len(origins_xy)):
            order = np.argsort(expected[i], kind="stable")[:k]
            want = expected[i, order]
            want = want[np.isfinite(want)]
            got = batch.time_s[i][np.isfinite(batch.time_s[i])]
            assert got.size == want.size
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=0.05)
            single = self.locator.nearest(lon[i], lat[i], k=k, kind=kind, with_paths=True)
            np.testing.assert_allclose([h.time_s for h in single], want, rtol=1e-3, atol=0.05)
            ids = [h.station.id for h in single]
            for j in np.flatnonzero(np.diff(want) > 0.5):  # clear of ties on both sides
                if j == 0 or want[j] - want[j - 1] > 0.5:
                    assert ids[j] == self.stations[int(order[j])].id
            for hit in single:  # distance: the walk at the one walking speed
                assert hit.distance_m == pytest.approx(hit.time_s * WALK, rel=1e-6)


@pytest.fixture(scope="module")
def traps() -> Case:
    path = TEST_DATA / "traps.osm"
    area = build_area(path, cache_result=False)
    ref = Reference.from_osm(path, network="walk", crs=area.crs, speed_mps=WALK)
    return Case(area, ref, 14, seed=3, k=3)


@pytest.fixture(scope="module")
def helsinki(helsinki_area: Area) -> Case:
    ref = Reference.from_osm(helsinki_pbf(), network="walk", crs=helsinki_area.crs, speed_mps=WALK)
    return Case(helsinki_area, ref, 80, seed=4, k=4)


@settings(max_examples=40, deadline=None, suppress_health_check=FIXTURES)
@given(
    seed=st.integers(0, 2**31 - 1),
    spread=st.sampled_from([0.0, 5.0, 60.0, 400.0]),
    k=st.integers(1, 6),
    kind=st.sampled_from([None, KINDS[0]]),
)
def test_traps_nearest_k_matches_reference(
    traps: Case, seed: int, spread: float, k: int, kind: str | None
) -> None:
    """Long edges, parallel edges, the ring: nearest-k times and order equal the reference."""
    rng = np.random.default_rng(seed)
    traps.check(traps.ref.near_streets(rng, 4, spread), k=k, kind=kind)


@settings(max_examples=30, deadline=None, suppress_health_check=FIXTURES)
@given(seed=st.integers(0, 2**31 - 1), offset=st.floats(-80.0, 80.0))
def test_origin_and_station_on_one_street(traps: Case, seed: int, offset: float) -> None:
    """An origin beside a station on the same long street: reached along it, exactly."""
    rng = np.random.default_rng(seed)
    j = int(rng.integers(0, len(traps.stations)))
    origin = traps.station_xy[j] + np.array([offset, -offset / 3])
    traps.check(origin[None, :], k=3)


@settings(max_examples=25, deadline=None, suppress_health_check=FIXTURES)
@given(
    seed=st.integers(0, 2**31 - 1),
    spread=st.sampled_from([0.0, 20.0, 150.0]),
    k=st.integers(1, 8),
)
def test_helsinki_nearest_k_matches_reference(
    helsinki: Case, seed: int, spread: float, k: int
) -> None:
    """Random points along Helsinki's streets and off them: times and order equal the
    reference (labels K=4, so k > 4 also exercises the exact fallback search)."""
    rng = np.random.default_rng(seed)
    helsinki.check(helsinki.ref.near_streets(rng, 5, spread), k=k)


@pytest.mark.slow
@pytest.mark.parametrize("filename", ["liechtenstein.osm.pbf", "beijing_chaoyang_wangjing.osm.bz2"])
def test_real_extracts_nearest_k_match_reference(filename: str) -> None:
    """Liechtenstein (regional) and a Beijing superblock grid, 40 origins, 300 stations."""
    path = shared_osm(filename)
    area = load_area(path)
    ref = Reference.from_osm(path, network="walk", crs=area.crs, speed_mps=WALK)
    case = Case(area, ref, 300, seed=8, k=6)
    rng = np.random.default_rng(9)
    case.check(ref.near_streets(rng, 40, 50.0), k=3)
    case.check(ref.near_streets(rng, 10, 50.0), k=8, kind=KINDS[0])
