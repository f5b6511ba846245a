"""Walking isochrones against an independent reference built from the raw OSM.

Membership (:mod:`tests.isochrone_reference`, which says exactly what it measures): every
street point the reference reaches within the budget lies inside the polygon; no street
point beyond the budget + 60 s and more than 2 m from the reference's band lies inside; and
the polygon's boundary stays within 1.5 m on mean of the band's (0.2-0.8 m seen on
Helsinki, Liechtenstein and Beijing). Checked on hand-made trap networks
(``tests/data/traps.osm``, ``tests/data/iso_traps.osm``), the Helsinki sample with the
default parameters, Liechtenstein and a Beijing superblock grid.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import TYPE_CHECKING

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import CoordinateError, build_area, load_area
from stations.isochrone import SIMPLIFY_M, isochrones, isochrones_geojson
from tests.conftest import TEST_DATA, shared_osm
from tests.isochrone_reference import Membership, RefIsochrone, membership
from tests.reference import Reference

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd

    from routing import Area

SPEED = 4.5 / 3.6  # the AreaSettings default walking speed, m/s


def check_membership(
    area: Area,
    ref: Reference,
    lon: float,
    lat: float,
    *,
    minutes: tuple[float, ...] = (5, 10, 15),
    buffer_m: float = 25.0,
    fill_holes_m2: float = 5000.0,
    frame: gpd.GeoDataFrame | None = None,
) -> dict[float, Membership]:
    """Assert membership (module docstring) for each budget of one origin; return it."""
    if frame is None:
        frame = isochrones(
            area, lon, lat, minutes=minutes, buffer_m=buffer_m, fill_holes_m2=fill_holes_m2
        )
    ox, oy = (float(c[0]) for c in area.project(lon, lat))
    iso_ref = RefIsochrone(ref, (ox, oy), spacing=min(4.0, buffer_m / 2))
    out: dict[float, Membership] = {}
    for minute, geom in zip(frame["minutes"], frame.geometry, strict=True):
        budget = minute * 60.0
        poly = _projected(area, geom)
        assert poly.is_valid and not poly.is_empty
        if budget <= iso_ref.leg:  # the disc walkable straight from the origin: not a band
            continue
        got = membership(
            iso_ref, poly, budget, buffer_m=buffer_m, fill_holes_m2=fill_holes_m2, speed_mps=SPEED
        )
        miss, stray = got.missing, got.stray
        assert miss.size == 0, (
            f"{minute:g} min: {miss.size} of {got.reached} street points reached in time are "
            f"outside, e.g. at {got.x[miss][:3]}, {got.y[miss][:3]} (t={got.time[miss][:3]})"
        )
        assert stray.size == 0, (
            f"{minute:g} min: {stray.size} street points beyond reach (+60 s) and the band "
            f"are inside, e.g. at {got.x[stray][:3]}, {got.y[stray][:3]} "
            f"(t={got.time[stray][:3]})"
        )
        assert got.deviation_m < 1.5, (
            f"{minute:g} min: boundaries differ by {got.deviation_m:.2f} m on mean"
        )
        out[minute] = got
    return out


def _projected(area: Area, geom: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(geom, lambda xy: np.column_stack(area.project(*xy.T)))


# ------------------------------------------------------------------ hand-made trap networks


@pytest.fixture(scope="module")
def traps() -> tuple[Area, Reference]:
    """``tests/data/traps.osm``: long, parallel, self-loop, one-way and footway-only edges."""
    area = build_area(TEST_DATA / "traps.osm", cache_result=False)
    ref = Reference.from_osm(TEST_DATA / "traps.osm", network="walk", crs=area.crs, speed_mps=SPEED)
    return area, ref


@pytest.fixture(scope="module")
def loops() -> tuple[Area, Reference]:
    """``tests/data/iso_traps.osm``: lollipop loop, doubled and tripled ways, a 2 km edge."""
    path = TEST_DATA / "iso_traps.osm"
    area = build_area(path, cache_result=False)
    return area, Reference.from_osm(path, network="walk", crs=area.crs, speed_mps=SPEED)


def _node_lonlat(path: Path, node: int) -> tuple[float, float]:
    import re

    text = path.read_text(encoding="utf-8")
    match = re.search(rf'<node id="{node}" lat="([\d.]+)" lon="([\d.]+)"', text)
    assert match, node
    return float(match.group(2)), float(match.group(1))


def _between(path: Path, a: int, b: int, f: float) -> tuple[float, float]:
    (x0, y0), (x1, y1) = _node_lonlat(path, a), _node_lonlat(path, b)
    return x0 + f * (x1 - x0), y0 + f * (y1 - y0)


@pytest.mark.parametrize(
    ("where", "minutes"),
    [
        ((2, 2, 0.0), (2, 4, 6)),  # at the fork of the straight and the curved East ways
        ((2, 10, 0.5), (1, 3, 5)),  # origin on the slower of two parallel edges
        ((4, 4, 0.0), (1, 2.5, 4)),  # at the self-loop's node: the ring from both ends
        ((4, 11, 0.5), (1, 3)),  # origin on the self-loop itself
        ((3, 4, 0.3), (2, 5)),  # on North Street, one-way for cars: walked both ways
        ((1, 2, 0.5), (3, 8, 12)),  # mid-way along a 600 m edge
        ((14, 14, 0.0), (2, 4)),  # on the footway across the block
    ],
)
def test_traps_membership(traps: tuple[Area, Reference], where, minutes) -> None:
    """Every trap of the hand-made network: reached streets inside, unreachable ones out."""
    area, ref = traps
    lon, lat = _between(TEST_DATA / "traps.osm", *where)
    lon, lat = lon + 3e-5, lat + 2e-5  # a few metres off the street
    counts = check_membership(area, ref, lon, lat, minutes=minutes, buffer_m=5.0, fill_holes_m2=0)
    assert all(c.reached > 0 for c in counts.values())
    assert any(c.beyond > 0 for c in counts.values())


@pytest.mark.parametrize(
    ("where", "minutes"),
    [
        ((21, 21, 0.0), (1, 2, 4)),  # at the lollipop's junction: its ring from both ends
        ((22, 23, 0.4), (1, 2)),  # on the ring itself
        ((30, 31, 0.5), (1, 2, 3)),  # on two ways drawn over the same nodes (a doubled way)
        ((40, 41, 0.5), (1, 3)),  # between three parallel ways of different shape
        ((50, 51, 0.5), (4, 10, 20)),  # mid-way along a 2 km edge
    ],
)
def test_loops_membership(loops: tuple[Area, Reference], where, minutes) -> None:
    """Lollipop loops, doubled and tripled ways, a very long edge: membership holds."""
    area, ref = loops
    lon, lat = _between(TEST_DATA / "iso_traps.osm", *where)
    counts = check_membership(
        area, ref, lon + 2e-5, lat + 2e-5, minutes=minutes, buffer_m=5.0, fill_holes_m2=0
    )
    assert all(c.reached > 0 for c in counts.values())


def test_parallel_and_loop_edges_are_drawn(traps: tuple[Area, Reference]) -> None:
    """The slower of two parallel edges and both ends of a self-loop are part of the polygon.

    Points on the curved East Bend (node 10, 170 m from the straight East Street) and on
    both halves of Ring Lane; a method drawing only the fastest parallel edge or a loop from
    one end leaves them out.
    """
    area, _ = traps
    path = TEST_DATA / "traps.osm"
    lon, lat = _node_lonlat(path, 3)
    # from node 3, 5 min reach 375 m: the bend's corner (node 10) is 326 m away, so the
    # middle of 3-10 is reached; it lies 85 m from the straight East Street
    geom = isochrones(area, lon, lat, minutes=5, buffer_m=5, fill_holes_m2=0).geometry.iloc[0]
    bend = _between(path, 10, 3, 0.5)
    assert geom.contains(shapely.Point(*bend))
    ring_lon, ring_lat = _node_lonlat(path, 4)
    geom = isochrones(area, ring_lon, ring_lat, minutes=2.5, buffer_m=5).geometry.iloc[0]
    for a, b in ((4, 11), (13, 4)):  # the first and the last leg of the ring
        assert geom.contains(shapely.Point(*_between(path, a, b, 0.5)))


# ------------------------------------------------------------------------- real extracts


def _street_origins(area: Area, n: int, seed: int, *, off_m: float = 30.0) -> np.ndarray:
    """``n`` origins next to random streets (uniform over directed edges), lon/lat."""
    rng = np.random.default_rng(seed)
    table = area.arrays("walk").edges
    e = rng.integers(0, table.m, n)
    at = table.ptr[e] + (table.ptr[e + 1] - table.ptr[e] - 1) // 2
    x = table.xy[at, 0] + rng.uniform(-off_m, off_m, n)
    y = table.xy[at, 1] + rng.uniform(-off_m, off_m, n)
    lon, lat = area.unproject(x, y)
    return np.column_stack([lon, lat])


def test_membership_helsinki_default(helsinki_area: Area) -> None:
    """The default call (5, 10, 15 min; 25 m band; holes under 5,000 m² filled) on Helsinki."""
    from routing.presets import helsinki_pbf

    ref = Reference.from_osm(helsinki_pbf(), network="walk", crs=helsinki_area.crs, speed_mps=SPEED)
    for lon, lat in _street_origins(helsinki_area, 3, seed=11):
        frame = isochrones(helsinki_area, lon, lat)
        check_membership(helsinki_area, ref, lon, lat, frame=frame)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("filename", "origins"),
    [("liechtenstein.osm.pbf", 3), ("beijing_chaoyang_wangjing.osm.bz2", 4)],
)
def test_membership_shared_extracts(filename: str, origins: int) -> None:
    """Liechtenstein's regional graph and a Beijing superblock grid, default parameters."""
    path = shared_osm(filename)
    area = load_area(path)
    ref = Reference.from_osm(path, network="walk", crs=area.crs, speed_mps=SPEED)
    for lon, lat in _street_origins(area, origins, seed=5, off_m=60.0):
        check_membership(area, ref, lon, lat)


# ------------------------------------------------------------------------ contract & input


@pytest.fixture(scope="module")
def origin(helsinki_area: Area) -> tuple[float, float]:
    lo0, la0, lo1, la1 = helsinki_area.bounds
    return lo0 + 0.5 * (lo1 - lo0), la0 + 0.5 * (la1 - la0)


def test_one_polygon_per_budget_in_wgs84(helsinki_area: Area, origin) -> None:
    """One valid polygon per budget, ascending, EPSG:4326, nested and growing; attrs set."""
    frame = isochrones(helsinki_area, *origin, minutes=(10, 3, 6, 6))
    assert list(frame["minutes"]) == [3.0, 6.0, 10.0]
    assert list(frame.columns) == ["minutes", "area_km2", "geometry"]
    assert frame.crs.to_epsg() == 4326
    assert all(g.is_valid and not g.is_empty for g in frame.geometry)
    areas = list(frame["area_km2"])
    assert areas == sorted(areas) and areas[0] > 0
    polys = [_projected(helsinki_area, g) for g in frame.geometry]
    for small, big in itertools.pairwise(polys):
        assert big.buffer(2 * SIMPLIFY_M).contains(small)
    assert frame.attrs["buffer_m"] == 25.0 and frame.attrs["fill_holes_m2"] == 5000.0
    assert frame.attrs["origin"] == pytest.approx(origin)
    assert 0 < frame.attrs["cell_m"] <= 25.0 / 4
    assert areas[-1] == pytest.approx(polys[-1].area / 1e6, abs=1e-4)


def test_geojson_matches_the_frame_and_the_api_schema(helsinki_area: Area, origin) -> None:
    """``isochrones_geojson``: the same polygons as ``isochrones``, largest first, rounded to
    1e-7 degrees, valid against the ``/api/isochrone`` response schema."""
    from webmap.schemas import IsochroneCollection

    frame = isochrones(helsinki_area, *origin, minutes=(5, 15, 10))
    doc = isochrones_geojson(helsinki_area, *origin, minutes=(5, 15, 10))
    IsochroneCollection.model_validate(doc)
    assert [f["properties"]["minutes"] for f in doc["features"]] == [15, 10, 5]
    for feature, (_, row) in zip(doc["features"], frame[::-1].iterrows(), strict=True):
        geom = shapely.geometry.shape(feature["geometry"])
        assert geom.is_valid
        assert feature["properties"]["area_km2"] == row["area_km2"]
        coords = shapely.get_coordinates(geom)
        assert np.array_equal(coords, np.round(coords, 7))
        assert shapely.hausdorff_distance(geom, row.geometry) < 1e-6
    json.dumps(doc)  # plain JSON types only


def test_origin_far_from_the_street_walks_its_leg_first(helsinki_area: Area) -> None:
    """An origin 100+ m off the street: the straight leg is spent from the budget; the open
    disc as wide as the leg is walked straight, a budget shorter than the leg is its disc."""
    lo0, la0, lo1, la1 = helsinki_area.bounds
    lon, lat = np.meshgrid(np.linspace(lo0, lo1, 60), np.linspace(la0, la1, 60))
    spots = helsinki_area.locate(lon.ravel(), lat.ravel(), max_distance=np.inf)
    pick = int(np.argmin(np.abs(spots.distance - 130.0)))  # open water or a park
    leg = float(spots.distance[pick])
    assert 100 < leg < 160
    olon, olat = float(lon.ravel()[pick]), float(lat.ravel()[pick])
    ox, oy = (float(v[0]) for v in helsinki_area.project(olon, olat))
    frame = isochrones(helsinki_area, olon, olat, minutes=(1, 5))
    disc, poly = (_projected(helsinki_area, g) for g in frame.geometry)
    assert disc.area == pytest.approx(math.pi * (60 * SPEED) ** 2, rel=0.01)  # 75 m radius
    assert disc.centroid.distance(shapely.Point(ox, oy)) < 0.5
    assert poly.contains(shapely.Point(ox, oy))
    assert poly.contains(shapely.Point(spots.x[pick], spots.y[pick]))  # the end of the leg
    # the open space around the origin (no street nearer than the leg) is walked straight
    assert poly.buffer(SIMPLIFY_M).contains(shapely.Point(ox, oy).buffer(leg - 0.5))
    assert poly.buffer(SIMPLIFY_M).contains(disc)  # nested
    assert frame.attrs["snap_m"] == pytest.approx(leg)
    # the walk continues along the street for the 5 min less the leg, not more
    reach = 5 * 60 * SPEED - leg + 25 + 2
    assert poly.within(shapely.Point(ox, oy).buffer(leg + reach))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    fx=st.floats(0.05, 0.95),
    fy=st.floats(0.05, 0.95),
    minutes=st.lists(st.integers(1, 20), min_size=1, max_size=4),
)
def test_any_origin_gives_valid_nested_polygons(helsinki_area: Area, fx, fy, minutes) -> None:
    """Anywhere on the map: valid polygons, nested by budget, containing the origin."""
    lo0, la0, lo1, la1 = helsinki_area.bounds
    lon, lat = lo0 + fx * (lo1 - lo0), la0 + fy * (la1 - la0)
    try:
        frame = isochrones(helsinki_area, lon, lat, minutes=minutes)
    except CoordinateError as exc:
        assert "off the map" in str(exc)
        return
    polys = [_projected(helsinki_area, g) for g in frame.geometry]
    assert all(p.is_valid and not p.is_empty for p in polys)
    x, y = helsinki_area.project(lon, lat)
    assert polys[0].buffer(SIMPLIFY_M).contains(shapely.Point(float(x[0]), float(y[0])))
    for small, big in itertools.pairwise(polys):
        assert big.buffer(2 * SIMPLIFY_M).contains(small)


def test_off_map_origin_and_bad_input_raise(helsinki_area: Area) -> None:
    """Origins off the map, bad coordinates, budgets and buffers raise clear errors."""
    lo0, la0, _, _ = helsinki_area.bounds
    with pytest.raises(CoordinateError, match=r"origin off the map, \d[\d.]* k?m from the"):
        isochrones(helsinki_area, lo0 - 0.05, la0)
    with pytest.raises(CoordinateError, match="latitude"):
        isochrones(helsinki_area, lo0, float("nan"))
    with pytest.raises(CoordinateError, match="longitude"):
        isochrones(helsinki_area, 200.0, la0)
    for bad in (0, -5, 500, float("nan"), "five"):
        with pytest.raises(ValueError, match=r"Expected minutes in \(0, 240\]"):
            isochrones(helsinki_area, lo0 + 0.01, la0 + 0.01, minutes=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Expected at least one budget"):
        isochrones(helsinki_area, lo0 + 0.01, la0 + 0.01, minutes=[])
    for bad_buffer in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="Expected buffer_m > 0"):
            isochrones(helsinki_area, lo0 + 0.01, la0 + 0.01, buffer_m=bad_buffer)
    with pytest.raises(ValueError, match=r"Expected a buffer of at least \d[\d.]* m for an"):
        isochrones(helsinki_area, lo0 + 0.01, la0 + 0.01, minutes=30, buffer_m=0.2)
    with pytest.raises(ValueError, match="Expected max_snap_m >= 0"):
        isochrones(helsinki_area, lo0 + 0.01, la0 + 0.01, max_snap_m=float("nan"))


def test_thin_band_keeps_a_fine_grid(helsinki_area: Area, origin) -> None:
    """A thin band on a large isochrone refines the grid instead of losing the band."""
    frame = isochrones(helsinki_area, *origin, minutes=30, buffer_m=3.0, fill_holes_m2=0)
    assert frame.attrs["cell_m"] <= 1.5
    assert frame.geometry.iloc[0].is_valid and frame["area_km2"].iloc[0] > 0.1
