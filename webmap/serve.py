"""``warmheart serve``: the app under waitress, a production WSGI server.

Flask's own server is for development only (single process, no request buffering, no
protection against slow clients); waitress is pure Python, multi-threaded and runs the same
on Linux, macOS and Windows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer

from routing._errors import WarmheartError
from stations.cli import StoreParam

__all__ = ["QuietWriteChannel", "run_server", "serve_command", "server_urls"]

logger = logging.getLogger(__name__)


class _WakingLock:
    """The re-entrant mutex of a channel's output lock; a worker freeing it with bytes unsent
    wakes the loop.

    While a worker holds this lock the channel is not polled for writing, so every full
    release by a worker that leaves output behind (end of ``write_soon``, or
    ``Condition.wait`` while the buffer drains) pulls the server's trigger: the I/O thread
    then polls the channel again, now that it can take the lock and flush. waitress nests
    acquisitions of this lock, hence an ``RLock``, and ``Condition`` uses the ``RLock``
    protocol (``_release_save``, ``_acquire_restore``, ``_is_owned``) when present.
    """

    def __init__(self, channel: QuietWriteChannel) -> None:
        self._lock = threading.RLock()
        self._channel = channel
        self._depth = 0  # nesting depth of the holder; 0 when free

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if not self._lock.acquire(blocking, timeout):
            return False
        self._depth += 1
        return True

    def release(self) -> None:
        self._depth -= 1
        freed = self._depth == 0
        self._lock.release()
        if freed:
            self._wake()

    def _release_save(self) -> tuple[Any, int]:
        depth, self._depth = self._depth, 0
        state = self._lock._release_save()  # type: ignore[attr-defined]
        self._wake()
        return state, depth

    def _acquire_restore(self, saved: tuple[Any, int]) -> None:
        state, depth = saved
        self._lock._acquire_restore(state)  # type: ignore[attr-defined]
        self._depth = depth

    def _is_owned(self) -> bool:
        return bool(self._lock._is_owned())  # type: ignore[attr-defined]

    def locked(self) -> bool:
        return self._depth > 0

    def _wake(self) -> None:
        channel = self._channel
        if channel.total_outbufs_len and threading.get_ident() != channel.loop_thread:
            channel.server.pull_trigger()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class QuietWriteChannel(HTTPChannel):
    """A waitress channel that does not spin its I/O thread while a worker is writing.

    waitress's channel asks to be polled for writing whenever its output buffer holds bytes.
    A worker thread appends a response to that buffer and sends it itself, holding the
    buffer's lock; if it loses the GIL in between (other workers are computing), the I/O
    thread sees a writable socket, fails to take the lock, and polls again at once, tens to
    hundreds of times per request (measured: ~27 loop passes and ~37 failed flushes per
    ``/api/nearest`` request with 32 keep-alive clients), burning CPU the workers need.
    Here the channel is not polled for writing while a worker holds the lock; a worker that
    releases it with bytes unsent wakes the loop (see :class:`_WakingLock`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Channels are made by the server's accept handler, on the I/O (loop) thread.
        self.loop_thread = threading.get_ident()
        super().__init__(*args, **kwargs)
        self._outbuf_mutex = _WakingLock(self)
        self.outbuf_lock = threading.Condition(self._outbuf_mutex)  # type: ignore[arg-type]

    def writable(self) -> bool:
        if self.requests and self._outbuf_mutex.locked():
            # Only the I/O thread calls writable(), so the holder is a worker mid-write.
            return False
        return bool(super().writable())


def use_channel(server: Any, channel_class: type[HTTPChannel] = QuietWriteChannel) -> None:
    """Make ``server`` (from ``waitress.create_server``) accept connections as ``channel_class``."""
    if isinstance(server, BaseWSGIServer):
        listeners = [server]
    else:  # MultiSocketServer: one dispatcher per listening socket, sharing one map
        listeners = [d for d in server.map.values() if isinstance(d, BaseWSGIServer)]
    for listener in listeners:
        listener.channel_class = channel_class


def server_urls(host: str, port: int) -> dict[str, str]:
    """The public pages and API entry points of a server on ``host:port``."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - display only
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    base = f"http://{shown}:{port}"
    return {
        "locator": f"{base}/",
        "planner": f"{base}/planner",
        "embed": f"{base}/embed/stations",
        "api": f"{base}/api/openapi.json",
    }


def run_server(
    config: Mapping[str, Any],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = 8,
    announce: bool = True,
) -> None:
    """Create the app with ``config`` and serve it with waitress until interrupted.

    Parameters
    ----------
    config
        Configuration overriding defaults and ``WARMHEART_*`` environment variables.
    host, port
        Where to listen (loopback by default; ``0.0.0.0`` for every interface).
    threads
        waitress worker threads.
    announce
        Print the page URLs on stdout once the app is loaded.
    """
    from waitress import create_server

    from .app import create_app

    if not 1 <= threads <= 256:
        msg = f"Expected threads in [1, 256], got {threads}"
        raise click.BadParameter(msg, param_hint="--threads")
    app = create_app(config)
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        # The app reads at most MAX_CONTENT_LENGTH; without this waitress would spool up to
        # 1 GB of a (chunked) upload to disk before the app could answer 401 or 413.
        max_request_body_size=int(app.config["MAX_CONTENT_LENGTH"]),
    )
    use_channel(server)
    bound_port = int(getattr(server, "effective_port", port))
    if announce:
        for name, url in server_urls(host, bound_port).items():
            click.echo(f"{name:>8}: {url}")
        click.echo(f"Serving with waitress ({threads} threads); Ctrl+C stops.", err=True)
    logger.info("waitress on %s:%s with %d threads", host, bound_port, threads)
    try:
        server.run()
    except KeyboardInterrupt:  # pragma: no cover - interactive stop
        click.echo("Stopped.", err=True)
    finally:
        server.close()


def config_from_options(
    *,
    area: str | None,
    store: Path | str | None,
    plan: Path | None,
    tiles: str | None = None,
    frame_ancestors: str | None = None,
) -> dict[str, Any]:
    """The ``create_app`` overrides for the command-line options that were given."""
    config: dict[str, Any] = {}
    if area:
        config["WARMHEART_AREA"] = area
    if store is not None:
        config["WARMHEART_STORE"] = str(store)
    if plan is not None:
        config["WARMHEART_PLAN_DIR"] = str(plan)
    if tiles:
        config["WARMHEART_TILES"] = tiles
    if frame_ancestors:
        config["WARMHEART_FRAME_ANCESTORS"] = frame_ancestors
    return config


@click.command("serve")
@click.option("--area", "area", required=True, help="Area name or source (e.g. helsinki).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--store",
    type=StoreParam(),
    metavar="PATH|URL",
    help="Station GeoPackage [default: $WARMHEART_HOME/stations/<area>.gpkg], or "
    "postgresql://USER:PASSWORD@HOST:PORT/DB[?schema=NAME] (also WARMHEART_STORE) for a "
    "PostGIS registry shared by several servers.",
)
@click.option(
    "--plan",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Shuttle plan directory (from 'warmheart shuttles plan --out').",
)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
@click.option(
    "--tiles", help="Tile layer: local, none, osm, amap or a URL template [default: local]."
)
@click.option(
    "--frame-ancestors",
    help="Sites that may frame /embed pages (CSP frame-ancestors) [default: *].",
)
def serve_command(
    area: str,
    host: str,
    port: int,
    store: Path | str | None,
    plan: Path | None,
    threads: int,
    tiles: str | None,
    frame_ancestors: str | None,
) -> None:
    """Serve the locator, planner, embeds and API with waitress.

    Other settings come from WARMHEART_* environment variables, e.g.
    WARMHEART_ADMIN_TOKEN (enables station writes) and WARMHEART_RATELIMIT ("600/minute").
    """
    config = config_from_options(
        area=area, store=store, plan=plan, tiles=tiles, frame_ancestors=frame_ancestors
    )
    try:
        run_server(config, host=host, port=port, threads=threads)
    except (WarmheartError, OSError) as exc:  # bad config, unknown area, port in use
        raise click.ClickException(str(exc)) from exc
