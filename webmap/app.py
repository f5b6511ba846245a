"""The Flask application factory.

``create_app(test_config=None)`` reads configuration in three layers — built-in defaults,
then ``WARMHEART_*`` environment variables, then the ``test_config`` mapping — loads the
Area, the station store, the locator and the shuttle plan once into
``app.extensions["warmheart"]`` (a :class:`~webmap.state.WarmheartState`), and registers the
pages, the JSON API and oEmbed. Every 4xx/5xx answer is JSON::

    {"error": {"status": 404, "message": "..."}}

Configuration keys
------------------
WARMHEART_AREA
    Area name or source string given to :func:`routing.load_area` (``"helsinki"``), or an
    :class:`~routing.area.Area` object (tests).
WARMHEART_STORE
    Path of the station GeoPackage (default: ``<WARMHEART_HOME>/stations/<area>.gpkg``).
WARMHEART_PLAN_DIR
    A shuttle plan directory written by ``routing.shuttle.export.write_plan`` (optional).
WARMHEART_ADMIN_TOKEN
    Bearer token for station writes; unset means writes are disabled (403).
WARMHEART_FRAME_ANCESTORS
    CSP ``frame-ancestors`` sources for ``/embed/...`` pages (default ``'self'``; ``*`` lets
    any site embed the public map).
WARMHEART_TILES
    ``"osm"`` (default), ``"none"`` (offline) or a tile URL template.
WARMHEART_RATELIMIT
    flask-limiter limit string for public reads per client address (default
    ``"600/minute"``); ``WARMHEART_RATELIMIT_ENABLED=0`` turns limiting off.
WARMHEART_EMBED_MAX_AGE, WARMHEART_STATIC_MAX_AGE
    ``Cache-Control`` max-age in seconds for embeds (300) and static assets (86400).
WARMHEART_PREPARE
    Build the locator's precomputed labels at start (default) rather than on the first
    query of each kind.
WARMHEART_TRUSTED_PROXIES
    How many reverse proxies (nginx, a load balancer) sit in front of the app (default 0).
    With ``n > 0`` the client address, scheme and host are read from the ``X-Forwarded-*``
    headers the last ``n`` proxies set (Werkzeug ``ProxyFix``), so rate limits apply per real
    client. Never set it higher than the number of proxies you run: clients could forge it.
WARMHEART_PUBLIC_URL
    The public base URL (``https://map.example.org``) when the app sits behind a proxy; oEmbed
    accepts embed URLs on this origin as well as on the request's own host.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ._errors import ConfigError

__all__ = ["DEFAULTS", "create_app", "load_config"]

logger = logging.getLogger(__name__)

#: Built-in defaults of every ``WARMHEART_*`` key (see the module docstring).
DEFAULTS: dict[str, Any] = {
    "WARMHEART_AREA": "helsinki",
    "WARMHEART_STORE": None,
    "WARMHEART_PLAN_DIR": None,
    "WARMHEART_ADMIN_TOKEN": None,
    "WARMHEART_FRAME_ANCESTORS": "'self'",
    "WARMHEART_TILES": "osm",
    "WARMHEART_RATELIMIT": "600/minute",
    "WARMHEART_RATELIMIT_ENABLED": True,
    "WARMHEART_EMBED_MAX_AGE": 300,
    "WARMHEART_STATIC_MAX_AGE": 86400,
    "WARMHEART_PUBLIC_URL": None,
    "WARMHEART_PREPARE": True,
    "WARMHEART_TRUSTED_PROXIES": 0,
    "MAX_CONTENT_LENGTH": 1_000_000,
    "JSON_SORT_KEYS": False,
}

_BOOL_WORDS = {
    "1": True,
    "true": True,
    "yes": True,
    "on": True,
    "0": False,
    "false": False,
    "no": False,
    "off": False,
}


def _coerce(key: str, raw: str, default: Any) -> Any:
    """Turn an environment string into the type of the key's default."""
    if isinstance(default, bool):
        word = raw.strip().lower()
        if word not in _BOOL_WORDS:
            msg = f"Expected {key} to be one of {sorted(_BOOL_WORDS)}, got {raw!r}"
            raise ConfigError(msg)
        return _BOOL_WORDS[word]
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            msg = f"Expected {key} to be an integer, got {raw!r}"
            raise ConfigError(msg) from None
    return raw or None


def load_config(
    test_config: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Merge defaults, ``WARMHEART_*`` environment variables and ``test_config`` (in that order).

    Parameters
    ----------
    test_config
        Values that win over everything else (tests, ``warmheart serve`` options).
    environ
        The environment to read (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        if key.startswith("WARMHEART_") and key in environ:
            config[key] = _coerce(key, environ[key], default)
    if test_config:
        config.update(test_config)
    _check_config(config)
    return config


def _check_config(config: Mapping[str, Any]) -> None:
    for key in ("WARMHEART_EMBED_MAX_AGE", "WARMHEART_STATIC_MAX_AGE", "WARMHEART_TRUSTED_PROXIES"):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            msg = f"Expected {key} to be a non-negative integer, got {value!r}"
            raise ConfigError(msg)
    ancestors = config["WARMHEART_FRAME_ANCESTORS"]
    if (
        not isinstance(ancestors, str)
        or not ancestors.strip()
        or any(c in ancestors for c in ";,\r\n")
    ):
        msg = (
            "Expected WARMHEART_FRAME_ANCESTORS to be space-separated CSP sources "
            f"(e.g. \"'self' https://example.org\"), got {ancestors!r}"
        )
        raise ConfigError(msg)
    token = config["WARMHEART_ADMIN_TOKEN"]
    if token is not None and (not isinstance(token, str) or len(token) < 8):
        msg = "Expected WARMHEART_ADMIN_TOKEN to be a string of at least 8 characters"
        raise ConfigError(msg)


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
    from . import api, oembed
    from . import pages as pages_module
    from .ratelimit import init_limiter
    from .state import WarmheartState

    app = Flask(__name__, static_folder=None)
    app.config.update(load_config(test_config))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    _configure_logging(app)

    app.config["WARMHEART_TILE_SOURCE"] = tile_source(app.config["WARMHEART_TILES"])
    app.extensions["warmheart"] = WarmheartState.from_config(app.config)
    app.extensions["warmheart_limiter"] = init_limiter(app)

    app.register_blueprint(pages_module.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(oembed.bp)

    _register_error_handlers(app)
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


# ----------------------------------------------------------------------------------- errors


def error_response(status: int, message: str) -> Response:
    """The JSON body every 4xx/5xx answer carries."""
    from flask import jsonify

    response = jsonify({"error": {"status": status, "message": message}})
    response.status_code = status
    return response


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        message = exc.description or exc.name
        if status == 404 and message.startswith("The requested URL was not found"):
            message = f"Expected a known path, got {request.path!r} (see /api/openapi.json)"
        elif status == 405:
            allowed = getattr(exc, "valid_methods", None)
            message = (
                f"Expected one of {', '.join(allowed or [])} on {request.path}, "
                f"got {request.method}"
            )
        response = error_response(status, message)
        for key, value in exc.get_headers():
            if key in ("Allow", "Retry-After", "WWW-Authenticate"):
                response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected_error(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):  # pragma: no cover - handled above
            return _http_error(exc)
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, InternalServerError.description)


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
    if path.startswith("/embed") and response.status_code == 200:
        headers.setdefault("Vary", "Accept-Language")
    return response
