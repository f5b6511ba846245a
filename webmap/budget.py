"""A cost-weighted budget per client: expensive work is paid for, cheap reads barely count.

flask-limiter (:mod:`webmap.ratelimit`) counts requests per client and endpoint; that alone
lets one client buy a lot of server time for free — an isochrone or a page rendered afresh
costs 10-100x a cached answer. Here every client (its address; behind
``WARMHEART_TRUSTED_PROXIES`` the real one) has one budget of *units* per window,
``WARMHEART_BUDGET`` (default ``3000/minute``), shared by every endpoint; a unit is about a
millisecond of server CPU on a small machine. Every request costs 1 (cached pages, API
reads, ...); on top of that, :data:`COSTS` charges ``/api/nearest`` and ``/api/route`` a
little, ``/api/isochrone`` per budget (minutes value) asked, a page rendered afresh (a cache
miss) and a map tile drawn afresh much more.

A request that would overdraw the budget answers 429 with ``Retry-After`` before any work is
done, so a flood of isochrones or cache-busting page views from one client cannot push other
users' ``/api/nearest`` latency up (``benchmarks/bench_api.py`` measures exactly that). The
budget is in memory, per process, like the request limits.
"""

from __future__ import annotations

import math
import time
from typing import Any

from flask import Flask, current_app, g, request
from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

__all__ = ["COSTS", "Budget", "charge", "charge_render", "init_budget"]

#: Units charged for each kind of work (see the module docstring).
COSTS: dict[str, int] = {
    "request": 1,
    "nearest": 2,
    "route": 3,
    "isochrone": 15,
    "render": 60,
    "tile": 10,
}
#: Paths that are never charged: immutable assets and the API document.
FREE_PREFIXES = ("/assets/", "/api/openapi.json")


class Budget:
    """Units per client and window, kept in a :mod:`limits` moving window.

    Parameters
    ----------
    limit
        A ``limits`` string such as ``"3000/minute"``.
    """

    def __init__(self, limit: str) -> None:
        self.items = parse_many(limit)
        self._limiter = MovingWindowRateLimiter(storage_from_string("memory://"))

    def spend(self, client: str, cost: int) -> float | None:
        """Take ``cost`` units from ``client``; ``None`` when granted, else seconds to wait."""
        for item in self.items:
            if not self._limiter.test(item, "budget", client, cost=cost):
                stats = self._limiter.get_window_stats(item, "budget", client)
                return max(1.0, stats.reset_time - time.time())
        for item in self.items:
            self._limiter.hit(item, "budget", client, cost=cost)
        return None


def init_budget(app: Flask) -> Budget | None:
    """Attach the budget to ``app`` (off with ``WARMHEART_RATELIMIT_ENABLED = False``)."""
    if not app.config.get("WARMHEART_RATELIMIT_ENABLED", True):
        return None
    budget = Budget(str(app.config["WARMHEART_BUDGET"]))
    app.extensions["warmheart_budget"] = budget
    app.before_request(_charge_request)
    return budget


def _client() -> str:
    return request.remote_addr or "unknown"


def _refuse(wait: float) -> None:
    raise TooManyRequests(
        f"Expected at most {current_app.config['WARMHEART_BUDGET']} units of server work per "
        f"client (expensive answers cost more); try again in {math.ceil(wait)} s",
        retry_after=math.ceil(wait),
    )


def _charge_request() -> None:
    if request.method == "OPTIONS" or request.path.startswith(FREE_PREFIXES):
        return
    charge("request")


def charge(what: str, *, times: int = 1) -> None:
    """Spend the units of ``what`` (``times`` over) for this request's client, or answer 429.

    Does nothing when the budget is off (tests, benchmarks).
    """
    budget: Budget | None = current_app.extensions.get("warmheart_budget")
    if budget is None:
        return
    cost = COSTS[what] * max(1, times)
    wait = budget.spend(_client(), cost)
    if wait is not None:
        _refuse(wait)
    spent: dict[str, Any] = g.setdefault("warmheart_spent", {})
    spent[what] = spent.get(what, 0) + cost


def charge_render() -> None:
    """Spend the units of a page rendered afresh (called by the page cache on a miss)."""
    charge("render")
