"""GeoPackage 1.2 plumbing on plain sqlite3: schema, point geometry blobs, spatial index.

Only what the station store needs: one point feature table in EPSG:4326 with the standard
``gpkg_rtree_index`` extension. The R-tree is kept up to date by the triggers the GeoPackage
specification prescribes; they call ``ST_IsEmpty``/``ST_MinX``/... which GDAL provides and
:func:`register_functions` provides for our own connections.
"""

from __future__ import annotations

import math
import sqlite3
import struct
from collections.abc import Callable

__all__ = [
    "APPLICATION_ID",
    "USER_VERSION",
    "create_feature_table",
    "create_gpkg_tables",
    "decode_point",
    "encode_point",
    "register_functions",
]

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10200  # GeoPackage 1.2.0
SRS_ID = 4326
_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
# Header: magic "GP", version 0, flags (little-endian, no envelope), srs_id; then WKB Point.
_HEADER = struct.Struct("<2sBBi")
_WKB_POINT = struct.Struct("<BIdd")
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def encode_point(lon: float, lat: float, srs_id: int = SRS_ID) -> bytes:
    """GeoPackage binary of a 2-D point (little-endian, no envelope, as the spec allows)."""
    return _HEADER.pack(b"GP", 0, 0b00000001, srs_id) + _WKB_POINT.pack(1, 1, lon, lat)


def decode_point(blob: bytes) -> tuple[float, float]:
    """``(x, y)`` of a GeoPackage binary point; ``(nan, nan)`` for an empty point.

    Raises
    ------
    ValueError
        The blob is not a GeoPackage point.
    """
    if len(blob) < 8 or blob[:2] != b"GP":
        msg = f"Expected a GeoPackage geometry blob starting with b'GP', got {bytes(blob[:8])!r}"
        raise ValueError(msg)
    flags = blob[3]  # bit 0: byte order of srs_id (not needed here), bits 1-3: envelope
    envelope = _ENVELOPE_BYTES.get((flags >> 1) & 0b111)
    if envelope is None:
        msg = f"Expected a GeoPackage envelope indicator 0-4, got {(flags >> 1) & 0b111}"
        raise ValueError(msg)
    if flags & 0b00010000:  # empty geometry flag
        return math.nan, math.nan
    wkb = blob[8 + envelope :]
    order = "<" if wkb[0] == 1 else ">"
    (gtype,) = struct.unpack_from(order + "I", wkb, 1)
    if gtype % 1000 != 1 and gtype & 0xFFFF != 1:
        msg = f"Expected a WKB Point (type 1), got geometry type {gtype}"
        raise ValueError(msg)
    x, y = struct.unpack_from(order + "dd", wkb, 5)
    return x, y


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    x, _ = decode_point(blob)
    return int(math.isnan(x))


def _coord(i: int) -> Callable[[bytes | None], float | None]:
    def get(blob: bytes | None) -> float | None:
        return None if blob is None else decode_point(blob)[i]

    return get


def register_functions(conn: sqlite3.Connection) -> None:
    """Provide the ``ST_*`` functions the standard R-tree triggers call."""
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    for name, i in (("ST_MinX", 0), ("ST_MaxX", 0), ("ST_MinY", 1), ("ST_MaxY", 1)):
        conn.create_function(name, 1, _coord(i), deterministic=True)


def _split(script: str) -> list[str]:
    """Split a script into statements, keeping trigger bodies (BEGIN ... END;) whole."""
    statements: list[str] = []
    current: list[str] = []
    depth = 0
    for line in script.strip().splitlines():
        stripped = line.strip()
        if not stripped:
            continue
        current.append(line)
        if stripped == "BEGIN":
            depth += 1
        if stripped.endswith(";") and (depth == 0 or stripped == "END;"):
            if stripped == "END;":
                depth -= 1
            if depth == 0:
                statements.append("\n".join(current))
                current = []
    if current:
        statements.append("\n".join(current))
    return statements


def create_gpkg_tables(conn: sqlite3.Connection) -> None:
    """Create the mandatory GeoPackage metadata tables (inside the caller's transaction)."""
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {USER_VERSION}")
    # One statement per execute(): executescript() would COMMIT the caller's transaction.
    for statement in _split(
        """
        CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
            srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
            organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
            description TEXT);
        CREATE TABLE IF NOT EXISTS gpkg_contents (
            table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
            identifier TEXT UNIQUE, description TEXT DEFAULT '',
            last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
            CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id)
                REFERENCES gpkg_spatial_ref_sys(srs_id));
        CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL,
            z TINYINT NOT NULL, m TINYINT NOT NULL,
            CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
            CONSTRAINT uk_gc_table_name UNIQUE (table_name),
            CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
            CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id)
                REFERENCES gpkg_spatial_ref_sys (srs_id));
        CREATE TABLE IF NOT EXISTS gpkg_extensions (
            table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
            definition TEXT NOT NULL, scope TEXT NOT NULL,
            CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
        """
    ):
        conn.execute(statement)
    conn.executemany(
        "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
            ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
            ("WGS 84 geodetic", SRS_ID, "EPSG", 4326, _WGS84_WKT, "longitude/latitude WGS 84"),
        ],
    )


#: ``md_standard_uri`` of the metadata row holding the store's revision counter.
REVISION_URI = "https://github.com/warmheart/warmheart#store-revision"


def create_revision_metadata(conn: sqlite3.Connection, table: str) -> None:
    """Add the ``gpkg_metadata`` row holding a write counter for ``table`` (if missing).

    The counter lives in the standard metadata extension (JSON ``{"revision": N}``) so that
    GIS tools see no extra layer.
    """
    for statement in _split(
        """
        CREATE TABLE IF NOT EXISTS gpkg_metadata (
            id INTEGER CONSTRAINT m_pk PRIMARY KEY ASC NOT NULL,
            md_scope TEXT NOT NULL DEFAULT 'dataset',
            md_standard_uri TEXT NOT NULL,
            mime_type TEXT NOT NULL DEFAULT 'text/xml',
            metadata TEXT NOT NULL DEFAULT '');
        CREATE TABLE IF NOT EXISTS gpkg_metadata_reference (
            reference_scope TEXT NOT NULL, table_name TEXT, column_name TEXT,
            row_id_value INTEGER,
            timestamp DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
            md_file_id INTEGER NOT NULL, md_parent_id INTEGER,
            CONSTRAINT crmr_mfi_fk FOREIGN KEY (md_file_id) REFERENCES gpkg_metadata(id),
            CONSTRAINT crmr_mpi_fk FOREIGN KEY (md_parent_id) REFERENCES gpkg_metadata(id));
        """
    ):
        conn.execute(statement)
    for name in ("gpkg_metadata", "gpkg_metadata_reference"):
        conn.execute(
            "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, NULL, 'gpkg_metadata', "
            "'http://www.geopackage.org/spec120/#extension_metadata', 'read-write')",
            (name,),
        )
    row = conn.execute(
        "SELECT id FROM gpkg_metadata WHERE md_standard_uri = ?", (REVISION_URI,)
    ).fetchone()
    if row is None:
        cursor = conn.execute(
            "INSERT INTO gpkg_metadata (md_scope, md_standard_uri, mime_type, metadata) "
            "VALUES ('dataset', ?, 'application/json', '{\"revision\": 0}')",
            (REVISION_URI,),
        )
        conn.execute(
            "INSERT INTO gpkg_metadata_reference (reference_scope, table_name, md_file_id) "
            "VALUES ('table', ?, ?)",
            (table, cursor.lastrowid),
        )


def create_feature_table(
    conn: sqlite3.Connection,
    table: str,
    columns: list[tuple[str, str]],
    *,
    geometry: str = "geom",
    description: str = "",
) -> None:
    """Create a point feature table with an R-tree spatial index and register it.

    ``columns`` are ``(name, sqlite type)`` pairs besides ``fid`` and the geometry.
    """
    cols = ",\n".join(f'"{name}" {kind}' for name, kind in columns)
    rtree = f"rtree_{table}_{geometry}"
    for statement in _split(  # names are the caller's constants, never user input
        f"""
        CREATE TABLE "{table}" (
            fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            "{geometry}" POINT,
            {cols});
        CREATE VIRTUAL TABLE "{rtree}" USING rtree(id, minx, maxx, miny, maxy);
        CREATE TRIGGER "{rtree}_insert" AFTER INSERT ON "{table}"
          WHEN (new."{geometry}" NOT NULL AND NOT ST_IsEmpty(NEW."{geometry}"))
        BEGIN
          INSERT OR REPLACE INTO "{rtree}" VALUES (NEW.fid,
            ST_MinX(NEW."{geometry}"), ST_MaxX(NEW."{geometry}"),
            ST_MinY(NEW."{geometry}"), ST_MaxY(NEW."{geometry}"));
        END;
        CREATE TRIGGER "{rtree}_update1" AFTER UPDATE OF "{geometry}" ON "{table}"
          WHEN OLD.fid = NEW.fid AND
               (NEW."{geometry}" NOTNULL AND NOT ST_IsEmpty(NEW."{geometry}"))
        BEGIN
          INSERT OR REPLACE INTO "{rtree}" VALUES (NEW.fid,
            ST_MinX(NEW."{geometry}"), ST_MaxX(NEW."{geometry}"),
            ST_MinY(NEW."{geometry}"), ST_MaxY(NEW."{geometry}"));
        END;
        CREATE TRIGGER "{rtree}_update2" AFTER UPDATE OF "{geometry}" ON "{table}"
          WHEN OLD.fid = NEW.fid AND (NEW."{geometry}" ISNULL OR ST_IsEmpty(NEW."{geometry}"))
        BEGIN
          DELETE FROM "{rtree}" WHERE id = OLD.fid;
        END;
        CREATE TRIGGER "{rtree}_update3" AFTER UPDATE ON "{table}"
          WHEN OLD.fid != NEW.fid AND
               (NEW."{geometry}" NOTNULL AND NOT ST_IsEmpty(NEW."{geometry}"))
        BEGIN
          DELETE FROM "{rtree}" WHERE id = OLD.fid;
          INSERT OR REPLACE INTO "{rtree}" VALUES (NEW.fid,
            ST_MinX(NEW."{geometry}"), ST_MaxX(NEW."{geometry}"),
            ST_MinY(NEW."{geometry}"), ST_MaxY(NEW."{geometry}"));
        END;
        CREATE TRIGGER "{rtree}_update4" AFTER UPDATE ON "{table}"
          WHEN OLD.fid != NEW.fid AND (NEW."{geometry}" ISNULL OR ST_IsEmpty(NEW."{geometry}"))
        BEGIN
          DELETE FROM "{rtree}" WHERE id IN (OLD.fid, NEW.fid);
        END;
        CREATE TRIGGER "{rtree}_delete" AFTER DELETE ON "{table}"
          WHEN old."{geometry}" NOT NULL
        BEGIN
          DELETE FROM "{rtree}" WHERE id = OLD.fid;
        END;
        """  # noqa: S608
    ):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) "
        "VALUES (?, 'features', ?, ?, ?)",
        (table, table, description, SRS_ID),
    )
    conn.execute(
        "INSERT INTO gpkg_geometry_columns VALUES (?, ?, 'POINT', ?, 0, 0)",
        (table, geometry, SRS_ID),
    )
    conn.execute(
        "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (table, geometry),
    )
