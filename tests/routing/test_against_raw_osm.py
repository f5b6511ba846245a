"""Locating and routing against the independent raw-OSM reference (tests/reference.py).

The reference rebuilds each network from the OSM file itself, every vertex a node, so the
project's simplified graph, edge table, grid index and point insertion are all checked
against code that shares none of them: off-map decisions, distances to the street, and
door-to-door path times and lengths, on hand-made traps, Helsinki and (slow) Liechtenstein
and Beijing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import build_area, load_area
from routing.paths import shortest_path
from routing.presets import helsinki_pbf
from tests.conftest import TEST_DATA, shared_osm
from tests.reference import Reference

if TYPE_CHECKING:
    from pathlib import Path

    from routing import Area

WALK = 4.5 / 3.6
# the traps' drive network is all highway=residential without maxspeed: 25 km/h (the
# class default) times the bus factor 0.85, the same speed on every edge
DRIVE = 25.0 * 0.85 / 3.6


def _pair(path: Path, network: str = "walk") -> tuple[Area, Reference]:
    area = build_area(path, cache_result=False) if path.suffix == ".osm" else load_area(path)
    speed = WALK if network == "walk" else DRIVE
    ref = Reference.from_osm(path, network=network, crs=area.crs, speed_mps=speed)
    if network == "drive":
        ref.leg_speed_mps = WALK
    return area, ref


@pytest.fixture(scope="module")
def traps_walk() -> tuple[Area, Reference]:
    return _pair(TEST_DATA / "traps.osm")


@pytest.fixture(scope="module")
def traps_drive(traps_walk: tuple[Area, Reference]) -> tuple[Area, Reference]:
    area, _ = traps_walk
    ref = Reference.from_osm(
        TEST_DATA / "traps.osm", network="drive", crs=area.crs, speed_mps=DRIVE
    )
    ref.leg_speed_mps = WALK
    return area, ref


@pytest.fixture(scope="module")
def helsinki(helsinki_area: Area) -> tuple[Area, Reference]:
    ref = Reference.from_osm(helsinki_pbf(), network="walk", crs=helsinki_area.crs, speed_mps=WALK)
    return helsinki_area, ref


def _check_locate(area: Area, ref: Reference, xy: np.ndarray, network: str = "walk") -> None:
    _, _, expected = ref.locate(xy[:, 0], xy[:, 1])
    limit = 150.0
    got = area.locate(xy[:, 0], xy[:, 1], network=network, projected=True, max_distance=limit)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.distance, expected, rtol=0, atol=1e-6)
    clear = np.abs(expected - limit) > 1e-3
    np.testing.assert_array_equal(got.ok[clear], expected[clear] <= limit)


@pytest.mark.parametrize(("case", "n", "margin"), [("traps", 300, 0.01), ("helsinki", 400, 0.02)])
def test_off_map_decisions_and_distances(
    request: pytest.FixtureRequest, case: str, n: int, margin: float
) -> None:
    """Distance to the street and the off-map decision equal the raw reference, for points
    along the streets and uniform ones up to ~1 km past the extract."""
    area, ref = request.getfixturevalue("traps_walk" if case == "traps" else "helsinki")
    rng = np.random.default_rng(n)
    lo0, la0, lo1, la1 = area.bounds
    fx, fy = area.project(
        rng.uniform(lo0 - margin, lo1 + margin, n), rng.uniform(la0 - margin, la1 + margin, n)
    )
    xy = np.vstack([ref.near_streets(rng, n, 40.0), np.column_stack([fx, fy])])
    _check_locate(area, ref, xy)


def _check_route(
    area: Area, ref: Reference, a_xy: np.ndarray, b_xy: np.ndarray, network: str
) -> None:
    lon, lat = area.unproject([a_xy[0], b_xy[0]], [a_xy[1], b_xy[1]])
    route = shortest_path(area, (lon[0], lat[0]), (lon[1], lat[1]), network=network)  # type: ignore[arg-type]
    t, metres, _ = ref.shortest(tuple(a_xy), tuple(b_xy))
    assert route.total_time_s == pytest.approx(t, rel=1e-3, abs=0.05)
    assert route.total_length_m == pytest.approx(metres, rel=1e-3, abs=0.05)
    coords = np.asarray(route.geometry.coords)
    x, y = area.project(coords[:, 0], coords[:, 1])
    drawn = float(np.sum(np.hypot(np.diff(x), np.diff(y))))
    assert drawn == pytest.approx(route.length_m, rel=0.01, abs=0.01)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**31 - 1), same_street=st.booleans())
def test_walk_paths_match_reference_traps(
    traps_walk: tuple[Area, Reference], seed: int, same_street: bool
) -> None:
    """Door-to-door walk time and length equal the reference; the drawn path is as long as
    the network part. Long edges, the parallel bend, the ring and one street shared by both
    ends included."""
    area, ref = traps_walk
    rng = np.random.default_rng(seed)
    a, b = ref.near_streets(rng, 2, 25.0)
    if same_street:
        b = a + rng.uniform(-60, 60, 2)
    _check_route(area, ref, a, b, "walk")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**31 - 1), same_street=st.booleans())
def test_drive_paths_respect_one_ways(
    traps_drive: tuple[Area, Reference], seed: int, same_street: bool
) -> None:
    """Drive routes equal the reference with one-ways (3 -> 4 only), same street included."""
    area, ref = traps_drive
    rng = np.random.default_rng(seed)
    a, b = ref.near_streets(rng, 2, 10.0)
    if same_street:
        b = a + rng.uniform(-80, 80, 2)
    _check_route(area, ref, a, b, "drive")


def test_one_way_stop_behind_is_reached_around_the_block(
    traps_drive: tuple[Area, Reference],
) -> None:
    """On the one-way 3 -> 4 a point 100 m behind another is ~2.9 km away by car, not 100 m."""
    area, ref = traps_drive
    drive = area.arrays("drive")
    e = int(np.flatnonzero(drive.edges.twin == -1)[0])
    line = drive.edges.lines([e])[0]
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, 0.6, normalized=True))[0]
    behind = shapely.get_coordinates(shapely.line_interpolate_point(line, 0.4, normalized=True))[0]
    _check_route(area, ref, ahead, behind, "drive")
    lon, lat = area.unproject([ahead[0], behind[0]], [ahead[1], behind[1]])
    back = shortest_path(area, (lon[0], lat[0]), (lon[1], lat[1]), network="drive")
    forward = shortest_path(area, (lon[1], lat[1]), (lon[0], lat[0]), network="drive")
    assert forward.length_m == pytest.approx(0.2 * line.length, rel=0.01)
    assert back.length_m > 2000


def test_walk_paths_match_reference_helsinki(helsinki: tuple[Area, Reference]) -> None:
    """Door-to-door walks on Helsinki equal the reference (20 random pairs)."""
    area, ref = helsinki
    rng = np.random.default_rng(5)
    pts = ref.near_streets(rng, 40, 30.0)
    for a, b in zip(pts[::2], pts[1::2], strict=True):
        _check_route(area, ref, a, b, "walk")


@pytest.mark.slow
@pytest.mark.parametrize("filename", ["liechtenstein.osm.pbf", "beijing_chaoyang_wangjing.osm.bz2"])
def test_real_extracts_match_reference(filename: str) -> None:
    """Liechtenstein (regional) and a Beijing superblock grid: distances, off-map, routes."""
    area, ref = _pair(shared_osm(filename))
    rng = np.random.default_rng(11)
    lo0, la0, lo1, la1 = area.bounds
    fx, fy = area.project(rng.uniform(lo0, lo1, 300), rng.uniform(la0, la1, 300))
    _check_locate(
        area, ref, np.vstack([ref.near_streets(rng, 300, 40.0), np.column_stack([fx, fy])])
    )
    pts = ref.near_streets(rng, 16, 30.0)
    for a, b in zip(pts[::2], pts[1::2], strict=True):
        _check_route(area, ref, a, b, "walk")
