"""Walking isochrones on the Helsinki sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest
import shapely
from scipy.sparse.csgraph import dijkstra

from routing import CoordinateError
from stations.isochrone import isochrones

if TYPE_CHECKING:
    from routing import Area

SPEED = 4.5 / 3.6


@pytest.fixture(scope="module")
def origin(helsinki_area: Area) -> tuple[float, float]:
    lo0, la0, lo1, la1 = helsinki_area.bounds
    return lo0 + 0.5 * (lo1 - lo0), la0 + 0.5 * (la1 - la0)


@pytest.fixture(scope="module")
def polygons(helsinki_area: Area, origin: tuple[float, float]):
    return isochrones(helsinki_area, *origin, minutes=(3, 6, 10))


def _times(area: Area, lon: float, lat: float) -> np.ndarray:
    snapped = area.snap(lon, lat)
    dist = dijkstra(area.arrays("walk").time, indices=int(snapped.index[0]))
    return snapped.distance[0] / SPEED + dist


def test_one_polygon_per_budget_in_wgs84(polygons) -> None:
    """One valid polygon per budget, ascending, EPSG:4326, growing with the budget."""
    assert list(polygons["minutes"]) == [3.0, 6.0, 10.0]
    assert polygons.crs.to_epsg() == 4326
    assert all(g.is_valid and not g.is_empty for g in polygons.geometry)
    areas = list(polygons["area_km2"])
    assert areas == sorted(areas) and areas[0] > 0
    assert polygons.geometry.iloc[1].buffer(1e-6).contains(polygons.geometry.iloc[0])


def test_reachable_nodes_inside_far_nodes_outside(
    helsinki_area: Area, origin: tuple[float, float]
) -> None:
    """Nodes reachable within the budget lie inside; no node beyond reach (+ band) does."""
    arrays = helsinki_area.arrays("walk")
    times = _times(helsinki_area, *origin)
    points = shapely.points(arrays.lon, arrays.lat)
    ox, oy = (float(c[0]) for c in helsinki_area.project(*origin))
    straight = np.hypot(arrays.x - ox, arrays.y - oy)
    band = 25.0
    frame = isochrones(helsinki_area, *origin, minutes=(3, 6, 10), buffer_m=band, fill_holes_m2=0)
    for minutes, geom in zip(frame["minutes"], frame.geometry, strict=True):
        budget = minutes * 60
        inside = shapely.contains(geom.buffer(1e-7), points)
        assert inside[times <= budget].all()
        # farther than walkable in a straight line (plus the band): never inside
        assert not inside[straight > budget * SPEED + band + 1].any()
        # every node inside is within the band of a street piece walked in time: some reached
        # node u (or the origin) with time(u) + (|u - node| - band) / speed <= budget
        reached = np.flatnonzero(times <= budget)
        ux = np.append(arrays.x[reached], ox)
        uy = np.append(arrays.y[reached], oy)
        ut = np.append(times[reached], 0.0)
        cand = np.flatnonzero(inside)
        gap = np.hypot(arrays.x[cand, None] - ux, arrays.y[cand, None] - uy)
        slack = (ut + (gap - band) / SPEED).min(axis=1)
        assert (slack <= budget + 1.0).all()
        assert (~inside).any() or minutes == 10


def test_partial_edges_extend_past_the_last_node(helsinki_area: Area) -> None:
    """A budget ending mid-street reaches into the street, not just to the last node."""
    from stations.isochrone import _edge_geometries

    arrays = helsinki_area.arrays("walk")
    e = int(np.argmax(arrays.time.data))  # the longest walk edge j -> w
    j = int(np.searchsorted(arrays.time.indptr, e, side="right") - 1)
    w = int(arrays.time.indices[e])
    lon, lat = float(arrays.lon[j]), float(arrays.lat[j])
    budget = 0.6 * float(arrays.time.data[e])
    times = _times(helsinki_area, lon, lat)
    assert times[w] > budget + 10  # the far end is out of reach
    geom = isochrones(helsinki_area, lon, lat, minutes=budget / 60, buffer_m=5).geometry.iloc[0]
    line = _edge_geometries(helsinki_area)[e]
    half = line.interpolate(0.5, normalized=True)
    end = line.interpolate(0.95, normalized=True)
    hlon, hlat = helsinki_area.unproject(half.x, half.y)
    elon, elat = helsinki_area.unproject(end.x, end.y)
    assert geom.contains(shapely.Point(float(hlon), float(hlat)))
    assert not geom.contains(shapely.Point(float(elon), float(elat)))


def test_off_map_origin_and_bad_minutes_raise(helsinki_area: Area) -> None:
    """Origins off the map and budgets outside (0, 240] minutes raise clear errors."""
    lo0, la0, _, _ = helsinki_area.bounds
    with pytest.raises(CoordinateError, match="origin off the map"):
        isochrones(helsinki_area, lo0 - 0.05, la0)
    with pytest.raises(CoordinateError, match="latitude"):
        isochrones(helsinki_area, lo0, float("nan"))
    for bad in (0, -5, 500, float("nan")):
        with pytest.raises(ValueError, match=r"Expected minutes in \(0, 240\]"):
            isochrones(helsinki_area, lo0 + 0.01, la0 + 0.01, minutes=bad)
    with pytest.raises(ValueError, match="Expected at least one budget"):
        isochrones(helsinki_area, lo0 + 0.01, la0 + 0.01, minutes=[])
