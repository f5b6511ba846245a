"""Demand layers of the coverage tools: what must be covered, with a weight.

* ``streets`` — metres of walkable street (every street of the walk graph once; a street
  piece is covered up to exactly where the budget ends). Handled by the walk model itself.
* ``homes`` — the Area's ``residential_buildings``, one point per building (a point inside
  its footprint) weighted by floor area: footprint m² times ``building:levels`` where
  tagged (1 where not).
* ``hotspots`` — the Area's worker hotspots (:data:`routing.pois.HOTSPOT_TAGS`), weighted
  per type by :data:`HOTSPOT_WEIGHTS`.
* a file — user-supplied weighted points (CSV / GeoJSON, ``weight`` defaults to 1), e.g. a
  union's rider check-ins.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import StationValueError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from routing.area import Area

__all__ = [
    "BUILT_IN_LAYERS",
    "HOTSPOT_WEIGHTS",
    "DemandPoints",
    "demand_layer",
    "points_demand",
]

#: Demand layers every Area offers (a path to a point file is the fourth kind).
BUILT_IN_LAYERS = ("streets", "homes", "hotspots")

#: Weight of one hotspot by ``hotspot_type``: a rough count of the outdoor workers it
#: gathers at a time (a courier depot's riders, a market's porters, a restaurant's waiting
#: delivery riders). Clusters of restaurants add up.
HOTSPOT_WEIGHTS: dict[str, float] = {
    "courier_depot": 20.0,
    "marketplace": 10.0,
    "mall": 10.0,
    "parcel_locker": 2.0,
    "food": 1.0,
}

_LEVELS = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True, eq=False)
class DemandPoints:
    """A point demand layer.

    Attributes
    ----------
    name
        ``homes``, ``hotspots`` or the file's stem.
    unit
        What the weights count (``"m² floor area"``, ``"workers"``, ``"weight"``).
    ids
        One id per point (OSM ``type/id`` for Area layers, the file's ``id`` column).
    lon, lat
        WGS-84.
    weight
        Non-negative weights.
    category
        A label per point (hotspot type) or ``None``.
    """

    name: str
    unit: str
    ids: list[str]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    weight: NDArray[np.float64]
    category: list[str] | None = None

    def __len__(self) -> int:
        return len(self.ids)


def _levels(value: Any) -> float:
    """``building:levels`` as a number of storeys (first number; 1 when missing or odd)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 1.0
    match = _LEVELS.search(str(value))
    if not match:
        return 1.0
    levels = float(match.group())
    return levels if 0 < levels <= 200 else 1.0


def _layer(area: Area, layer: str) -> Any:
    frame = area.pois.get(layer)
    if frame is None:
        msg = (
            f"Expected area {area.name!r} to have the {layer!r} layer, got an area built by an "
            f"older warmheart; rebuild it with `warmheart area build SOURCE --name {area.name}`"
        )
        raise StationValueError(msg, field="demand")
    return frame


def _osm_ids(frame: Any) -> list[str]:
    return [f"{t}/{i}" for t, i in zip(frame["osm_type"], frame["osm_id"], strict=True)]


def homes_demand(area: Area) -> DemandPoints:
    """Residential buildings weighted by floor area (footprint x levels)."""
    frame = _layer(area, "residential_buildings")
    if len(frame) == 0:
        return DemandPoints("homes", "m² floor area", [], np.empty(0), np.empty(0), np.empty(0))
    footprint = frame.geometry.to_crs(area.crs).area.to_numpy()
    levels = np.fromiter(
        (_levels(v) for v in frame.get("building_levels", [None] * len(frame))),
        dtype=float,
        count=len(frame),
    )
    points = frame.geometry.representative_point()
    return DemandPoints(
        "homes",
        "m² floor area",
        _osm_ids(frame),
        points.x.to_numpy(dtype=float),
        points.y.to_numpy(dtype=float),
        footprint * levels,
    )


def hotspots_demand(area: Area) -> DemandPoints:
    """Worker hotspots weighted by :data:`HOTSPOT_WEIGHTS`."""
    frame = _layer(area, "hotspots")
    kinds = [str(k) for k in frame["hotspot_type"]] if len(frame) else []
    weight = np.array([HOTSPOT_WEIGHTS.get(k, 1.0) for k in kinds], dtype=float)
    return DemandPoints(
        "hotspots",
        "workers",
        _osm_ids(frame) if len(frame) else [],
        frame.geometry.x.to_numpy(dtype=float) if len(frame) else np.empty(0),
        frame.geometry.y.to_numpy(dtype=float) if len(frame) else np.empty(0),
        weight,
        kinds,
    )


def points_demand(path: str | Path) -> DemandPoints:
    """Weighted points from a CSV / GeoJSON file (``lon``, ``lat``, optional ``id``, ``weight``)."""
    from ._pointfile import read_point_table

    table = read_point_table(path, what="demand points", numbers={"weight": 1.0})
    return DemandPoints(
        Path(path).stem, "weight", table.ids, table.lon, table.lat, table.numbers["weight"]
    )


def demand_layer(area: Area, spec: str | Path | DemandPoints) -> str | DemandPoints:
    """``"streets"`` or the :class:`DemandPoints` a layer name, file path or object stands for.

    Raises
    ------
    StationValueError
        An unknown layer name that is not a file either.
    """
    if isinstance(spec, DemandPoints):
        return spec
    text = str(spec).strip()
    if text == "streets":
        return "streets"
    if text == "homes":
        return homes_demand(area)
    if text == "hotspots":
        return hotspots_demand(area)
    path = Path(text).expanduser()
    if path.suffix.lower() in (".csv", ".geojson", ".json") or path.exists():
        return points_demand(path)
    msg = (
        f"Expected demand to be one of {', '.join(BUILT_IN_LAYERS)} or a CSV / GeoJSON file "
        f"of weighted points, got {text!r}"
    )
    raise StationValueError(msg, field="demand")
