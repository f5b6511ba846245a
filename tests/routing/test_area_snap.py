"""Snapping many points to graph nodes agrees with brute force and flags far points."""

from __future__ import annotations

import numpy as np
import pytest

from routing import Area, CoordinateError


def _brute_force(area: Area, network: str, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    arrays = area.arrays(network)  # type: ignore[arg-type]
    d = np.hypot(x[:, None] - arrays.x[None, :], y[:, None] - arrays.y[None, :])
    return d.min(axis=1)


@pytest.mark.parametrize("network", ["walk", "drive"])
def test_snap_matches_brute_force(helsinki_area: Area, network: str) -> None:
    """Nearest-node distances of 500 random points equal a numpy argmin over all nodes."""
    rng = np.random.default_rng(7)
    min_lon, min_lat, max_lon, max_lat = helsinki_area.bounds
    lon = rng.uniform(min_lon, max_lon, 500)
    lat = rng.uniform(min_lat, max_lat, 500)
    snapped = helsinki_area.snap(lon, lat, network=network, max_distance=1e9)  # type: ignore[arg-type]
    x, y = helsinki_area.project(lon, lat)
    expected = _brute_force(helsinki_area, network, x, y)
    np.testing.assert_allclose(snapped.distance, expected, rtol=0, atol=1e-6)
    arrays = helsinki_area.arrays(network)  # type: ignore[arg-type]
    assert snapped.ok.all()
    np.testing.assert_array_equal(arrays.nodes[snapped.index], snapped.node)
    got = np.hypot(arrays.x[snapped.index] - x, arrays.y[snapped.index] - y)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_snap_projected_input(helsinki_area: Area) -> None:
    """Projected input snaps to the same nodes as the equivalent lon/lat."""
    arrays = helsinki_area.arrays("walk")
    lon, lat = arrays.lon[:20] + 1e-5, arrays.lat[:20]
    a = helsinki_area.snap(lon, lat)
    x, y = helsinki_area.project(lon, lat)
    b = helsinki_area.snap(x, y, projected=True)
    np.testing.assert_array_equal(a.node, b.node)


def test_snap_flags_points_beyond_max_distance(helsinki_area: Area) -> None:
    """Points farther than max_distance are flagged, not snapped."""
    min_lon, min_lat, max_lon, max_lat = helsinki_area.bounds
    lon = np.array([(min_lon + max_lon) / 2, max_lon + 0.1])  # the second ~5.5 km east
    lat = np.array([(min_lat + max_lat) / 2, (min_lat + max_lat) / 2])
    snapped = helsinki_area.snap(lon, lat, max_distance=300)
    assert snapped.ok.tolist() == [True, False]
    assert snapped.index[1] == -1 and snapped.node[1] == -1
    assert snapped.distance[1] > 4000
    # the default limit comes from the Area's settings
    default = helsinki_area.snap(lon, lat)
    assert default.ok.tolist() == [True, False]
    assert helsinki_area.settings.snap_max_distance == 500


def test_snap_node_coordinates_snap_to_themselves(helsinki_area: Area) -> None:
    """A node's own coordinates snap to it at distance ~0."""
    arrays = helsinki_area.arrays("drive")
    snapped = helsinki_area.snap(arrays.lon, arrays.lat, network="drive")
    assert snapped.distance.max() < 0.01
    np.testing.assert_array_equal(snapped.node, arrays.nodes)


@pytest.mark.parametrize(("lon", "lat"), [(24.94, 91.0), (181.0, 60.17), (np.nan, 60.17)])
def test_snap_rejects_bad_coordinates(helsinki_area: Area, lon: float, lat: float) -> None:
    """Out-of-range or NaN coordinates raise CoordinateError naming the value."""
    with pytest.raises(CoordinateError, match="Expected"):
        helsinki_area.snap([lon], [lat])


def test_snap_unknown_network(helsinki_area: Area) -> None:
    """Only walk and drive networks exist."""
    with pytest.raises(ValueError, match="Expected network 'walk' or 'drive', got 'bike'"):
        helsinki_area.snap([24.94], [60.17], network="bike")  # type: ignore[arg-type]
