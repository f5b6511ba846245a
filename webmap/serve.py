"""``warmheart serve``: the app under waitress, a production WSGI server.

Flask's own server is for development only (single process, no request buffering, no
protection against slow clients); waitress is pure Python, multi-threaded and runs the same
on Linux, macOS and Windows.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from routing._errors import WarmheartError
from stations.cli import StoreParam

__all__ = [
    "CHANNEL_REQUEST_LOOKAHEAD",
    "SWITCH_INTERVAL_S",
    "run_server",
    "serve_command",
    "server_options",
    "server_urls",
]

logger = logging.getLogger(__name__)


#: waitress's ``channel_request_lookahead``: requests read ahead on a keep-alive connection
#: while a worker answers the previous one. With the default (0) waitress's I/O thread could
#: spin while a worker wrote a response on an otherwise idle machine; this public option
#: stopped it in the API benchmark as well as the channel subclass that used to do it
#: (``benchmarks/bench_api.py`` compares both with waitress's defaults).
CHANNEL_REQUEST_LOOKAHEAD = 4
#: ``sys.setswitchinterval`` of a serving process (CPython's default is 5 ms).
SWITCH_INTERVAL_S = 0.001


def server_options(*, threads: int) -> dict[str, Any]:
    """The waitress settings ``warmheart serve`` runs with (besides host and port).

    ``asyncore_use_poll``: waitress's I/O loop watches its sockets with ``poll()``, not
    ``select()``, which cannot watch a descriptor numbered 1024 or more — a process that has
    memory-mapped an area's files (one descriptor each) and holds many connections gets
    there, and ``select()`` then fails every connection.
    """
    return {
        "threads": threads,
        "channel_request_lookahead": CHANNEL_REQUEST_LOOKAHEAD,
        "asyncore_use_poll": True,
    }


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
    from .planner_api import UPLOAD_MAX_BYTES

    if not 1 <= threads <= 256:
        msg = f"Expected threads in [1, 256], got {threads}"
        raise click.BadParameter(msg, param_hint="--threads")
    app = create_app(config)
    # A cheap request waiting for the GIL behind an expensive one (a tile being drawn, an
    # isochrone) waits a switch interval per hand-over: 1 ms instead of CPython's 5 ms.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    server = create_server(
        app,
        host=host,
        port=port,
        # The app reads at most MAX_CONTENT_LENGTH (the planner's uploads UPLOAD_MAX_BYTES);
        # without this waitress would spool up to 1 GB of a (chunked) upload to disk before
        # the app could answer 401 or 413.
        max_request_body_size=max(int(app.config["MAX_CONTENT_LENGTH"]), UPLOAD_MAX_BYTES),
        **server_options(threads=threads),
    )
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
