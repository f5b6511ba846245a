"""The one check of WGS-84 longitude / latitude used across the project.

Every layer (area snapping, station records, import rows, planner inputs, the HTTP API)
asks the same question — a finite longitude in [-180, 180] and latitude in [-90, 90] — and
gives the same answer in the same words:

- :func:`lonlat_problem`: the problem with one point as a sentence, or ``None``;
- :func:`valid_lonlat`: a vectorised mask of usable points;
- :func:`check_lonlat`: arrays back, or a :class:`~routing.CoordinateError` naming the first
  bad point.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ._errors import CoordinateError

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "LAT_RANGE",
    "LON_RANGE",
    "check_lonlat",
    "coordinate_problem",
    "lonlat_problem",
    "valid_lonlat",
]

#: Inclusive range of a WGS-84 longitude, in degrees.
LON_RANGE = (-180.0, 180.0)
#: Inclusive range of a WGS-84 latitude, in degrees.
LAT_RANGE = (-90.0, 90.0)

_SPAN = {"lon": ("longitude", LON_RANGE), "lat": ("latitude", LAT_RANGE)}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def coordinate_problem(value: Any, axis: str, *, name: str | None = None) -> str | None:
    """What is wrong with one longitude (``axis="lon"``) or latitude (``"lat"``), or ``None``.

    ``name`` is the field or parameter the value came in: ``Expected lon (longitude) in
    [-180, 180], got 200``, ``Expected lon to be a number, got 'abc'``; without it the axis'
    word: ``Expected latitude in [-90, 90], got 123.4``.
    """
    word, (low, high) = _SPAN[axis]
    number = _number(value)
    shown = repr(value) if isinstance(value, str) or number is None else repr(number)
    if number is None:
        return f"Expected {name or word} to be a number, got {shown}"
    if not math.isfinite(number) and name is not None:
        return f"Expected {name} to be a finite number, got {shown}"
    if not low <= number <= high:  # NaN is never in range
        label = word if name is None or name == word else f"{name} ({word})"
        return f"Expected {label} in [{low:g}, {high:g}], got {shown}"
    return None


def lonlat_problem(lon: Any, lat: Any, *, names: tuple[str, str] | None = None) -> str | None:
    """What is wrong with the point (``lon``, ``lat``), or ``None`` when it is a valid point.

    A point that is valid with its two numbers exchanged says so ("swapped?"), the usual slip
    of lists copied from web maps.
    """
    lon_name, lat_name = names or (None, None)
    problem = coordinate_problem(lon, "lon", name=lon_name) or coordinate_problem(
        lat, "lat", name=lat_name
    )
    if problem is not None and (
        coordinate_problem(lat, "lon") is None and coordinate_problem(lon, "lat") is None
    ):
        problem += " (are longitude and latitude swapped?)"
    return problem


def valid_lonlat(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """Mask of the points that are finite and in range (vectorised, any matching shapes)."""
    import numpy as np  # here, not at import time: the CLI uses this module to start

    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.asarray(
            np.isfinite(x) & np.isfinite(y) & (np.abs(x) <= LON_RANGE[1]) & (np.abs(y) <= 90.0)
        )


def check_lonlat(lon: ArrayLike, lat: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Return lon/lat as 1-d float arrays, or raise :class:`CoordinateError` naming the bad one.

    Raises
    ------
    CoordinateError
        If the shapes differ or a point is NaN, infinite or out of range; the message names
        the first bad point (``... got 123.4 (point 2)``).
    """
    import numpy as np

    try:
        lon_a = np.atleast_1d(np.asarray(lon, dtype=float))
        lat_a = np.atleast_1d(np.asarray(lat, dtype=float))
    except (TypeError, ValueError):
        msg = f"Expected numeric longitudes and latitudes, got {lon!r} and {lat!r}"
        raise CoordinateError(msg) from None
    if lon_a.shape != lat_a.shape:
        msg = f"Expected as many longitudes as latitudes, got {lon_a.size} and {lat_a.size}"
        raise CoordinateError(msg)
    bad = ~valid_lonlat(lon_a, lat_a)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        x, y = lon_a.ravel()[i], lat_a.ravel()[i]
        problem = coordinate_problem(y, "lat") or coordinate_problem(x, "lon")
        suffix = f" (point {i})" if lon_a.size > 1 else ""
        raise CoordinateError(f"{problem}{suffix}")
    return lon_a, lat_a
