"""Rate limiting of public reads with flask-limiter (one limiter per app, memory storage).

The limit string comes from ``WARMHEART_RATELIMIT`` (e.g. ``"600/minute"``) and applies per
client address and per endpoint to every request but the immutable assets: pages, tiles,
public reads, and writes too, which also slows down anyone guessing the admin token. The
cost of each request is weighed on top of that by :mod:`webmap.budget`.
``WARMHEART_RATELIMIT_ENABLED = False`` turns limiting off (tests, benchmarks). Behind a
reverse proxy, wrap the app in Werkzeug's ``ProxyFix`` so that the client address is the real
one.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

__all__ = ["init_limiter"]


def _limit_string() -> str:
    return str(current_app.config["WARMHEART_RATELIMIT"])


def _exempt() -> bool:
    # Everything but the immutable assets counts: pages and tiles too, so one client cannot
    # buy a render per request for free (the cost of each is weighed by webmap.budget).
    return request.method == "OPTIONS" or request.path.startswith("/assets/")


def init_limiter(app: Flask) -> Limiter:
    """Attach a :class:`flask_limiter.Limiter` for public reads to ``app`` and return it."""
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    app.config["RATELIMIT_ENABLED"] = bool(app.config["WARMHEART_RATELIMIT_ENABLED"])
    return Limiter(
        get_remote_address,
        app=app,
        default_limits=[_limit_string],
        default_limits_exempt_when=_exempt,
    )
