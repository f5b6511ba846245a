"""The PostGIS station store: one registry in PostgreSQL shared by every server of a city.

:class:`PostGISStore` implements the same :class:`~stations.store.StationStore` contract as
the GeoPackage store — every write one transaction, a ``revision`` counter and a change log
read by :meth:`~PostGISStore.changes_since` — on PostgreSQL + PostGIS through psycopg 3.
Each committed write also sends a ``NOTIFY`` carrying the new revision; a process that
:meth:`~PostGISStore.subscribe`\\ s (``warmheart serve`` does) keeps a ``LISTEN`` connection
open (:mod:`stations._pgfeed`), so a write through any process is seen by all of them
within milliseconds, and after a lost connection it reconnects by itself and catches up
from the change log.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import _pgschema
from ._errors import StationNotFoundError, StationValueError, StoreUnavailableError
from ._storebase import BBox, Changes, StationStore, _as_list, _taken, matches
from .model import Station

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql as sql_t

    from ._pgfeed import ChangeFeed

__all__ = ["LOG_KEEP", "LOG_MAX_IDS", "PostGISStore"]

logger = logging.getLogger(__name__)

#: Revisions the change log keeps; a reader further behind re-reads the whole store.
LOG_KEEP = 10_000
#: A write touching more stations than this is logged as "everything changed".
LOG_MAX_IDS = 1000
#: Writes of more stations than this go through ``COPY`` instead of ``INSERT``.
COPY_OVER = 200
#: Seconds a write waits for another writer's transaction before failing.
LOCK_TIMEOUT_S = 30


class PostGISStore(StationStore):
    """Stations in a PostgreSQL + PostGIS database.

    Parameters
    ----------
    url
        ``postgresql://user:password@host:port/database[?schema=NAME&sslmode=...]``. The
        tables live in ``schema`` (default ``warmheart``; one database may hold one schema per
        city) and are created on first use; the database needs the ``postgis`` extension
        (created here when the user may, else an error says how).
    connect_timeout
        Seconds to wait for the server when connecting.

    Notes
    -----
    Writers are serialised by the row lock on the revision counter (taken at the start of
    every :meth:`transaction`, like the GeoPackage store's ``BEGIN IMMEDIATE``), so revisions
    are gapless and each names exactly one committed write. Readers never wait and never see a
    write in progress. Each thread gets its own connection; a broken one is replaced on next
    use, and a read that fails on a dropped connection is retried once on a new one (a write
    is not: it fails, and was not applied unless its COMMIT reached the server). When the
    database cannot be reached, operations raise :class:`~stations.StoreUnavailableError`,
    whose message never contains the password.
    """

    def __init__(self, url: str, *, connect_timeout: float = 10.0) -> None:
        try:
            import psycopg  # noqa: F401 - fail here, with the package's name
        except ImportError as exc:  # pragma: no cover - psycopg is a dependency
            msg = "Expected psycopg 3 for a postgresql:// store: pip install 'psycopg[binary]'"
            raise StationValueError(msg, field="store") from exc
        self._url = _pgschema.parse_store_url(url)
        self.schema = self._url.schema
        self.connect_timeout = connect_timeout
        self.channel = f"warmheart_{self.schema}"
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._known = 0  # highest revision committed here or announced by the feed
        self._warned = -math.inf  # when revision last warned that the database is away
        self._feed: ChangeFeed | None = None
        self._sql = _pgschema.statements(self.schema)
        self._initialise()

    def __repr__(self) -> str:
        return f"PostGISStore({self._url.redacted!r})"

    @property
    def location(self) -> str:
        """The store URL without its password (safe to print and log)."""
        return self._url.redacted

    # -------------------------------------------------------------------- connections

    def connect(self) -> psycopg.Connection[Any]:
        """A new autocommit connection to the store's database (the caller closes it)."""
        import psycopg

        conn = None
        try:
            conn = psycopg.connect(
                self._url.conninfo,
                autocommit=True,
                connect_timeout=max(1, round(self.connect_timeout)),
                application_name="warmheart",
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
            )
            # Short OLTP statements: JIT compilation (PostgreSQL's default above a cost
            # threshold that PostGIS functions reach) costs far more than it saves here.
            conn.execute(
                "SELECT set_config('lock_timeout', %s, false), set_config('jit', 'off', false)",
                (f"{LOCK_TIMEOUT_S}s",),
            )
        except psycopg.Error as exc:  # refused, starting up, shutting down, bad password
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
            raise self._unavailable(exc) from None
        return conn

    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed and not conn.broken:
            return conn
        if conn is not None:
            self._drop(conn)
        conn = self.connect()
        self._local.conn = conn
        self._local.depth = 0
        self._local.dirty = False
        self._local.touched = set()
        with self._lock:
            self._connections.append(conn)
        return conn

    def _drop(self, conn: psycopg.Connection[Any]) -> None:
        with contextlib.suppress(Exception):
            conn.close()
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None
            self._local.depth = 0

    def _unavailable(self, exc: BaseException) -> StoreUnavailableError:
        """A password-free error saying the database did not answer and why."""
        reason = self._url.scrub(" ".join(str(exc).split()) or type(exc).__name__)
        msg = f"Expected the station database at {self._url.redacted} to answer, got: {reason}"
        return StoreUnavailableError(msg)

    def _read(self, fn: Callable[[psycopg.Connection[Any]], Any]) -> Any:
        """Run a read; on a dropped connection retry once on a new one (reads are idempotent)."""
        import psycopg

        for attempt in (0, 1):
            conn = self._conn()  # raises StoreUnavailableError itself when it cannot connect
            inside = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
            try:
                return fn(conn)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                if inside:  # a transaction's reads cannot move to a new connection
                    raise self._unavailable(exc) from None
                self._drop(conn)
                if attempt:
                    raise self._unavailable(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _initialise(self) -> None:
        import psycopg
        from psycopg import sql

        conn = self._conn()
        try:
            conn.execute("BEGIN")
            # Two processes opening a new store at once: one creates, the other waits.
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (self.channel,))
            if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
                pass
            else:
                try:
                    conn.execute("SAVEPOINT ext")
                    conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
                    conn.execute("RELEASE SAVEPOINT ext")
                except psycopg.errors.InsufficientPrivilege:
                    conn.execute("ROLLBACK")
                    msg = (
                        f"Expected the PostGIS extension in the database of {self.location}, "
                        "got none and no privilege to create it: run CREATE EXTENSION postgis "
                        "as a superuser (Debian: apt install postgresql-15-postgis-3)"
                    )
                    raise StationValueError(msg, field="store") from None
                except psycopg.errors.FeatureNotSupported as exc:
                    conn.execute("ROLLBACK")
                    msg = (
                        f"Expected PostGIS installed on the server of {self.location}: "
                        f"{self._url.scrub(str(exc))} (Debian: apt install postgresql-15-postgis-3)"
                    )
                    raise StationValueError(msg, field="store") from None
            _pgschema.create_schema(conn, self.schema)
            row = conn.execute(
                sql.SQL("SELECT revision, schema_version FROM {}.store_state").format(
                    sql.Identifier(self.schema)
                )
            ).fetchone()
            conn.execute("COMMIT")
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            self._drop(conn)
            raise self._unavailable(exc) from None
        except psycopg.Error as exc:
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")
            msg = f"Expected a warmheart station schema at {self.location}, got: {exc}"
            raise StationValueError(self._url.scrub(msg), field="store") from None
        if row is None or row[1] != _pgschema.SCHEMA_VERSION:
            msg = (
                f"Expected store schema version {_pgschema.SCHEMA_VERSION} at {self.location}, "
                f"got {None if row is None else row[1]}"
            )
            raise StationValueError(msg, field="store")
        self._known = int(row[0])

    # -------------------------------------------------------------------- transactions

    @contextlib.contextmanager
    def transaction(self) -> Iterator[PostGISStore]:
        import psycopg

        local = self._local
        depth: int = getattr(local, "depth", 0)
        if depth and getattr(local, "conn", None) is not None:
            yield from self._savepoint()
            return
        conn = self._begin()
        local.depth, local.dirty, local.touched = 1, False, set()
        revision = None
        try:
            try:
                yield self
            except (
                psycopg.OperationalError,
                psycopg.InterfaceError,
            ) as exc:  # the connection died mid-transaction
                self._drop(conn)  # the server rolls back what it had
                raise self._unavailable(exc) from None
            except BaseException:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                raise
            try:
                if local.dirty:
                    revision = self._finish_write(conn, local.touched)
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
                    self._drop(conn)
                    raise self._unavailable(exc) from None
                raise
        finally:
            local.depth, local.dirty, local.touched = 0, False, set()
        if revision is not None:
            self._note(revision)

    def _begin(self) -> psycopg.Connection[Any]:
        """BEGIN and take the writers' lock (retried once on a new connection: nothing sent)."""
        import psycopg

        for attempt in (0, 1):
            conn = self._conn()
            try:
                conn.execute("BEGIN")
                conn.execute(self._sql["lock"])
                return conn
            except psycopg.errors.LockNotAvailable as exc:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("ROLLBACK")
                msg = (
                    f"Expected to write to {self.location} within {LOCK_TIMEOUT_S} s, got "
                    f"another writer holding the lock: {exc}"
                )
                raise StoreUnavailableError(self._url.scrub(msg)) from None
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                self._drop(conn)
                if attempt:
                    raise self._unavailable(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _savepoint(self) -> Iterator[PostGISStore]:
        import psycopg

        local = self._local
        conn = local.conn
        name = f"sp{local.depth}"
        conn.execute(f"SAVEPOINT {name}")
        touched = set(local.touched)
        local.depth += 1
        try:
            yield self
        except BaseException:
            local.depth -= 1
            local.touched = touched  # what the inner block touched is undone
            with contextlib.suppress(psycopg.Error):
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        local.depth -= 1
        conn.execute(f"RELEASE SAVEPOINT {name}")

    def _finish_write(self, conn: psycopg.Connection[Any], touched: set[str]) -> int:
        """Bump the revision, log the ids, prune the log and queue the NOTIFY (all in the tx)."""
        row = conn.execute(self._sql["bump"]).fetchone()
        assert row is not None
        revision = int(row[0])
        ids = sorted(touched) if len(touched) <= LOG_MAX_IDS else None
        conn.execute(self._sql["log"], (revision, ids))
        conn.execute(self._sql["prune"], (revision - LOG_KEEP,))
        conn.execute("SELECT pg_notify(%s, %s)", (self.channel, str(revision)))
        return revision

    def _note(self, revision: int, *, stored: bool = False) -> None:
        """Remember ``revision``: the highest one told (a commit, a notification), or, when
        ``stored`` (read from the table), that one even if lower — the database is the
        authority, e.g. after a registry was restored from a backup or recreated."""
        with self._lock:
            if stored and revision < self._known:
                logger.warning(
                    "Store revision of %s went back from %d to %d (restored or recreated?)",
                    self.location,
                    self._known,
                    revision,
                )
                self._known = revision
            else:
                self._known = max(self._known, revision)

    def _wrote(self, ids: Iterable[str]) -> None:
        self._local.dirty = True
        self._local.touched.update(ids)

    # ---------------------------------------------------------------------------- reads

    @property
    def revision(self) -> int:
        """The store's revision (see the base class).

        While the change feed is connected this is answered from memory. Otherwise it is read
        from the database; when the database does not answer, the last revision seen is
        returned (with a warning at most every 10 s), so readers that follow the store — the
        locator, the web state — keep serving what they hold while the database restarts,
        and catch up from the change log when it is back. Writes and ``get``/``query`` raise
        :class:`~stations.StoreUnavailableError` meanwhile.
        """
        feed = self._feed
        if feed is not None and feed.healthy:
            return self._known  # kept current by the LISTEN connection and our own commits
        try:
            revision: int = self._read(self.fetch_revision)
        except StoreUnavailableError as exc:
            now = time.monotonic()
            if now - self._warned > 10:
                self._warned = now
                logger.warning("Serving revision %d from memory: %s", self._known, exc)
            return self._known
        self._note(revision)
        return revision

    def fetch_revision(self, conn: psycopg.Connection[Any]) -> int:
        """The revision as stored, read on ``conn``."""
        row = conn.execute(self._sql["revision"]).fetchone()
        assert row is not None
        return int(row[0])

    def changes_since(self, revision: int) -> Changes | None:
        """What changed after ``revision``, from the change log (see the base class).

        ``None`` when ``revision`` is older than the log (it keeps :data:`LOG_KEEP`
        revisions), newer than the store, or a write between touched more than
        :data:`LOG_MAX_IDS` stations.
        """
        import psycopg

        if getattr(self._local, "depth", 0):  # inside our own write: read what it sees
            return self._changes(self._local.conn, revision)

        def read(conn: psycopg.Connection[Any]) -> Changes | None:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                return self._changes(conn, revision)
            finally:
                with contextlib.suppress(psycopg.Error):
                    conn.execute("COMMIT")

        result: Changes | None = self._read(read)
        return result

    def _changes(self, conn: psycopg.Connection[Any], revision: int) -> Changes | None:
        now = self.fetch_revision(conn)
        self._note(now)
        if revision == now:
            return now, [], []
        if revision > now:
            return None
        entries = conn.execute(self._sql["since"], (revision,)).fetchall()
        if len(entries) != now - revision or any(ids is None for _, ids in entries):
            return None
        ids = sorted({sid for _, batch in entries for sid in batch})
        rows = conn.execute(self._sql["select_ids"], (ids,), binary=True).fetchall()
        changed = [_pgschema.station_from_row(r) for r in rows]
        present = {s.id for s in changed}
        return now, changed, [sid for sid in ids if sid not in present]

    def get(self, station_id: str) -> Station:
        row = self._read(
            lambda c: c.execute(self._sql["select_id"], (station_id,), binary=True).fetchone()
        )
        if row is None:
            raise StationNotFoundError(station_id)
        return _pgschema.station_from_row(row)

    def __contains__(self, station_id: object) -> bool:
        if not isinstance(station_id, str):
            return False
        sql = self._sql["exists"]
        return self._read(lambda c: c.execute(sql, (station_id,)).fetchone()) is not None

    def __len__(self) -> int:
        return int(self._read(lambda c: c.execute(self._sql["count"]).fetchone())[0])

    def all(self) -> list[Station]:
        rows = self._read(lambda c: c.execute(self._sql["select_all"], binary=True).fetchall())
        return [_pgschema.station_from_row(r) for r in rows]

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
        from psycopg import sql

        where: list[sql_t.Composable] = []
        params: list[Any] = []
        if bbox is not None:
            # && uses the GiST index (float4 boxes, rounded outwards); the x/y test is exact.
            where.append(
                sql.SQL(
                    "geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
                    "ST_X(geom) BETWEEN %s AND %s AND ST_Y(geom) BETWEEN %s AND %s"
                )
            )
            params += [*bbox, bbox[0], bbox[2], bbox[1], bbox[3]]
        if kinds is not None:
            where.append(sql.SQL("kind = ANY(%s)"))
            params.append(sorted(kinds))
        if amenities:
            where.append(sql.SQL("amenities @> %s::text[]"))
            params.append(sorted(amenities))
        query = self._sql["select"]
        if where:
            query = sql.SQL("{} WHERE {}").format(query, sql.SQL(" AND ").join(where))
        query = sql.SQL('{} ORDER BY id COLLATE "C"').format(query)
        if open_at is None and (limit is not None or offset):
            query = sql.SQL("{} LIMIT %s OFFSET %s").format(query)
            params += [limit, offset]
        rows = self._read(lambda c: c.execute(query, params, binary=True).fetchall())
        hits = [_pgschema.station_from_row(r) for r in rows]
        if open_at is None:
            return hits
        hits = [s for s in hits if matches(s, open_at=open_at)]
        return hits[offset : None if limit is None else offset + limit]

    def _closest(
        self, lon: float, lat: float, k: int, kinds: frozenset[str] | None
    ) -> list[tuple[Station, float]]:
        """KNN on the geography GiST index (sphere distances), nearest first, ties by id.

        The index orders by distance alone, so ``k + 1`` rows come from it; only when the
        last two tie (stations at the same distance) is the boundary settled exactly, by
        every station within that distance ordered by (distance, id).
        """
        kind_list = sorted(kinds) if kinds is not None else None
        args = (lon, lat, kind_list, kind_list, lon, lat, k + 1)
        rows = self._read(lambda c: c.execute(self._sql["closest"], args, binary=True).fetchall())
        if len(rows) > k and rows[k][-1] == rows[k - 1][-1]:
            within = (lon, lat, kind_list, kind_list, rows[k][-1], k)
            rows = self._read(
                lambda c: c.execute(self._sql["within"], within, binary=True).fetchall()
            )
        rows = sorted(rows, key=lambda r: (r[-1], r[0].encode()))[:k]
        return [(_pgschema.station_from_row(r[:-1]), float(r[-1])) for r in rows]

    # --------------------------------------------------------------------------- writes

    def add(self, stations: Station | Iterable[Station]) -> int:
        items = _as_list(stations)
        if not items:
            return 0
        with self.transaction():
            conn = self._local.conn
            ids = [s.id for s in items]
            taken = self._existing(ids)
            if taken:
                raise _taken(sorted(taken))
            if len(items) > COPY_OVER:
                with conn.cursor().copy(self._sql["copy"]) as copy:
                    for s in items:
                        copy.write_row(_pgschema.row_values(s))
            else:
                conn.cursor().executemany(
                    self._sql["insert"], [_pgschema.row_values(s) for s in items]
                )
            self._wrote(ids)
        return len(items)

    def upsert(self, stations: Station | Iterable[Station]) -> tuple[int, int]:
        items = _as_list(stations)
        with self.transaction():
            taken = set(self._existing([s.id for s in items]))
            old = [s for s in items if s.id in taken]
            new = [s for s in items if s.id not in taken]
            if old:
                rows = [_pgschema.row_values(s) for s in old]
                self._local.conn.cursor().executemany(
                    self._sql["update"], [(*r[1:], r[0]) for r in rows]
                )
                self._wrote(s.id for s in old)
            if new:
                self.add(new)
        return len(new), len(old)

    def _existing(self, ids: list[str]) -> list[str]:
        rows = self._local.conn.execute(self._sql["existing"], (ids,)).fetchall()
        return [r[0] for r in rows]

    def update(self, station: Station) -> None:
        if not isinstance(station, Station):
            msg = f"Expected a Station, got {type(station).__name__}"
            raise TypeError(msg)
        with self.transaction():
            row = _pgschema.row_values(station)
            cursor = self._local.conn.execute(self._sql["update"], (*row[1:], row[0]))
            if cursor.rowcount == 0:
                raise StationNotFoundError(station.id)
            self._wrote([station.id])

    def delete(self, station_id: str) -> None:
        with self.transaction():
            cursor = self._local.conn.execute(self._sql["delete"], (station_id,))
            if cursor.rowcount == 0:
                raise StationNotFoundError(station_id)
            self._wrote([station_id])

    # ---------------------------------------------------------------------- change feed

    def subscribe(self, callback: Callable[[int], None] | None = None) -> None:
        """Follow the database's change feed; call ``callback(revision)`` after each change.

        Starts (once) a thread holding a ``LISTEN`` connection: ``revision`` is then read
        from memory instead of the database, and ``callback`` runs on that thread whenever
        another process (or this one) commits, and after every reconnect (so a reader can
        catch up from the change log). While the feed is down, ``revision`` asks the
        database again, so readers are never left behind silently.
        """
        from ._pgfeed import ChangeFeed

        with self._lock:
            if self._feed is None:
                self._feed = ChangeFeed(self)
                self._feed.start()
            if callback is not None:
                self._feed.callbacks.append(callback)

    @property
    def following(self) -> bool:
        """Whether the change feed is connected (``revision`` is then answered from memory)."""
        return self._feed is not None and self._feed.healthy

    def close(self) -> None:
        """Stop the change feed and close every connection this store opened."""
        feed, self._feed = self._feed, None
        if feed is not None:
            feed.stop()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(Exception):
                    conn.close()
            self._connections.clear()
        self._local = threading.local()
