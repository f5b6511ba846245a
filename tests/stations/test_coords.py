"""WGS-84 / GCJ-02 / BD-09 conversions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from stations import StationValueError
from stations.coords import (
    bd09_to_gcj02,
    bd09_to_wgs84,
    check_crs,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

GEOD = Geod(ellps="WGS84")
# Mainland China, roughly: Kunming to Harbin, Urumqi to Shanghai.
china_lon = st.floats(min_value=75.0, max_value=134.0, allow_nan=False)
china_lat = st.floats(min_value=18.0, max_value=53.0, allow_nan=False)


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return float(GEOD.inv(lon1, lat1, lon2, lat2)[2])


def test_known_value() -> None:
    """WGS->GCJ matches the published reference value for central Beijing (eviltransform)."""
    lon, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)


def test_offset_is_hundreds_of_metres_in_china() -> None:
    """The GCJ-02 offset in Beijing and Dalian is a few hundred metres."""
    for lon, lat in [(116.49, 39.93), (121.52, 38.88)]:
        glon, glat = wgs84_to_gcj02(lon, lat)
        assert 100 < metres(lon, lat, float(glon), float(glat)) < 700


def test_no_offset_outside_china() -> None:
    """Outside China (Helsinki, Liechtenstein) GCJ-02 is WGS-84."""
    lon, lat = wgs84_to_gcj02([24.94, 9.52], [60.17, 47.14])
    assert np.array_equal(lon, [24.94, 9.52]) and np.array_equal(lat, [60.17, 47.14])
    assert gcj02_to_wgs84(24.94, 60.17) == (24.94, 60.17)


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip_within_a_metre(lon: float, lat: float) -> None:
    """WGS -> GCJ -> WGS returns within 1 cm (1 m required) anywhere in China."""
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert metres(lon, lat, float(back[0]), float(back[1])) < 0.01


@settings(max_examples=200, deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trips(lon: float, lat: float) -> None:
    """GCJ -> BD -> GCJ and WGS -> BD -> WGS both return within 1 cm."""
    g = bd09_to_gcj02(*gcj02_to_bd09(lon, lat))
    assert metres(lon, lat, float(g[0]), float(g[1])) < 0.01
    w = bd09_to_wgs84(*wgs84_to_bd09(lon, lat))
    assert metres(lon, lat, float(w[0]), float(w[1])) < 0.01


def test_vectorised_and_named() -> None:
    """to_wgs84 converts whole arrays by declared name; unknown names list the valid ones."""
    lon = np.array([116.41, 121.52])
    lat = np.array([39.92, 38.88])
    wlon, wlat = to_wgs84(*gcj02_to_bd09(lon, lat), "BD-09")
    glon, glat = wgs84_to_gcj02(wlon, wlat)
    assert np.allclose(glon, lon, atol=1e-8) and np.allclose(glat, lat, atol=1e-8)
    assert check_crs("GCJ-02") == "gcj02"
    with pytest.raises(StationValueError, match="wgs84, gcj02, bd09; got 'utm'"):
        check_crs("utm")
