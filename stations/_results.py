"""Result types of the station locator."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray
    from shapely import LineString

    from .model import Station

__all__ = ["NearestBatch", "NearestHit", "NearestResult"]


@dataclass(frozen=True)
class NearestHit:
    """One station found by the locator.

    Attributes
    ----------
    station
        The station record.
    time_s
        Walking time (s) from the origin point to the station point: the origin's snap leg,
        the walk along the network and the station's snap leg, the legs at walking speed.
    distance_m
        Walking distance (m) measured the same way.
    geometry
        The walk along the network as a WGS-84 LineString, from the node nearest the origin
        to the node nearest the station (``None`` when paths were not asked for).
    """

    station: Station
    time_s: float
    distance_m: float
    geometry: LineString | None = None

    @property
    def minutes(self) -> float:
        """Walking time in minutes."""
        return self.time_s / 60.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: the station's GeoJSON feature, time, distance and path."""
        out: dict[str, Any] = {
            "station": self.station.to_feature(),
            "time_s": round(self.time_s, 1),
            "minutes": round(self.minutes, 2),
            "distance_m": round(self.distance_m, 1),
        }
        if self.geometry is not None:
            out["path"] = {
                "type": "LineString",
                "coordinates": [[round(x, 7), round(y, 7)] for x, y in self.geometry.coords],
            }
        return out


@dataclass(frozen=True)
class NearestResult:
    """Stations nearest one origin by walking time, nearest first.

    An empty result is an answer, not an error: :attr:`reason` then says why (the origin is
    off the map, or no station matches the filters within reach). Fewer than ``k`` hits
    (with ``reason`` ``None``) means only that many stations match.

    Attributes
    ----------
    lon, lat
        The origin.
    hits
        Up to ``k`` hits sorted by walking time.
    reason
        Why there are no hits, else ``None``.
    snap_m
        Straight distance (m) from the origin to the nearest walk-graph node.
    """

    lon: float
    lat: float
    hits: tuple[NearestHit, ...] = ()
    reason: str | None = None
    snap_m: float = float("nan")

    def __len__(self) -> int:
        return len(self.hits)

    def __iter__(self) -> Iterator[NearestHit]:
        return iter(self.hits)

    def __getitem__(self, i: int) -> NearestHit:
        return self.hits[i]

    def __bool__(self) -> bool:
        return bool(self.hits)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "origin": {"lon": self.lon, "lat": self.lat},
            "snap_m": None if np.isnan(self.snap_m) else round(self.snap_m, 1),
            "reason": self.reason,
            "hits": [h.to_dict() for h in self.hits],
        }


@dataclass(frozen=True, eq=False)
class NearestBatch:
    """Stations nearest many origins, as arrays of shape ``(n_origins, k)``.

    Row ``i`` holds origin ``i``'s hits sorted by walking time; missing hits are ``None`` /
    ``nan``. Times and distances include the snap legs as in :class:`NearestHit`.

    Attributes
    ----------
    lon, lat
        The origins.
    station_id
        Object array of station ids (``None`` where no hit).
    time_s, distance_m
        Walking time (s) and distance (m), ``nan`` where no hit.
    reasons
        Per origin, why it has no hit (``None`` when it has one).
    snap_m
        Per origin, the straight distance to the nearest walk-graph node.
    stations
        Every station named in :attr:`station_id`, by id.
    """

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    station_id: NDArray[np.object_]
    time_s: NDArray[np.float64]
    distance_m: NDArray[np.float64]
    reasons: list[str | None]
    snap_m: NDArray[np.float64]
    stations: Mapping[str, Station] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.time_s.shape[0])

    @property
    def found(self) -> NDArray[np.int64]:
        """Number of hits per origin."""
        return np.isfinite(self.time_s).sum(axis=1)

    def result(self, i: int) -> NearestResult:
        """Origin ``i`` as a :class:`NearestResult` (without path geometry)."""
        hits = tuple(
            NearestHit(
                station=self.stations[str(self.station_id[i, j])],
                time_s=float(self.time_s[i, j]),
                distance_m=float(self.distance_m[i, j]),
            )
            for j in range(self.time_s.shape[1])
            if self.station_id[i, j] is not None
        )
        return NearestResult(
            lon=float(self.lon[i]),
            lat=float(self.lat[i]),
            hits=hits,
            reason=self.reasons[i],
            snap_m=float(self.snap_m[i]),
        )

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per (origin, rank) hit with station id, time and distance."""
        import pandas as pd

        rows, ranks = np.nonzero(self.station_id != None)  # noqa: E711 (elementwise)
        return pd.DataFrame(
            {
                "origin": rows,
                "rank": ranks + 1,
                "station_id": self.station_id[rows, ranks],
                "time_s": self.time_s[rows, ranks],
                "distance_m": self.distance_m[rows, ranks],
            }
        )
