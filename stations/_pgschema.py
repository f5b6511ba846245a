"""The PostGIS store's schema, connection URL handling and row conversion.

Kept apart from :mod:`stations.postgis` (transactions, change log, change feed) so each
module stays one job. Every statement here is a constant or built with
:mod:`psycopg.sql` identifiers; values always travel as parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ._errors import StationValueError
from .model import Station

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "COLUMNS",
    "SCHEMA_VERSION",
    "StoreURL",
    "create_schema",
    "is_database_url",
    "parse_store_url",
    "row_values",
    "statements",
    "station_from_row",
]

#: Bumped when the tables change shape; a store refuses a schema of another version.
SCHEMA_VERSION = 1
DEFAULT_SCHEMA = "warmheart"
_SCHEMES = ("postgresql", "postgres")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")

#: Attribute columns in :data:`stations.model.RECORD_FIELDS` order, lon/lat as ``geom``.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", 'text COLLATE "C" PRIMARY KEY'),
    ("kind", "text NOT NULL"),
    ("name", "text NOT NULL"),
    ("names", "jsonb"),
    ("address", "text"),
    ("host_type", "text"),
    ("amenities", "text[] NOT NULL DEFAULT '{}'"),
    ("opening_hours", "text"),
    ("access", "text NOT NULL"),
    ("capacity", "integer"),
    ("certification", "text"),
    ("seven_have", "text[] NOT NULL DEFAULT '{}'"),
    ("contact", "text"),
    ("notes", "text"),
    ("source", "text"),
    ("updated_at", "timestamptz"),
    ("geom", "geometry(Point, 4326) NOT NULL"),
)
NAMES = tuple(c for c, _ in COLUMNS)
#: What reads select (``geom`` as exact float8 x/y).
SELECT_LIST = ", ".join(f'"{c}"' for c in NAMES if c != "geom") + ", ST_X(geom), ST_Y(geom)"
#: The fields of a selected row, as :meth:`Station._trusted` names them.
_ROW_FIELDS = (*(c for c in NAMES if c != "geom"), "lon", "lat")


def is_database_url(target: object) -> bool:
    """Whether ``target`` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(target, str) and target.split("://", 1)[0].lower() in _SCHEMES


@dataclass(frozen=True)
class StoreURL:
    """A parsed store URL: what to connect with, which schema, and a printable form."""

    conninfo: str
    schema: str
    redacted: str
    password: str | None

    def scrub(self, text: str) -> str:
        """``text`` with the password (plain or URL-quoted) replaced by ``***``."""
        if self.password:
            for secret in {self.password, quote(self.password, safe="")}:
                text = text.replace(secret, "***")
        return text


def parse_store_url(url: str) -> StoreURL:
    """Split ``postgresql://user:password@host:port/db?schema=NAME&...`` for connecting.

    ``schema`` (default ``warmheart``) names the PostgreSQL schema holding the tables, so
    one database can hold several registries (one per city); other query parameters go to
    libpq as they are (``sslmode``, ``connect_timeout``, ``application_name``, ...).
    """
    if not is_database_url(url):
        msg = f"Expected a postgresql:// URL, got {url.split('://', 1)[0]!r}:// ..."
        raise StationValueError(msg, field="store")
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    schema = DEFAULT_SCHEMA
    rest = []
    for key, value in params:
        if key == "schema":
            schema = value
        else:
            rest.append((key, value))
    if not _IDENT.match(schema):
        msg = (
            "Expected the store URL's schema as lowercase letters, digits and _ "
            f"(at most 41, not starting with a digit), got {schema!r}"
        )
        raise StationValueError(msg, field="store")
    password = parts.password
    netloc = parts.netloc
    if password is not None:
        user_info, host = netloc.rsplit("@", 1)
        netloc = f"{user_info.split(':', 1)[0]}:***@{host}"
    query = urlencode(rest)
    conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, query, ""))
    redacted = urlunsplit(("postgresql", netloc, parts.path, urlencode(params), ""))
    return StoreURL(conninfo=conninfo, schema=schema, redacted=redacted, password=password)


def create_schema(conn: psycopg.Connection[Any], schema: str) -> None:
    """Create the store's tables in ``schema`` if missing (inside the caller's transaction).

    - ``stations``: one row per station, ``geom`` a 2-D point in EPSG:4326 with a GiST index;
      lists as ``text[]``, name variants as ``jsonb``.
    - ``store_state``: one row, the revision counter (its row lock serialises writers).
    - ``station_changes``: the change log, one row per committed write (the ids it touched,
      ``NULL`` when too many to list).
    """
    from psycopg import sql

    s = sql.Identifier(schema)
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))  # kinds are constants
        for name, kind in COLUMNS
    )
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(s))
    conn.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {}.stations ({})").format(s, columns))
    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS stations_geom_gist ON {}.stations USING gist (geom)"
        ).format(s)
    )
    conn.execute(
        sql.SQL(
            "CREATE INDEX IF NOT EXISTS stations_geog_gist ON {}.stations "
            "USING gist ((geom::geography))"
        ).format(s)
    )
    conn.execute(
        sql.SQL("CREATE INDEX IF NOT EXISTS stations_kind ON {}.stations (kind)").format(s)
    )
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.store_state (one boolean PRIMARY KEY DEFAULT true "
            "CHECK (one), revision bigint NOT NULL, schema_version integer NOT NULL)"
        ).format(s)
    )
    conn.execute(
        sql.SQL(
            "INSERT INTO {}.store_state (revision, schema_version) VALUES (0, %s) "
            "ON CONFLICT (one) DO NOTHING"
        ).format(s),
        (SCHEMA_VERSION,),
    )
    conn.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {}.station_changes (revision bigint PRIMARY KEY, "
            "ids text[], at timestamptz NOT NULL DEFAULT now())"
        ).format(s)
    )


def row_values(station: Station) -> tuple[Any, ...]:
    """The column values of ``station`` in :data:`COLUMNS` order (``geom`` as EWKT)."""
    from psycopg.types.json import Jsonb

    return (
        station.id,
        station.kind,
        station.name,
        Jsonb(dict(station.names)) if station.names else None,
        station.address,
        station.host_type,
        sorted(station.amenities),
        station.opening_hours,
        station.access,
        station.capacity,
        station.certification,
        sorted(station.seven_have),
        station.contact,
        station.notes,
        station.source,
        station.updated_at,
        f"SRID=4326;POINT({station.lon!r} {station.lat!r})",  # repr: exact round trip
    )


def station_from_row(row: tuple[Any, ...]) -> Station:
    """A row selected with :data:`SELECT_LIST` as a :class:`Station` (trusted: we wrote it)."""
    values = dict(zip(_ROW_FIELDS, row, strict=True))
    names, stamp = values["names"], values["updated_at"]
    values["names"] = dict(sorted(names.items())) if names else None
    values["updated_at"] = stamp.isoformat() if stamp is not None else None
    return Station._trusted(**values)


def statements(schema: str) -> dict[str, Any]:
    """Every statement of the store, composed once with the schema as an identifier."""
    from psycopg import sql

    s = sql.Identifier(schema)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in NAMES)
    marks = sql.SQL(", ").join(
        [sql.Placeholder()] * (len(NAMES) - 1) + [sql.SQL("ST_GeomFromEWKT(%s)")]
    )
    sets = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(
            sql.Identifier(c),
            sql.SQL("ST_GeomFromEWKT(%s)") if c == "geom" else sql.Placeholder(),
        )
        for c in NAMES[1:]
    )
    select = sql.SQL("SELECT {} FROM {}.stations").format(sql.SQL(SELECT_LIST), s)
    return {
        "select": select,
        "select_all": sql.SQL('{} ORDER BY id COLLATE "C"').format(select),
        "select_id": sql.SQL("{} WHERE id = %s").format(select),
        "select_ids": sql.SQL('{} WHERE id = ANY(%s) ORDER BY id COLLATE "C"').format(select),
        "exists": sql.SQL("SELECT 1 FROM {}.stations WHERE id = %s").format(s),
        "existing": sql.SQL("SELECT id FROM {}.stations WHERE id = ANY(%s)").format(s),
        "count": sql.SQL("SELECT count(*) FROM {}.stations").format(s),
        "insert": sql.SQL("INSERT INTO {}.stations ({}) VALUES ({})").format(s, cols, marks),
        "copy": sql.SQL("COPY {}.stations ({}) FROM STDIN").format(s, cols),
        "update": sql.SQL("UPDATE {}.stations SET {} WHERE id = %s").format(s, sets),
        "delete": sql.SQL("DELETE FROM {}.stations WHERE id = %s").format(s),
        "lock": sql.SQL("SELECT revision FROM {}.store_state FOR UPDATE").format(s),
        "revision": sql.SQL("SELECT revision FROM {}.store_state").format(s),
        "bump": sql.SQL(
            "UPDATE {}.store_state SET revision = revision + 1 RETURNING revision"
        ).format(s),
        "log": sql.SQL("INSERT INTO {}.station_changes (revision, ids) VALUES (%s, %s)").format(s),
        "prune": sql.SQL("DELETE FROM {}.station_changes WHERE revision <= %s").format(s),
        "closest": sql.SQL(
            "SELECT {}, ST_Distance(geom::geography, "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, false) AS d FROM {}.stations "
            "WHERE (%s::text[] IS NULL OR kind = ANY(%s)) ORDER BY geom::geography <-> "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography LIMIT %s"
        ).format(sql.SQL(SELECT_LIST), s),
        "within": sql.SQL(
            "WITH q AS (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography AS p) "
            "SELECT {}, ST_Distance(geom::geography, q.p, false) AS d FROM {}.stations, q "
            "WHERE (%s::text[] IS NULL OR kind = ANY(%s)) AND "
            "ST_DWithin(geom::geography, q.p, %s, false) "
            'ORDER BY d, id COLLATE "C" LIMIT %s'
        ).format(sql.SQL(SELECT_LIST), s),
        "since": sql.SQL(
            "SELECT revision, ids FROM {}.station_changes WHERE revision > %s ORDER BY revision"
        ).format(s),
    }
