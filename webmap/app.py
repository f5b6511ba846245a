"""The Flask application factory.

``create_app(test_config=None)`` reads configuration (:mod:`webmap.config`) in three
layers — built-in defaults, then ``WARMHEART_*`` environment variables, then the
``test_config`` mapping — loads the Area, the station store, the locator and the shuttle
plan once into ``app.extensions["warmheart"]`` (a :class:`~webmap.state.WarmheartState`),
and registers the pages, the JSON API and oEmbed. Every 4xx/5xx answer is JSON::

    {"error": {"status": 404, "message": "..."}}

The configuration keys are declared once, in :class:`webmap.config.WebSettings`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request

from .config import load_config

__all__ = ["create_app", "load_config"]

logger = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the warmheart Flask app.

    Parameters
    ----------
    test_config
        Configuration overriding defaults and environment, e.g.
        ``{"TESTING": True, "WARMHEART_AREA": area, "WARMHEART_STORE": path}``.

    Returns
    -------
    Flask
        The app, with its :class:`~webmap.state.WarmheartState` in
        ``app.extensions["warmheart"]``.
    """
    from . import api, oembed, planner_api, planning
    from . import pages as pages_module
    from ._json import OrjsonProvider
    from .budget import init_budget
    from .errors import register_error_handlers
    from .ratelimit import init_limiter
    from .state import WarmheartState

    app = Flask(__name__, static_folder=None)
    app.json = OrjsonProvider(app)
    app.config.update(load_config(test_config))
    _configure_logging(app)

    app.config["WARMHEART_TILE_SOURCE"] = tile_source(app.config["WARMHEART_TILES"])
    app.extensions["warmheart"] = WarmheartState.from_config(app.config)
    app.extensions["warmheart_limiter"] = init_limiter(app)
    init_budget(app)

    app.register_blueprint(pages_module.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(planner_api.bp)
    app.register_blueprint(oembed.bp)
    app.register_blueprint(planning.bp)

    register_error_handlers(app)
    app.after_request(_add_headers)
    proxies = int(app.config["WARMHEART_TRUSTED_PROXIES"])
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    return app


def _configure_logging(app: Flask) -> None:
    """Give the package logger a handler unless the CLI (or the host app) already did."""
    root = logging.getLogger()
    package = logging.getLogger("webmap")
    if not root.handlers and not package.handlers and not app.testing:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        package.addHandler(handler)
        package.setLevel(logging.INFO)


# ---------------------------------------------------------------------------------- headers


def tile_source(tiles: Any) -> str:
    """The CSP source of the configured tile provider ('' when tiles are off).

    The value is resolved by the map builders (:func:`webmap.maps.resolve_tiles`: preset
    names, URL templates, mappings), so a bad value fails at start, not per request.
    """
    from .maps import resolve_tiles

    config = resolve_tiles(tiles)
    if config is None:
        return ""
    parts = urlsplit(config.url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    host = parts.netloc
    if "{" in host:  # {s}.tile.example.org -> *.tile.example.org
        host = "*" + host[host.index("}") + 1 :]
    return f"{parts.scheme}://{host}"


def content_security_policy(config: Mapping[str, Any], path: str) -> str:
    """The ``Content-Security-Policy`` of a response to ``path``.

    Pages may load scripts, styles, fonts and images from the app itself only (plus the tile
    host), which keeps them working offline and in mainland China; Folium's generated map
    code is inline, hence ``'unsafe-inline'`` for scripts and styles. JSON answers get
    ``default-src 'none'``. ``frame-ancestors`` is the configured value on ``/embed/...``
    and ``'self'`` elsewhere.
    """
    if path.startswith("/embed"):
        ancestors = config["WARMHEART_FRAME_ANCESTORS"]
    elif path.startswith(("/api", "/oembed")):
        ancestors = "'none'"
    else:
        ancestors = "'self'"
    if path.startswith(("/api", "/oembed")):
        return f"default-src 'none'; frame-ancestors {ancestors}"
    tiles = config.get("WARMHEART_TILE_SOURCE")
    if tiles is None:
        tiles = tile_source(config.get("WARMHEART_TILES"))
    img = f"'self' data: blob: {tiles}".strip()
    return (
        "default-src 'self'; "
        "script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src {img}; "
        "font-src 'self' data:; "
        "connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; "
        f"frame-ancestors {ancestors}"
    )


def _add_headers(response: Response) -> Response:
    """Security and cache headers on every response."""
    from flask import current_app

    config = current_app.config
    path = request.path
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Content-Security-Policy", content_security_policy(config, path))
    if not path.startswith("/embed"):
        headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    if "Cache-Control" not in headers:
        if response.status_code >= 400 or request.method not in ("GET", "HEAD"):
            headers["Cache-Control"] = "no-store"
        elif path.startswith("/embed"):
            headers["Cache-Control"] = f"public, max-age={config['WARMHEART_EMBED_MAX_AGE']}"
        elif path.startswith("/assets"):
            headers["Cache-Control"] = f"public, max-age={config['WARMHEART_STATIC_MAX_AGE']}"
        elif path == "/api/openapi.json":
            headers["Cache-Control"] = "public, max-age=3600"
        elif path.startswith("/api"):
            headers["Cache-Control"] = "no-cache"
    if path.startswith("/api/") and request.method in ("GET", "HEAD"):
        # Public, credential-free reads: other sites may fetch them from the browser.
        # Writes get no CORS headers, so a cross-origin page cannot send the token.
        headers.setdefault("Access-Control-Allow-Origin", "*")
    if path.startswith(_BY_LANGUAGE) and response.status_code in (200, 304):
        # Names (and pages) follow Accept-Language when ?lang= is absent.
        response.vary.add("Accept-Language")
    return response


#: Paths whose answers depend on Accept-Language.
_BY_LANGUAGE = ("/embed", "/api/stations", "/api/nearest")
