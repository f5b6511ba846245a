"""The GeoPackage station store: an OGC GeoPackage 1.2 file on plain sqlite3 transactions."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import _gpkg
from ._errors import StationNotFoundError, StationValueError
from ._storebase import (
    EARTH_RADIUS_M,
    BBox,
    Changes,
    StationStore,
    _as_list,
    _taken,
    great_circle_m,
    matches,
    rank_closest,
)
from .model import Station

__all__ = ["COLUMNS", "TABLE", "GeoPackageStore"]

logger = logging.getLogger(__name__)

TABLE = "stations"
#: Change log: one ``gpkg_metadata`` row per write, JSON ``{"revision": N, "ids": [...]}``
#: (``ids`` null: too many to list), so GIS tools see no extra layer.
LOG_URI = "https://github.com/warmheart/warmheart#store-changes"
#: Revisions the change log keeps; a reader further behind re-reads the whole store.
LOG_KEEP = 1000
#: A write touching more stations than this is logged as "everything changed".
LOG_MAX_IDS = 1000


#: Attribute columns of the ``stations`` layer (after ``fid`` and ``geom``). Lists and
#: mappings are JSON text; ``updated_at`` is a GeoPackage DATETIME (ISO 8601, UTC, ``Z``).
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "TEXT NOT NULL UNIQUE"),
    ("kind", "TEXT NOT NULL"),
    ("name", "TEXT NOT NULL"),
    ("names", "TEXT"),
    ("address", "TEXT"),
    ("host_type", "TEXT"),
    ("amenities", "TEXT"),
    ("opening_hours", "TEXT"),
    ("access", "TEXT NOT NULL"),
    ("capacity", "INTEGER"),
    ("certification", "TEXT"),
    ("seven_have", "TEXT"),
    ("contact", "TEXT"),
    ("notes", "TEXT"),
    ("source", "TEXT"),
    ("updated_at", "DATETIME"),
)
_NAMES = [c for c, _ in COLUMNS]
_SELECT = "SELECT s.geom, " + ", ".join(f's."{c}"' for c in _NAMES) + f" FROM {TABLE} s"  # noqa: S608 - constant table name
_INSERT = (
    f"INSERT INTO {TABLE} (geom, "  # noqa: S608 - constant table name
    + ", ".join(f'"{c}"' for c in _NAMES)
    + ") VALUES (?, "
    + ", ".join("?" for _ in _NAMES)
    + ")"
)
_UPDATE = (
    f"UPDATE {TABLE} SET geom = ?, " + ", ".join(f'"{c}" = ?' for c in _NAMES[1:]) + " WHERE id = ?"  # noqa: S608 - constant table name
)


def _row(station: Station) -> tuple[Any, ...]:
    r = station.to_record()
    stamp = station.updated_at
    return (
        _gpkg.encode_point(station.lon, station.lat),
        r["id"],
        r["kind"],
        r["name"],
        json.dumps(r["names"], ensure_ascii=False) if r["names"] else None,
        r["address"],
        r["host_type"],
        json.dumps(r["amenities"]),
        r["opening_hours"],
        r["access"],
        r["capacity"],
        r["certification"],
        json.dumps(r["seven_have"]),
        r["contact"],
        r["notes"],
        r["source"],
        stamp.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" if stamp else None,
    )


def _station(row: sqlite3.Row | tuple[Any, ...]) -> Station:
    """A stored row as a :class:`Station`, through the trusted constructor.

    Every row was written by :meth:`GeoPackageStore.add`/``update`` from a validated station
    (:func:`_row`), so it is rebuilt without validating again (cheaper by far; see the
    station registry benchmark in ``docs/benchmarks.md``).
    """
    lon, lat = _gpkg.decode_point(row[0])
    (
        id_,
        kind,
        name,
        names,
        address,
        host_type,
        amenities,
        hours,
        access,
        capacity,
        certification,
        seven_have,
        contact,
        notes,
        source,
        updated_at,
    ) = row[1:]
    return Station._trusted(
        id=id_,
        kind=kind,
        name=name,
        lon=lon,
        lat=lat,
        names=_DECODE(names)[0] if names else None,
        address=address,
        host_type=host_type,
        amenities=_name_set(amenities),
        opening_hours=hours,
        access=access,
        capacity=capacity,
        certification=certification,
        seven_have=_name_set(seven_have),
        contact=contact,
        notes=notes,
        source=source,
        updated_at=updated_at,
    )


_DECODE = json.JSONDecoder().raw_decode  # stored JSON has no surrounding whitespace


@functools.lru_cache(maxsize=8192)
def _name_set(text: str | None) -> frozenset[str]:
    """A stored JSON list of vocabulary names as a frozenset (few distinct values: cached)."""
    return frozenset(_DECODE(text)[0]) if text else frozenset()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class GeoPackageStore(StationStore):
    """Stations in an OGC GeoPackage file (layer ``stations``, EPSG:4326).

    Parameters
    ----------
    path
        The ``.gpkg`` file. Created (with its folder) if missing; an existing GeoPackage
        without a ``stations`` layer gets one.
    timeout
        Seconds to wait for another process's write lock before failing.

    Notes
    -----
    The file uses SQLite's write-ahead log, so readers never block and never see a write in
    progress; a reader sees each commit whole. Every write runs in ``BEGIN IMMEDIATE`` ...
    ``COMMIT``; any error rolls back. A process killed mid-write leaves the last committed
    state (SQLite recovers the journal on next open). Each thread gets its own connection.
    The ``revision`` counter lives in the file (a ``gpkg_metadata`` row, JSON
    ``{"revision": N}``), so every process using the file sees the same number; each write
    also logs the ids it touched, which :meth:`changes_since` reads.

    Rows are read back without validating them again: this store validated them when it wrote
    them. A file whose ``stations`` layer was edited by another tool (QGIS, ogr2ogr) should be
    imported (``warmheart stations import``), which validates every row, not opened as a store.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._initialise()

    def __repr__(self) -> str:
        return f"GeoPackageStore({str(self.path)!r})"

    @property
    def location(self) -> str:
        """The GeoPackage file's path."""
        return str(self.path)

    # connections and transactions

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            conn = sqlite3.connect(
                self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.DatabaseError as exc:
            msg = (
                f"Expected a GeoPackage (SQLite) file at {self.path}, got an unreadable file: {exc}"
            )
            raise StationValueError(msg, field="path") from exc
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        _gpkg.register_functions(conn)
        self._local.conn = conn
        self._local.depth = 0
        self._local.dirty = False
        self._local.touched = set()
        with self._lock:
            self._connections.append(conn)
        return conn

    def _initialise(self) -> None:
        conn = self._connect()
        if self._ready(conn):
            return
        with self.transaction():  # create what is missing, under the write lock
            if self._ready(conn):
                return
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "gpkg_contents" not in tables:
                _gpkg.create_gpkg_tables(conn)
            if TABLE not in tables:
                _gpkg.create_feature_table(
                    conn, TABLE, list(COLUMNS), description="warmheart stations"
                )
                conn.execute(f'CREATE INDEX "idx_{TABLE}_kind" ON {TABLE} (kind)')
            _gpkg.create_revision_metadata(conn, TABLE)
        # GDAL reads application_id from the file header: move it out of the WAL now.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def _ready(self, conn: sqlite3.Connection) -> bool:
        """Whether the file already holds a usable store; raise if it holds something else."""
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        if app_id not in (0, _gpkg.APPLICATION_ID) or (app_id == 0 and tables):
            msg = (
                f"Expected a GeoPackage at {self.path}, got an SQLite database with "
                f"application_id {app_id:#x}"
            )
            raise StationValueError(msg, field="path")
        if TABLE in tables:
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({TABLE})")}
            missing = [c for c in ("geom", *_NAMES) if c not in have]
            if missing:
                msg = (
                    f"Expected the '{TABLE}' layer of {self.path} to have columns "
                    f"{', '.join(missing)}; it does not (not a warmheart station store?)"
                )
                raise StationValueError(msg, field="path")
        if TABLE not in tables or "gpkg_metadata" not in tables:
            return False
        row = conn.execute(
            "SELECT 1 FROM gpkg_metadata WHERE md_standard_uri = ?", (_gpkg.REVISION_URI,)
        ).fetchone()
        return row is not None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[GeoPackageStore]:
        conn = self._connect()
        local = self._local
        outer = local.depth == 0
        savepoint = f"sp{local.depth}"
        if outer:
            conn.execute("BEGIN IMMEDIATE")  # take the write lock now: no upgrade deadlocks
            local.dirty = False
            local.touched = set()
        else:
            conn.execute(f"SAVEPOINT {savepoint}")
        local.depth += 1
        try:
            yield self
        except BaseException:
            local.depth -= 1
            if outer:
                conn.execute("ROLLBACK")
                local.dirty = False
            else:
                conn.execute(f"ROLLBACK TO {savepoint}")
                conn.execute(f"RELEASE {savepoint}")
            raise
        local.depth -= 1
        if not outer:
            conn.execute(f"RELEASE {savepoint}")
            return
        try:
            if local.dirty:
                self._finish_write(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        finally:
            local.dirty = False
            local.touched = set()

    def _finish_write(self, conn: sqlite3.Connection) -> None:
        conn.execute(
            "UPDATE gpkg_metadata SET metadata = json_set(metadata, '$.revision', "
            "json_extract(metadata, '$.revision') + 1) WHERE md_standard_uri = ?",
            (_gpkg.REVISION_URI,),
        )
        revision = self.revision
        touched: set[str] = self._local.touched
        ids = sorted(touched) if touched and len(touched) <= LOG_MAX_IDS else None
        conn.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES ('dataset', ?, 'application/json', ?)",
            (LOG_URI, json.dumps({"revision": revision, "ids": ids}, ensure_ascii=False)),
        )
        conn.execute(
            "DELETE FROM gpkg_metadata WHERE md_standard_uri = ? AND "
            "json_extract(metadata, '$.revision') <= ?",
            (LOG_URI, revision - LOG_KEEP),
        )
        conn.execute(
            "UPDATE gpkg_metadata_reference SET timestamp = ? WHERE table_name = ? AND "
            "md_file_id IN (SELECT id FROM gpkg_metadata WHERE md_standard_uri = ?)",
            (_now(), TABLE, _gpkg.REVISION_URI),
        )
        extent = conn.execute(
            f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM rtree_{TABLE}_geom"  # noqa: S608 - constant table name
        ).fetchone()
        conn.execute(
            "UPDATE gpkg_contents SET last_change = ?, min_x = ?, min_y = ?, max_x = ?, "
            "max_y = ? WHERE table_name = ?",
            (_now(), *extent, TABLE),
        )

    # reads

    @property
    def revision(self) -> int:
        row = (
            self._connect()
            .execute(
                "SELECT json_extract(metadata, '$.revision') FROM gpkg_metadata "
                "WHERE md_standard_uri = ?",
                (_gpkg.REVISION_URI,),
            )
            .fetchone()
        )
        return int(row[0])

    def changes_since(self, revision: int) -> Changes | None:
        """What changed after ``revision``, from the change log (see the base class).

        ``None`` when ``revision`` is older than the log (it keeps :data:`LOG_KEEP`
        revisions), newer than the store, or a write between touched more than
        :data:`LOG_MAX_IDS` stations. A revision written without a log entry (by an older
        version of this code) also gives ``None``: every revision must be accounted for.
        """
        conn = self._connect()
        if conn.in_transaction:  # inside our own write: read what it sees, no new snapshot
            return self._changes(conn, revision)
        conn.execute("BEGIN")  # one read snapshot for the revision and the rows
        try:
            return self._changes(conn, revision)
        finally:
            conn.execute("COMMIT")

    def _changes(self, conn: sqlite3.Connection, revision: int) -> Changes | None:
        now = self.revision
        if revision == now:
            return now, [], []
        if revision > now:
            return None
        entries = [
            json.loads(text)
            for (text,) in conn.execute(
                "SELECT metadata FROM gpkg_metadata WHERE md_standard_uri = ? AND "
                "json_extract(metadata, '$.revision') > ?",
                (LOG_URI, revision),
            )
        ]
        written = {e.get("revision") for e in entries}
        if len(written) != now - revision or any(e.get("ids") is None for e in entries):
            return None
        ids = sorted({sid for e in entries for sid in e["ids"]})
        changed: list[Station] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ", ".join("?" for _ in chunk)
            changed += [
                _station(r) for r in conn.execute(f"{_SELECT} WHERE s.id IN ({marks})", chunk)
            ]
        present = {s.id for s in changed}
        return now, changed, [sid for sid in ids if sid not in present]

    def get(self, station_id: str) -> Station:
        row = self._connect().execute(f"{_SELECT} WHERE s.id = ?", (station_id,)).fetchone()
        if row is None:
            raise StationNotFoundError(station_id)
        return _station(row)

    def __contains__(self, station_id: object) -> bool:
        if not isinstance(station_id, str):
            return False
        sql = f"SELECT 1 FROM {TABLE} WHERE id = ?"  # noqa: S608 - constant table name
        return self._connect().execute(sql, (station_id,)).fetchone() is not None

    def __len__(self) -> int:
        return int(self._connect().execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0])  # noqa: S608 - constant table name

    def all(self) -> list[Station]:
        return [_station(r) for r in self._connect().execute(f"{_SELECT} ORDER BY s.id")]

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
        sql = [_SELECT]
        where: list[str] = []
        params: list[Any] = []
        if bbox is not None:
            # The R-tree holds float32 bounds rounded outwards: candidates, refined below.
            sql.append(f"JOIN rtree_{TABLE}_geom r ON r.id = s.fid")
            where.append("r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?")
            params += [bbox[0], bbox[2], bbox[1], bbox[3]]
        if kinds is not None:
            where.append(f"s.kind IN ({', '.join('?' for _ in kinds)})")
            params += sorted(kinds)
        for amenity in sorted(amenities or ()):
            # amenities is a JSON array of quoted names from a fixed vocabulary, so matching
            # the quoted name is exact (no name is a quoted substring of another).
            where.append("s.amenities LIKE ? ESCAPE '\\'")
            params.append('%"' + amenity.replace("_", "\\_") + '"%')
        if where:
            sql.append("WHERE " + " AND ".join(where))
        sql.append("ORDER BY s.id")
        exact_in_sql = bbox is None and open_at is None
        if exact_in_sql and (limit is not None or offset):
            sql.append("LIMIT ? OFFSET ?")
            params += [-1 if limit is None else limit, offset]
        rows = self._connect().execute(" ".join(sql), params)
        hits = [_station(r) for r in rows]
        if exact_in_sql:
            return hits
        hits = [s for s in hits if matches(s, bbox=bbox, open_at=open_at)]
        return hits[offset : None if limit is None else offset + limit]

    def _closest(
        self, lon: float, lat: float, k: int, kinds: frozenset[str] | None
    ) -> list[tuple[Station, float]]:
        """Grow an R-tree window around the point until it holds ``k`` stations within the
        circle it contains, then rank those exactly (a full scan near the poles or the
        antimeridian, where a lon/lat window is not a good fit)."""
        conn = self._connect()
        radius = 500.0
        while True:
            dlat = math.degrees(radius / EARTH_RADIUS_M)
            top = min(90.0, abs(lat) + dlat)
            if top >= 89.0 or dlat >= 30:
                return rank_closest(self.all(), lon, lat, k, kinds)
            dlon = dlat / math.cos(math.radians(top))
            if lon - dlon < -180 or lon + dlon > 180:
                return rank_closest(self.all(), lon, lat, k, kinds)
            sql = (
                f"{_SELECT} JOIN rtree_{TABLE}_geom r ON r.id = s.fid "
                "WHERE r.maxx >= ? AND r.minx <= ? AND r.maxy >= ? AND r.miny <= ?"
            )
            params: list[Any] = [lon - dlon, lon + dlon, lat - dlat, lat + dlat]
            if kinds is not None:
                sql += f" AND s.kind IN ({', '.join('?' for _ in kinds)})"
                params += sorted(kinds)
            near = [
                s
                for s in map(_station, conn.execute(sql, params))
                if great_circle_m(lon, lat, s.lon, s.lat) <= radius
            ]
            if len(near) >= k:
                return rank_closest(near, lon, lat, k, kinds)
            radius *= 4

    # writes

    def add(self, stations: Station | Iterable[Station]) -> int:
        items = _as_list(stations)
        if not items:
            return 0
        with self.transaction():
            conn = self._connect()
            ids = [s.id for s in items]
            taken = self._existing(ids)
            if taken:
                raise _taken(sorted(taken))
            conn.executemany(_INSERT, [_row(s) for s in items])
            self._local.dirty = True
            self._local.touched.update(ids)
        return len(items)

    def upsert(self, stations: Station | Iterable[Station]) -> tuple[int, int]:
        items = _as_list(stations)
        with self.transaction():
            taken = set(self._existing([s.id for s in items]))
            new = [s for s in items if s.id not in taken]
            old = [s for s in items if s.id in taken]
            if old:
                rows = [_row(s) for s in old]
                self._connect().executemany(_UPDATE, [(r[0], *r[2:], r[1]) for r in rows])
                self._local.dirty = True
                self._local.touched.update(s.id for s in old)
            if new:
                self.add(new)
        return len(new), len(old)

    def _existing(self, ids: list[str]) -> list[str]:
        conn = self._connect()
        found: list[str] = []
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT id FROM {TABLE} WHERE id IN ({marks})"  # noqa: S608 - constant
            found += [r[0] for r in conn.execute(sql, chunk)]
        return found

    def update(self, station: Station) -> None:
        if not isinstance(station, Station):
            msg = f"Expected a Station, got {type(station).__name__}"
            raise TypeError(msg)
        with self.transaction():
            row = _row(station)
            cursor = self._connect().execute(_UPDATE, (row[0], *row[2:], station.id))
            if cursor.rowcount == 0:
                raise StationNotFoundError(station.id)
            self._local.dirty = True
            self._local.touched.add(station.id)

    def delete(self, station_id: str) -> None:
        with self.transaction():
            cursor = self._connect().execute(f"DELETE FROM {TABLE} WHERE id = ?", (station_id,))  # noqa: S608 - constant table name
            if cursor.rowcount == 0:
                raise StationNotFoundError(station_id)
            self._local.dirty = True
            self._local.touched.add(station_id)

    def close(self) -> None:
        """Close every connection this store opened (checkpointing the write-ahead log)."""
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()
