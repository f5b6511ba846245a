"""The PostGIS store's change feed: one ``LISTEN`` connection per process, reconnecting.

Every committed write to a :class:`~stations.postgis.PostGISStore` sends ``NOTIFY
warmheart_<schema>, '<revision>'`` inside its transaction, so PostgreSQL delivers it only
once the write is visible. :class:`ChangeFeed` listens on a connection of its own and keeps
the store's in-memory revision current; after each change, and after every reconnect (the
change log then tells readers what they missed), it calls the subscribers. While it is
disconnected ``healthy`` is false and the store reads its revision from the database.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._errors import StoreUnavailableError

if TYPE_CHECKING:
    import psycopg

    from .postgis import PostGISStore

__all__ = ["HEALTH_CHECK_S", "ChangeFeed"]

logger = logging.getLogger(__name__)

#: Seconds between health checks of the LISTEN connection when no notification arrives
#: (each also re-reads the revision, covering a notification lost with a connection).
HEALTH_CHECK_S = 1.0
#: Longest wait between reconnection attempts.
MAX_BACKOFF_S = 2.0


class ChangeFeed(threading.Thread):
    """Follows a store's NOTIFY channel on a daemon thread (see the module docstring)."""

    def __init__(self, store: PostGISStore) -> None:
        super().__init__(name=f"warmheart-feed-{store.schema}", daemon=True)
        self.store = store
        self.callbacks: list[Callable[[int], None]] = []
        self.healthy = False
        self.reconnects = 0
        self._stopping = threading.Event()
        self._delivered: int | None = None

    def stop(self, timeout: float = 2 * HEALTH_CHECK_S) -> None:
        """Ask the thread to end and wait for it (at most ``timeout`` seconds)."""
        self._stopping.set()
        self.healthy = False
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def run(self) -> None:

        backoff = 0.05
        while not self._stopping.is_set():
            conn = None
            try:
                conn = self.store.connect()
                self._listen(conn)
                backoff = 0.05
            except Exception as exc:  # any failure: reconnect and keep following
                if self._stopping.is_set():
                    break
                if self.healthy:
                    logger.warning("Change feed of %s lost: %s", self.store.location, exc)
                self.healthy = False
            finally:
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.close()
            if not self._stopping.is_set():
                self._stopping.wait(backoff)
                backoff = min(MAX_BACKOFF_S, backoff * 2)
                self.reconnects += 1

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        from psycopg import sql

        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.store.channel)))
        self._advance(self._stored_revision(conn), stored=True)  # catch up once listening
        if not self.healthy:
            logger.info("Following the change feed of %s", self.store.location)
        self.healthy = True
        while not self._stopping.is_set():
            for note in conn.notifies(timeout=HEALTH_CHECK_S):
                if self._stopping.is_set():
                    return
                with contextlib.suppress(ValueError):
                    self._advance(int(note.payload))
            self._advance(self._stored_revision(conn), stored=True)

    def _stored_revision(self, conn: psycopg.Connection[Any]) -> int:
        """The revision in the table; a value below the known one is read twice, 50 ms
        apart, so that a read racing one of this process's own commits is not taken for a
        registry that went back."""
        revision = self.store.fetch_revision(conn)
        if revision < self.store._known:
            time.sleep(0.05)
            revision = self.store.fetch_revision(conn)
        return revision

    def _advance(self, revision: int, *, stored: bool = False) -> None:
        """Take ``revision`` (``stored``: read from the table, which is authoritative) and
        call the subscribers if the store's revision is not the one they last got."""
        self.store._note(revision, stored=stored)
        current = self.store._known
        if current == self._delivered:
            return
        self._delivered = current
        for callback in list(self.callbacks):
            started = time.perf_counter()
            try:
                callback(current)
            except StoreUnavailableError as exc:  # the database went away meanwhile
                logger.warning("Change feed: catching up with revision %d failed: %s", current, exc)
                self._delivered = None  # deliver again at the next check
            except Exception:  # a subscriber's failure must not stop the feed
                logger.exception("Change-feed subscriber failed at revision %d", current)
                self._delivered = None
            logger.debug("Subscriber took %.3f s", time.perf_counter() - started)
