"""Where stations live: a narrow store API, its implementations, and choosing one by URL.

:class:`StationStore` is the whole contract (add, update, delete, get, query, all, len,
``revision``, ``changes_since``, ``transaction()``). :class:`GeoPackageStore` keeps stations
in an OGC GeoPackage 1.2 file (one ``stations`` point layer in EPSG:4326, readable by
GDAL/QGIS/geopandas) using sqlite3 transactions, so a failed write leaves the file as it was
and readers never see half an update; it is the default. :class:`~stations.postgis.PostGISStore`
is the same contract on PostgreSQL + PostGIS for a city deployment (several servers on one
registry), chosen by a ``postgresql://`` URL wherever a store path is accepted
(:func:`open_store`). :class:`MemoryStore` is the same contract in memory, for tests and
throw-away sessions.

Every write either commits completely or not at all; ``revision`` changes after every committed
write (never on a rolled-back one), so caches built from a store can tell when they are stale.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from ._errors import StationNotFoundError, StationValueError
from ._storebase import BBox as BBox
from ._storebase import StationStore as StationStore
from ._storebase import _as_list, _taken
from ._storebase import check_bbox as check_bbox
from ._storebase import check_names as check_names
from ._storebase import matches as matches
from .geopackage import GeoPackageStore as GeoPackageStore
from .model import Station

__all__ = [
    "GeoPackageStore",
    "MemoryStore",
    "StationStore",
    "copy_stations",
    "default_store_path",
    "is_database_url",
    "matches",
    "open_store",
    "store_exists",
]

logger = logging.getLogger(__name__)


# --- in memory --------------------------------------------------------------------------------


class MemoryStore(StationStore):
    """The store API over a dict (one process; transactions by snapshot, nesting allowed)."""

    def __init__(self, stations: Iterable[Station] = ()) -> None:
        self._data: dict[str, Station] = {}
        self._revision = 0
        self._depth = 0
        self._dirty = False
        self._lock = threading.RLock()
        items = list(stations)
        if items:
            self.add(items)

    @property
    def revision(self) -> int:
        return self._revision

    @property
    def location(self) -> str:
        """``memory`` (this process only)."""
        return "memory"

    @contextlib.contextmanager
    def transaction(self) -> Iterator[MemoryStore]:
        with self._lock:
            snapshot = dict(self._data)
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._data = snapshot  # every level rolls back its own writes
                self._depth -= 1
                if self._depth == 0:
                    self._dirty = False
                raise
            self._depth -= 1
            if self._depth == 0 and self._dirty:
                self._revision += 1
                self._dirty = False

    def _wrote(self) -> None:
        if self._depth:
            self._dirty = True
        else:
            self._revision += 1

    # Each write checks everything before changing anything, so it is atomic on its own.

    def add(self, stations: Station | Iterable[Station]) -> int:
        items = _as_list(stations)
        with self._lock:
            taken = sorted(s.id for s in items if s.id in self._data)
            if taken:
                raise _taken(taken)
            if items:
                self._data.update((s.id, s) for s in items)
                self._wrote()
        return len(items)

    def update(self, station: Station) -> None:
        if not isinstance(station, Station):
            msg = f"Expected a Station, got {type(station).__name__}"
            raise TypeError(msg)
        with self._lock:
            if station.id not in self._data:
                raise StationNotFoundError(station.id)
            self._data[station.id] = station
            self._wrote()

    def delete(self, station_id: str) -> None:
        with self._lock:
            if station_id not in self._data:
                raise StationNotFoundError(station_id)
            del self._data[station_id]
            self._wrote()

    def get(self, station_id: str) -> Station:
        try:
            return self._data[station_id]
        except KeyError:
            raise StationNotFoundError(station_id) from None

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
        hits = [
            s
            for s in self.all()
            if matches(s, bbox=bbox, kinds=kinds, amenities=amenities, open_at=open_at)
        ]
        return hits[offset : None if limit is None else offset + limit]

    def all(self) -> list[Station]:
        return [self._data[k] for k in sorted(self._data)]

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, station_id: object) -> bool:
        return isinstance(station_id, str) and station_id in self._data


# --- where an area's store lives --------------------------------------------------------------


def _home() -> Path:
    from routing._home import warmheart_home  # the one definition of $WARMHEART_HOME

    return warmheart_home()


def default_store_path(area_name: str) -> Path:
    """``$WARMHEART_HOME/stations/<area_name>.gpkg``, the default store of an Area."""
    if not area_name or any(c in area_name for c in "/\\\0") or area_name.startswith("."):
        msg = f"Expected an area name without path separators, got {area_name!r}"
        raise StationValueError(msg, field="area")
    return _home() / "stations" / f"{area_name}.gpkg"


def is_database_url(target: object) -> bool:
    """Whether ``target`` names a PostGIS store (``postgresql://`` or ``postgres://``)."""
    from ._pgschema import is_database_url as check

    return check(target)


def open_store(
    area_name: str | None = None, *, path: str | os.PathLike[str] | None = None
) -> StationStore:
    """Open (creating if needed) the store at ``path`` or the Area's default GeoPackage.

    Parameters
    ----------
    area_name
        Whose default store to open when ``path`` is not given
        (``$WARMHEART_HOME/stations/<area_name>.gpkg``).
    path
        A GeoPackage file, or a ``postgresql://user:password@host:port/db[?schema=NAME]``
        URL for a :class:`~stations.postgis.PostGISStore`.
    """
    if path is None:
        if area_name is None:
            msg = "Expected an area name or a store path, got neither"
            raise StationValueError(msg, field="area")
        path = default_store_path(area_name)
    if is_database_url(path):
        from .postgis import PostGISStore

        return PostGISStore(str(path))
    return GeoPackageStore(path)


def store_exists(target: str | os.PathLike[str]) -> bool:
    """Whether a store is already there: the file exists, or the URL is a database (which
    holds its tables once opened; a database is never created by opening it)."""
    return is_database_url(target) or Path(target).is_file()


def copy_stations(
    source: StationStore,
    target: StationStore,
    *,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
) -> tuple[int, int]:
    """Copy every station of ``source`` into ``target`` in one transaction: ``(added, updated)``.

    All or nothing: ``source`` is read once (one consistent snapshot), ``target`` written in
    one transaction. Without ``replace``, ids already in ``target`` refuse the copy
    (:class:`~stations.DuplicateStationError` listing them; nothing is written); with it,
    they are updated. Stations only in ``target`` are left alone. ``progress`` is told what
    happens (reading, writing, committed) for the CLI to show on long copies.
    """
    say = progress or (lambda _: None)
    started = time.perf_counter()
    say(f"reading {source.location} ...")
    stations = source.all()
    say(
        f"read {len(stations):,} stations in {time.perf_counter() - started:.1f} s; "
        f"writing {target.location} in one transaction ..."
    )
    if replace:
        result = target.upsert(stations)
    else:
        with target.transaction():
            result = (target.add(stations), 0)
    say(f"committed after {time.perf_counter() - started:.1f} s")
    return result
