"""Checks of imported stations against the Area: off-area rows and swapped coordinates.

Every station outside the Area's bounds, or farther from its street network than the Area's
snap limit (``snap_max_distance``, 500 m by default), is reported on its own row with its id
and distance; where the point with longitude and latitude swapped lies inside the Area, the
row says so. (The coordinate-system check is :func:`routing.datum.check_offset`.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from routing.datum import network_distance
from routing.problems import RowProblem

if TYPE_CHECKING:
    from routing.area import Area

    from .model import Station

__all__ = ["OffArea", "check_off_area", "swapped_inside"]


@dataclass(frozen=True)
class OffArea:
    """A station that does not sit on the Area's street network.

    Attributes
    ----------
    row, id
        Where it is in the file and which station it is.
    distance_m
        Metres to the nearest street of the walk network.
    outside
        Whether it lies outside the Area's bounds altogether.
    swapped
        Whether the point with longitude and latitude swapped lies inside the Area.
    """

    row: int
    id: str
    distance_m: float
    outside: bool
    swapped: bool

    def problem(self, limit_m: float) -> RowProblem:
        """The row's report line."""
        far = _metres(self.distance_m)
        if self.outside:
            text = f"station {self.id!r} lies outside the area (nearest street {far} away)"
        else:
            text = (
                f"station {self.id!r} is {far} from the nearest street "
                f"(expected within {limit_m:.0f} m)"
            )
        if self.swapped:
            text += "; lon/lat swapped? with them the other way round it lies inside the area"
        return RowProblem(self.row, "lon", text)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``distance_m`` to 0.1 m)."""
        return {
            "row": self.row,
            "id": self.id,
            "distance_m": round(self.distance_m, 1) if math.isfinite(self.distance_m) else None,
            "outside": self.outside,
            "swapped": self.swapped,
        }


def _metres(d: float) -> str:
    if not math.isfinite(d):
        return "far"
    return f"{d / 1000:.1f} km" if d >= 1000 else f"{d:.0f} m"


def swapped_inside(lon: Any, lat: Any, area: Area) -> np.ndarray:
    """Whether ``(lat, lon)`` read as ``(lon, lat)`` falls inside the Area's bounds."""
    x0, y0, x1, y1 = area.bounds
    x = np.asarray(lat, dtype=float)
    y = np.asarray(lon, dtype=float)
    with np.errstate(invalid="ignore"):
        return (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)


def check_off_area(
    stations: list[Station], rows: list[int], area: Area
) -> tuple[list[OffArea], float]:
    """Stations outside the Area or beyond its snap limit from the street network.

    Returns
    -------
    tuple
        The off-area stations (file order) and the limit in metres that was applied.
    """
    limit = float(getattr(area.settings, "snap_max_distance", 500.0))
    if not stations:
        return [], limit
    lon = np.array([s.lon for s in stations])
    lat = np.array([s.lat for s in stations])
    x0, y0, x1, y1 = area.bounds
    outside = ~((lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
    distance = network_distance(area, *area.project(lon, lat))
    swapped = swapped_inside(lon, lat, area)
    bad = np.flatnonzero(outside | (distance > limit))
    found = [
        OffArea(rows[i], stations[i].id, float(distance[i]), bool(outside[i]), bool(swapped[i]))
        for i in bad
    ]
    return found, limit
