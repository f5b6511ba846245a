"""A budget of server CPU per client: each request is charged what it actually cost.

flask-limiter (:mod:`webmap.ratelimit`) counts requests per client and endpoint; that alone
lets one client buy a lot of server time for free — an isochrone, a page rendered afresh or
a tile drawn afresh costs 10-100x a cached answer. Here every client (its address; behind
``WARMHEART_TRUSTED_PROXIES`` the real one) has a bucket of *units*, one unit being a
millisecond of CPU of the thread that served it (``time.thread_time``, so a busy machine
does not make answers dearer). ``WARMHEART_BUDGET`` (default ``3000/minute``: 3 s of CPU
a minute, 5 % of a core) is the refill rate; the bucket holds :data:`BURST_S` seconds of it
(500 ms by default), the largest burst one client may spend. Each request is charged its
measured cost, at least 1, after it ran; a client whose bucket is empty gets a 429 with
``Retry-After`` *before* anything runs, answered by a small WSGI layer in front of Flask so
that refusing a flood costs next to nothing. Cost is weighed by what happened, not guessed:
cached pages, tiles and lookups cost a unit or two, fresh renders and isochrones what they
take. Immutable assets and the API document are free, and so are requests that carry the
admin token (``WARMHEART_ADMIN_TOKEN``): union staff planning shuttles or siting stations run
jobs of up to 30 s on purpose, and charging them would leave their own pages refused for
minutes afterwards. In memory, per process.

Map tiles (``/tiles/``) have a bucket of their own, ``WARMHEART_TILE_BUDGET`` (default
``3000/minute``, holding a whole minute of it: 3 s of CPU). A page shows ~24 tiles at once,
and on a cold cache each is drawn afresh (50-130 ms), so the first view of an area costs
1-3 s of CPU: in the API's bucket that would leave a new user's own ``/api/nearest``
refused for a minute. Drawn tiles are cached for every client, so that cost is paid once
per area; the tile bucket still bounds what one client can make the server draw (5 % of a
core sustained at the default), and :class:`webmap.tiles.TileRenderer` draws one tile at a
time, so tile drawing never takes more than one of the server's threads.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from limits import parse

from .auth import check_token

__all__ = ["FREE_PREFIXES", "TILE_PREFIX", "Budget", "BudgetMiddleware", "init_budget"]

#: Paths that are never charged: immutable assets and the API document.
FREE_PREFIXES = ("/assets/", "/api/openapi.json")
#: Paths charged to the tile bucket.
TILE_PREFIX = "/tiles/"
#: The bucket holds this many seconds of refill (the largest burst a client may spend).
BURST_S = 10.0
#: The tile bucket holds a minute of refill: a first page view on a cold cache.
TILE_BURST_S = 60.0
#: Clients remembered at once; the longest idle ones are forgotten first (a full bucket).
MAX_CLIENTS = 100_000


class Budget:
    """Token buckets of CPU milliseconds per client (thread-safe).

    Parameters
    ----------
    limit
        A ``limits`` string, ``"3000/minute"``: refill per that period.
    burst_s
        The bucket holds this many seconds of refill (at most one period's amount).
    """

    def __init__(self, limit: str, burst_s: float = BURST_S) -> None:
        item = parse(limit)
        self.limit = limit
        self.rate = item.amount / item.get_expiry()  # units per second
        # A burst of at most BURST_S seconds' worth: a full minute's budget spent at once
        # (3 s of CPU in one go) is itself a stall for everyone else.
        self.size = float(min(item.amount, self.rate * burst_s))
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _level(self, client: str, now: float) -> float:
        tokens, then = self._buckets.get(client, (self.size, now))
        return min(self.size, tokens + (now - then) * self.rate)

    def wait(self, client: str) -> float | None:
        """``None`` when ``client`` may be served now, else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            level = self._level(client, now)
        if level > 0:
            return None
        return max(1.0, (1.0 - level) / self.rate)

    def charge(self, client: str, units: float) -> None:
        """Take ``units`` from ``client`` (the bucket may go into debt: that waits longer)."""
        now = time.monotonic()
        with self._lock:
            self._buckets[client] = (self._level(client, now) - units, now)
            self._buckets.move_to_end(client)
            while len(self._buckets) > MAX_CLIENTS:
                self._buckets.popitem(last=False)


class BudgetMiddleware:
    """WSGI layer: refuse a client with an empty bucket (429), charge the others' CPU time.

    ``tiles`` is the bucket of ``/tiles/`` requests (``budget`` when not given); requests
    with the admin ``token`` are not charged.
    """

    def __init__(
        self,
        app: Callable[..., Any],
        budget: Budget,
        *,
        tiles: Budget | None = None,
        token: str | None = None,
    ) -> None:
        self.app = app
        self.budget = budget
        self.tiles = tiles or budget
        self.token = token

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if (
            environ.get("REQUEST_METHOD") == "OPTIONS"
            or path.startswith(FREE_PREFIXES)
            or (self.token and check_token(environ.get("HTTP_AUTHORIZATION"), self.token))
        ):
            return self.app(environ, start_response)
        client = environ.get("REMOTE_ADDR") or "unknown"
        budget = self.tiles if path.startswith(TILE_PREFIX) else self.budget
        wait = budget.wait(client)
        if wait is not None:
            what = "tile drawing" if budget is not self.budget else "server work"
            return _refuse(start_response, math.ceil(wait), budget.limit, what)
        started = time.thread_time()
        try:
            body = self.app(environ, start_response)
            if not isinstance(body, list | tuple):  # a streamed body: draw it now, count it
                body = _drain(body)
            return body
        finally:
            spent_ms = (time.thread_time() - started) * 1000.0
            budget.charge(client, max(1.0, spent_ms))


def _drain(body: Iterable[bytes]) -> list[bytes]:
    try:
        return list(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _refuse(start_response: Callable[..., Any], seconds: int, limit: str, what: str) -> list[bytes]:
    import orjson

    message = (
        f"Expected at most {limit} milliseconds of {what} per client (expensive "
        f"answers cost more); try again in {seconds} s"
    )
    body = orjson.dumps({"error": {"status": 429, "message": message}})
    start_response(
        "429 Too Many Requests",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", str(seconds)),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
        ],
    )
    return [body]


def init_budget(app: Any) -> Budget | None:
    """Wrap ``app.wsgi_app`` in the budgets (off with ``WARMHEART_RATELIMIT_ENABLED = False``).

    ``app.extensions["warmheart_budget"]`` and ``["warmheart_tile_budget"]`` are the buckets.
    """
    if not app.config.get("WARMHEART_RATELIMIT_ENABLED", True):
        return None
    budget = Budget(str(app.config["WARMHEART_BUDGET"]))
    tiles = Budget(str(app.config["WARMHEART_TILE_BUDGET"]), TILE_BURST_S)
    app.extensions["warmheart_budget"] = budget
    app.extensions["warmheart_tile_budget"] = tiles
    token = app.config.get("WARMHEART_ADMIN_TOKEN")
    app.wsgi_app = BudgetMiddleware(
        app.wsgi_app, budget, tiles=tiles, token=str(token) if token else None
    )
    return budget
