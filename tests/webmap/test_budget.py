"""The CPU budget per client: expensive work runs out first, others are unaffected."""

from __future__ import annotations

from typing import Any

import pytest


def _client(app: Any, address: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_flood_is_refused_before_the_work(make_app: Any) -> None:
    """A client asking for big isochrones spends its CPU budget; then 429 with Retry-After."""
    app = make_app(WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_BUDGET="200/minute")
    hostile = _client(app, "10.0.0.1")
    path = "/api/isochrone?lon=24.9384&lat=60.1699&minutes=5,10,15,30,45,60"
    statuses = [hostile.get(path).status_code for _ in range(40)]
    assert statuses[0] == 200 and statuses[-1] == 429
    refused = hostile.get(path)
    assert int(refused.headers["Retry-After"]) >= 1
    assert "milliseconds of server work" in refused.get_json()["error"]["message"]
    # Another client's reads still go through.
    other = _client(app, "10.0.0.2")
    assert other.get("/api/nearest?lon=24.9384&lat=60.1699&k=3").status_code == 200


def test_refusals_run_nothing(make_app: Any) -> None:
    """An empty bucket is answered before Flask: the view does not run."""
    app = make_app(WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_BUDGET="1/minute")
    client = _client(app, "10.0.0.5")
    budget = app.extensions["warmheart_budget"]
    budget.charge("10.0.0.5", 100)
    calls = []
    app.before_request(lambda: calls.append(1))
    assert client.get("/api/stations?limit=1").status_code == 429
    assert not calls


def test_cached_answers_cost_little(make_app: Any) -> None:
    """Many cached views of one page fit a budget that a single fresh render would exceed."""
    app = make_app(WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_BUDGET="100000/minute")
    client = _client(app, "10.0.0.3")
    budget = app.extensions["warmheart_budget"]
    client.get("/?lang=en")
    before = budget._level("10.0.0.3", __import__("time").monotonic())
    for i in range(20):
        assert client.get(f"/?lang=en&noise={i}").status_code == 200
    after = budget._level("10.0.0.3", __import__("time").monotonic())
    assert before - after < 20 * 15  # ~1-5 ms each, not a render each


def test_assets_are_free(make_app: Any) -> None:
    """Immutable assets never count against the budget (a page loads a dozen)."""
    app = make_app(WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_BUDGET="5/minute")
    client = _client(app, "10.0.0.4")
    for _ in range(20):
        assert client.get("/assets/leaflet/leaflet.js").status_code == 200


def test_a_bad_budget_is_a_config_error(make_app: Any) -> None:
    """WARMHEART_BUDGET must be a limits string."""
    with pytest.raises(ValueError, match="WARMHEART_BUDGET"):
        make_app(WARMHEART_BUDGET="plenty")
