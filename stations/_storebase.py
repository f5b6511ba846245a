"""The store contract and the query-argument checks every store implementation shares."""

from __future__ import annotations

import contextlib
import heapq
import math
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Self

from routing.lonlat import valid_lonlat

from ._errors import (
    DuplicateStationError,
    StationCoordinateError,
    StationNotFoundError,
    StationValueError,
)
from .model import AMENITIES, KINDS, Station

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "EARTH_RADIUS_M",
    "BBox",
    "Changes",
    "StationStore",
    "check_bbox",
    "check_names",
    "great_circle_m",
    "matches",
]

BBox = tuple[float, float, float, float]
#: ``(revision now, stations added or updated, ids removed)``, see ``changes_since``.
Changes = tuple[int, list[Station], list[str]]
#: Mean Earth radius (IUGG, (2a + b) / 3 of WGS-84), the sphere PostGIS measures
#: geography distances on without a spheroid.
EARTH_RADIUS_M = 6_371_008.7714


def great_circle_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres on the mean-radius sphere (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


# --- query arguments, shared by every implementation ------------------------------------------


def check_bbox(bbox: Sequence[float] | None) -> BBox | None:
    """Validate ``(min_lon, min_lat, max_lon, max_lat)``; ``None`` passes through."""
    if bbox is None:
        return None
    try:
        values = tuple(float(v) for v in bbox)
    except (TypeError, ValueError):
        msg = f"Expected bbox as four numbers (min_lon, min_lat, max_lon, max_lat), got {bbox!r}"
        raise StationValueError(msg, field="bbox") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        msg = (
            "Expected bbox as four finite numbers (min_lon, min_lat, max_lon, max_lat), "
            f"got {bbox!r}"
        )
        raise StationValueError(msg, field="bbox")
    x0, y0, x1, y1 = values
    if not (valid_lonlat([x0, x1], [y0, y1]).all() and x0 <= x1 and y0 <= y1):
        msg = (
            "Expected bbox with -180 <= min_lon <= max_lon <= 180 and "
            f"-90 <= min_lat <= max_lat <= 90, got {bbox!r}"
        )
        raise StationValueError(msg, field="bbox")
    return x0, y0, x1, y1


def check_names(
    values: str | Iterable[str] | None, allowed: tuple[str, ...], what: str
) -> frozenset[str] | None:
    """Validate a kind/amenity filter (one name or several); ``None`` passes through."""
    if values is None:
        return None
    items = [values] if isinstance(values, str) else list(values)
    bad = [v for v in items if v not in allowed]
    if bad:
        msg = f"Expected {what} from {', '.join(allowed)}; got {', '.join(map(repr, bad))}"
        raise StationValueError(msg, field=what)
    return frozenset(items)


def _check_paging(limit: int | None, offset: int) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        msg = f"Expected limit as a whole number >= 0 or None, got {limit!r}"
        raise StationValueError(msg, field="limit")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        msg = f"Expected offset as a whole number >= 0, got {offset!r}"
        raise StationValueError(msg, field="offset")


def matches(
    station: Station,
    *,
    bbox: BBox | None = None,
    kinds: frozenset[str] | None = None,
    amenities: frozenset[str] | None = None,
    open_at: datetime | None = None,
) -> bool:
    """Whether ``station`` passes the (already validated) query filters."""
    if bbox is not None and not (
        bbox[0] <= station.lon <= bbox[2] and bbox[1] <= station.lat <= bbox[3]
    ):
        return False
    if kinds is not None and station.kind not in kinds:
        return False
    if amenities and not amenities <= station.amenities:
        return False
    return open_at is None or station.is_open(open_at) is True


def rank_closest(
    stations: Iterable[Station], lon: float, lat: float, k: int, kinds: frozenset[str] | None
) -> list[tuple[Station, float]]:
    """The ``k`` of ``stations`` closest to ``(lon, lat)`` (great-circle), ties by id."""
    ranked = heapq.nsmallest(
        k,
        (
            (great_circle_m(lon, lat, s.lon, s.lat), s.id, s)
            for s in stations
            if kinds is None or s.kind in kinds
        ),
    )
    return [(s, d) for d, _, s in ranked]


def _as_list(stations: Station | Iterable[Station]) -> list[Station]:
    items = [stations] if isinstance(stations, Station) else list(stations)
    for i, s in enumerate(items):
        if not isinstance(s, Station):
            msg = f"Expected Station objects, got {type(s).__name__} at position {i}"
            raise TypeError(msg)
    seen: set[str] = set()
    repeated: set[str] = set()
    for s in items:
        (repeated if s.id in seen else seen).add(s.id)
    if repeated:
        ids = sorted(repeated)
        msg = f"Expected unique station ids, got {', '.join(map(repr, ids))} more than once"
        raise DuplicateStationError(msg, ids=ids)
    return items


def _taken(ids: list[str]) -> DuplicateStationError:
    shown = ", ".join(map(repr, ids[:10])) + (f" (+{len(ids) - 10} more)" if len(ids) > 10 else "")
    msg = f"Expected new station ids, got {shown} already in the store; nothing was written"
    return DuplicateStationError(msg, ids=ids)


# --- the contract -----------------------------------------------------------------------------


class StationStore(ABC):
    """The store API every backend implements.

    Writes are atomic: a write that raises changes nothing. Inside :meth:`transaction`
    several writes commit together or not at all.
    """

    @property
    @abstractmethod
    def revision(self) -> int:
        """A number that changes after every committed write (never after a rolled-back one)."""

    def changes_since(self, revision: int) -> Changes | None:
        """What changed after ``revision``, or ``None`` when the store cannot say.

        Returns ``(now, changed, removed)``: the current revision, the stations added or
        updated since (as they are now) and the ids removed since, read from one consistent
        snapshot. ``None`` means "re-read everything with :meth:`all`" (the default, and what a
        store answers when ``revision`` is older than its change log or a large write
        replaced too much to list). Readers that follow a store (the locator, the web state)
        use this to apply one write in time proportional to the write, not to the store.
        """
        return None

    @abstractmethod
    def add(self, stations: Station | Iterable[Station]) -> int:
        """Add one or many new stations; return how many.

        Raises
        ------
        DuplicateStationError
            An id is repeated in ``stations`` or already stored; nothing is written.
        """

    @abstractmethod
    def update(self, station: Station) -> None:
        """Replace the stored station with the same id.

        Raises
        ------
        StationNotFoundError
            No station has that id.
        """

    @abstractmethod
    def delete(self, station_id: str) -> None:
        """Remove a station.

        Raises
        ------
        StationNotFoundError
            No station has that id.
        """

    @abstractmethod
    def get(self, station_id: str) -> Station:
        """The station with this id (raises :class:`StationNotFoundError`)."""

    def query(
        self,
        *,
        bbox: Sequence[float] | None = None,
        kinds: str | Iterable[str] | None = None,
        amenities: str | Iterable[str] | None = None,
        open_at: datetime | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Station]:
        """Stations matching every given filter, ordered by id.

        Parameters
        ----------
        bbox
            ``(min_lon, min_lat, max_lon, max_lat)``, edges included.
        kinds
            Keep these kinds (one name or several, from :data:`~stations.model.KINDS`).
        amenities
            Keep stations offering *all* of these.
        open_at
            Keep stations whose hours say open at that time (unknown hours are left out).
        limit, offset
            Page through the ordered result.
        """
        _check_paging(limit, offset)
        return self._query(
            bbox=check_bbox(bbox),
            kinds=check_names(kinds, KINDS, "kinds"),
            amenities=check_names(amenities, AMENITIES, "amenities"),
            open_at=open_at,
            limit=limit,
            offset=offset,
        )

    @abstractmethod
    def _query(
        self,
        *,
        bbox: BBox | None,
        kinds: frozenset[str] | None,
        amenities: frozenset[str] | None,
        open_at: datetime | None,
        limit: int | None,
        offset: int,
    ) -> list[Station]:
        """:meth:`query` with its arguments already checked (the one place that checks them)."""

    def closest(
        self,
        lon: float,
        lat: float,
        *,
        k: int = 1,
        kinds: str | Iterable[str] | None = None,
    ) -> list[tuple[Station, float]]:
        """The ``k`` stations closest to ``(lon, lat)`` in a straight line, nearest first.

        Distances are great-circle metres (:func:`great_circle_m`); ties go by id. This is
        the registry's own question ("what is near this point", no road network): walking
        times come from :class:`~stations.Locator`.

        Parameters
        ----------
        lon, lat
            WGS-84 point.
        k
            How many, 1-1000.
        kinds
            Keep these kinds only.
        """
        from routing.lonlat import lonlat_problem

        problem = lonlat_problem(lon, lat)
        if problem is not None:
            raise StationCoordinateError(problem, field="lon")
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 1000:
            msg = f"Expected k in [1, 1000], got {k!r}"
            raise StationValueError(msg, field="k")
        return self._closest(float(lon), float(lat), k, check_names(kinds, KINDS, "kinds"))

    def _closest(
        self, lon: float, lat: float, k: int, kinds: frozenset[str] | None
    ) -> list[tuple[Station, float]]:
        """:meth:`closest` with checked arguments; by default a scan of :meth:`all`."""
        return rank_closest(self.all(), lon, lat, k, kinds)

    @abstractmethod
    def all(self) -> list[Station]:
        """Every station, ordered by id."""

    @abstractmethod
    def __len__(self) -> int: ...

    @abstractmethod
    def transaction(self) -> contextlib.AbstractContextManager[StationStore]:
        """Context manager: writes inside commit together on exit, or roll back on error."""

    def upsert(self, stations: Station | Iterable[Station]) -> tuple[int, int]:
        """Add new stations and update existing ones in one transaction: ``(added, updated)``."""
        items = _as_list(stations)
        added = updated = 0
        with self.transaction():
            for s in items:
                if s.id in self:
                    self.update(s)
                    updated += 1
                else:
                    self.add(s)
                    added += 1
        return added, updated

    def __contains__(self, station_id: object) -> bool:
        if not isinstance(station_id, str):
            return False
        try:
            self.get(station_id)
        except StationNotFoundError:
            return False
        return True

    def __iter__(self) -> Iterator[Station]:
        return iter(self.all())

    @property
    def location(self) -> str:
        """Where the stations live, safe to print and log (a path, or a URL without password)."""
        return repr(self)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (no-op by default)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
