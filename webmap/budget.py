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
take. Immutable assets and the API document are free. In memory, per process.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from limits import parse

__all__ = ["FREE_PREFIXES", "Budget", "BudgetMiddleware", "init_budget"]

#: Paths that are never charged: immutable assets and the API document.
FREE_PREFIXES = ("/assets/", "/api/openapi.json")
#: The bucket holds this many seconds of refill (the largest burst a client may spend).
BURST_S = 10.0
#: Clients remembered at once; the longest idle ones are forgotten first (a full bucket).
MAX_CLIENTS = 100_000


class Budget:
    """Token buckets of CPU milliseconds per client (thread-safe).

    Parameters
    ----------
    limit
        A ``limits`` string, ``"3000/minute"``: bucket size and refill per that period.
    """

    def __init__(self, limit: str) -> None:
        item = parse(limit)
        self.rate = item.amount / item.get_expiry()  # units per second
        # A burst of at most BURST_S seconds' worth: a full minute's budget spent at once
        # (3 s of CPU in one go) is itself a stall for everyone else.
        self.size = float(min(item.amount, self.rate * BURST_S))
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
    """WSGI layer: refuse a client with an empty bucket (429), charge the others' CPU time."""

    def __init__(self, app: Callable[..., Any], budget: Budget, *, limit: str) -> None:
        self.app = app
        self.budget = budget
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "OPTIONS" or path.startswith(FREE_PREFIXES):
            return self.app(environ, start_response)
        client = environ.get("REMOTE_ADDR") or "unknown"
        wait = self.budget.wait(client)
        if wait is not None:
            return _refuse(start_response, math.ceil(wait), self.limit)
        started = time.thread_time()
        try:
            body = self.app(environ, start_response)
            if not isinstance(body, list | tuple):  # a streamed body: draw it now, count it
                body = _drain(body)
            return body
        finally:
            spent_ms = (time.thread_time() - started) * 1000.0
            self.budget.charge(client, max(1.0, spent_ms))


def _drain(body: Iterable[bytes]) -> list[bytes]:
    try:
        return list(body)
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def _refuse(start_response: Callable[..., Any], seconds: int, limit: str) -> list[bytes]:
    import orjson

    message = (
        f"Expected at most {limit} milliseconds of server work per client (expensive "
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
    """Wrap ``app.wsgi_app`` in the budget (off with ``WARMHEART_RATELIMIT_ENABLED = False``)."""
    if not app.config.get("WARMHEART_RATELIMIT_ENABLED", True):
        return None
    limit = str(app.config["WARMHEART_BUDGET"])
    budget = Budget(limit)
    app.extensions["warmheart_budget"] = budget
    app.wsgi_app = BudgetMiddleware(app.wsgi_app, budget, limit=limit)
    return budget
