"""Chinese web-map coordinate systems: WGS-84 <-> GCJ-02 <-> BD-09, and offset detection.

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

Every function is vectorised: scalars or arrays in, float arrays out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from ._errors import StationValueError

if TYPE_CHECKING:
    from collections.abc import Callable

    from numpy.typing import ArrayLike, NDArray

    from routing.area import Area

__all__ = [
    "CRS_NAMES",
    "OffsetCheck",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "check_offset",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

logger = logging.getLogger(__name__)

Crs = Literal["wgs84", "gcj02", "bd09"]
#: Coordinate systems an import can declare.
CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as GCJ-02 uses
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0
_TOL = 1e-9  # degrees; ~0.1 mm
_MAX_ITER = 30

FloatArray = "NDArray[np.float64]"


def _arrays(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    if x.shape != y.shape:
        msg = f"Expected as many longitudes as latitudes, got shapes {x.shape} and {y.shape}"
        raise StationValueError(msg, field="lon")
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
        raise StationValueError(msg, field="crs")
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


# --- spotting an undeclared offset ------------------------------------------------------------


@dataclass(frozen=True)
class OffsetCheck:
    """How well points fit the Area's walk network under each coordinate-system reading.

    Attributes
    ----------
    declared
        The coordinate system the points were declared in.
    median_distance
        For each reading (``wgs84``/``gcj02``/``bd09``), the median distance in metres from the
        points, converted to WGS-84 as if they were in that system, to the nearest walk node.
    control_distance
        For each other reading, the median over control shifts (the same displacement turned
        in other directions) of that median distance: how well an arbitrary shift of that
        size fits, the baseline the reading must beat.
    likely
        The reading that fits best, if it fits markedly better than the declared one and
        than its controls (else the declared one; ``None`` with too few points).
    n_points
        Points inside China that were compared (offsets only exist there).
    """

    declared: str
    median_distance: dict[str, float]
    control_distance: dict[str, float]
    likely: str | None
    n_points: int

    @property
    def suspicious(self) -> bool:
        """Whether another reading fits markedly better than the declared one."""
        return self.likely is not None and self.likely != self.declared

    def message(self) -> str:
        """One sentence for a warning."""
        d = self.median_distance
        other = self.likely or self.declared
        return (
            f"Expected points declared {self.declared} to lie on the road network, but read "
            f"as {other} they sit {d[other]:.0f} m from the nearest walk node (median of "
            f"{self.n_points}) instead of {d[self.declared]:.0f} m: the data look like "
            f"{other}; declare it with crs={other!r}"
        )


def check_offset(
    lon: ArrayLike,
    lat: ArrayLike,
    area: Area,
    *,
    declared: str = "wgs84",
    min_points: int = 5,
    ratio: float = 0.8,
    n_controls: int = 12,
) -> OffsetCheck:
    """Compare how points fit the Area's walk network under each coordinate-system reading.

    A web-map offset moves every point of a neighbourhood by the same 100-700 m, so points
    read in the wrong system sit at random relative to the streets, while read in the right
    one they sit next to them. The check reads the points as each system in turn, converts to
    WGS-84 and takes the median distance to the nearest walk node. Because that distance also
    depends on how dense the network is, a reading only counts as better if it beats both the
    declared reading and *control shifts*: the same displacement turned to ``n_controls - 1``
    other directions, which tell how well an arbitrary shift of that size would fit.

    Parameters
    ----------
    lon, lat
        The points as given (not yet converted).
    area
        The Area whose walk graph the points should fit (``area.project`` and
        ``area.arrays("walk").nearest`` are used).
    declared
        The coordinate system the points were declared in.
    min_points
        Fewer points inside China than this: no verdict (``likely`` is ``None``).
    ratio
        Another reading is "markedly better" when its median distance is below ``ratio``
        times the declared one's *and* below ``ratio`` times its controls' median, and below
        at least three quarters of the controls.
    n_controls
        Directions tried for the control shifts (the reading's own direction included).

    Returns
    -------
    OffsetCheck
    """
    name = check_crs(declared)
    x, y = _arrays(lon, lat)
    x, y = np.atleast_1d(x).ravel(), np.atleast_1d(y).ravel()
    ok = np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= 180) & (np.abs(y) <= 90)
    inside = ok & in_china(np.where(ok, x, 0.0), np.where(ok, y, 0.0))
    x, y = x[inside], y[inside]
    nan = float("nan")
    if x.size == 0:
        return OffsetCheck(name, dict.fromkeys(CRS_NAMES, nan), {}, None, 0)
    arrays = area.arrays("walk")

    def median_distance(px: NDArray[np.float64], py: NDArray[np.float64]) -> float:
        _, dist = arrays.nearest(px, py)
        return float(np.median(dist))

    projected = {}
    medians: dict[str, float] = {}
    for reading in CRS_NAMES:
        wx, wy = to_wgs84(x, y, reading)
        projected[reading] = area.project(wx, wy)
        medians[reading] = median_distance(*projected[reading])
    base_x, base_y = projected[name]
    controls: dict[str, float] = {}
    beaten: dict[str, bool] = {}
    for reading in CRS_NAMES:
        if reading == name:
            continue
        dx = float(np.mean(projected[reading][0] - base_x))
        dy = float(np.mean(projected[reading][1] - base_y))
        found = []
        for k in range(1, n_controls):
            angle = 2.0 * np.pi * k / n_controls
            cx = dx * np.cos(angle) - dy * np.sin(angle)
            cy = dx * np.sin(angle) + dy * np.cos(angle)
            found.append(median_distance(base_x + cx, base_y + cy))
        controls[reading] = float(np.median(found))
        beaten[reading] = float(np.mean(medians[reading] < np.asarray(found))) >= 0.75
    likely: str | None = None
    if x.size >= min_points:
        likely = name
        better = [
            r
            for r in controls
            if beaten[r] and medians[r] < ratio * medians[name] and medians[r] < ratio * controls[r]
        ]
        if better:
            likely = min(better, key=lambda r: medians[r])
    return OffsetCheck(name, medians, controls, likely, int(x.size))
