"""Chinese web-map coordinate systems: WGS-84 <-> GCJ-02 <-> BD-09.

Station lists in China are usually copied from web maps: Amap/Tencent/Google China give GCJ-02
("Mars coordinates", an obfuscated WGS-84 shifted by 100-700 m), Baidu gives BD-09 (a further
transform of GCJ-02). OSM, and every Area, is WGS-84.

* WGS-84 -> GCJ-02 is the public closed-form algorithm (Krasovsky ellipsoid constants, the
  well-known ``transform_lat``/``transform_lon`` polynomials), as in eviltransform / gcoord.
* GCJ-02 -> WGS-84 has no closed form; :func:`gcj02_to_wgs84` inverts the forward function by
  fixed-point iteration to better than 1e-9 degrees (about 0.1 mm).
* GCJ-02 <-> BD-09 use Baidu's public formulas; BD-09 -> GCJ-02 is refined by iteration too.
* Outside China there is no GCJ-02 offset. "Inside China" is the de-facto rectangle used by
  those libraries (lon 72.004-137.8347, lat 0.8293-55.8271), so the offset is also applied in
  neighbouring areas inside that rectangle; callers near borders should know their data.

Every function is vectorised: scalars or arrays in, float arrays out. Telling which system
undeclared points are in is :mod:`routing.datum`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from ._crs import CRS_LABELS, CRS_NAMES, Crs
from ._errors import CoordinateError

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, NDArray


__all__ = [
    "CRS_LABELS",
    "CRS_NAMES",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_crs",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as GCJ-02 uses
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL = 1e-9  # degrees; ~0.1 mm
_MAX_ITER = 30


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if x.shape != y.shape:
        msg = f"Expected as many longitudes as latitudes, got shapes {x.shape} and {y.shape}"
        raise CoordinateError(msg)
    return x, y


def in_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Whether points fall where GCJ-02 applies (the de-facto rectangle, see module notes)."""
    x, y = _arrays(lon, lat)
    return (x >= 72.004) & (x <= 137.8347) & (y >= 0.8293) & (y <= 55.8271)


def _transform_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _gcj_delta(
    lon: NDArray[np.float64], lat: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS-84 to GCJ-02 (closed form; unchanged outside China)."""
    x, y = _arrays(lon, lat)
    dlon, dlat = _gcj_delta(x, y)
    return x + dlon, y + dlat


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 to WGS-84 by iterative inversion (error < 1e-9 degrees; unchanged outside China)."""
    gx, gy = _arrays(lon, lat)
    return _invert(wgs84_to_gcj02, gx, gy, gx.copy(), gy.copy())


def gcj02_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """GCJ-02 to BD-09 (Baidu's closed form)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BD-09 to GCJ-02: Baidu's approximate inverse, refined by iteration to < 1e-9 degrees."""
    bx, by = _arrays(lon, lat)
    x0, y0 = bx - 0.0065, by - 0.006
    z = np.sqrt(x0 * x0 + y0 * y0) - 0.00002 * np.sin(y0 * _X_PI)
    theta = np.arctan2(y0, x0) - 0.000003 * np.cos(x0 * _X_PI)
    return _invert(gcj02_to_bd09, bx, by, z * np.cos(theta), z * np.sin(theta))


def _invert(
    forward: Callable[[ArrayLike, ArrayLike], tuple[NDArray[np.float64], NDArray[np.float64]]],
    tx: NDArray[np.float64],
    ty: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Solve ``forward(x, y) == (tx, ty)`` by fixed-point steps from ``(x, y)``.

    The offsets are near-translations, so subtracting the forward error converges fast; stops
    once every point is within ``_TOL`` degrees (or after ``_MAX_ITER`` steps).
    """
    for _ in range(_MAX_ITER):
        fx, fy = forward(x, y)
        ex, ey = fx - tx, fy - ty
        x, y = x - ex, y - ey
        if np.all(np.abs(ex) < _TOL) and np.all(np.abs(ey) < _TOL):
            break
    return x, y


def wgs84_to_bd09(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """WGS-84 to BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(
    lon: ArrayLike, lat: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """BD-09 to WGS-84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def check_crs(crs: str) -> Crs:
    """Normalise a declared coordinate system name (``WGS-84``, ``gcj-02``, ``BD09`` ...)."""
    key = str(crs).strip().lower().replace("-", "").replace("_", "")
    aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "gcj02": "gcj02", "bd09": "bd09"}
    if key not in aliases:
        msg = f"Expected a coordinate system from {', '.join(CRS_NAMES)}; got {crs!r}"
        raise CoordinateError(msg)
    return aliases[key]  # type: ignore[return-value]


def to_wgs84(
    lon: ArrayLike, lat: ArrayLike, crs: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Convert points declared in ``crs`` (``wgs84``, ``gcj02`` or ``bd09``) to WGS-84."""
    name = check_crs(crs)
    if name == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if name == "bd09":
        return bd09_to_wgs84(lon, lat)
    return _arrays(lon, lat)
