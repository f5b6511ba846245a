"""The cost-weighted budget per client: expensive work runs out first, others are unaffected."""

from __future__ import annotations

from typing import Any

from webmap.budget import COSTS


def _client(app: Any, address: str) -> Any:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_isochrone_flood_is_refused_before_the_work(make_app: Any) -> None:
    """A client asking for isochrones spends its budget; then 429 with Retry-After."""
    app = make_app(WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_BUDGET="200/minute")
    hostile = _client(app, "10.0.0.1")
    path = "/api/isochrone?lon=24.9384&lat=60.1699&minutes=5,10,15"
    per_call = 1 + 3 * COSTS["isochrone"]
    statuses = [hostile.get(path).status_code for _ in range(200 // per_call + 2)]
    assert statuses[: 200 // per_call] == [200] * (200 // per_call)
    assert statuses[-1] == 429
    refused = hostile.get(path)
    assert int(refused.headers["Retry-After"]) >= 1
    assert "units of server work" in refused.get_json()["error"]["message"]
    # Another client's cheap reads still go through.
    other = _client(app, "10.0.0.2")
    assert other.get("/api/nearest?lon=24.9384&lat=60.1699&k=3").status_code == 200


def test_page_renders_cost_more_than_cached_views(make_app: Any) -> None:
    """Fresh renders are charged COSTS['render']; cached views of the same page cost 1."""
    app = make_app(
        WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_BUDGET=f"{COSTS['render'] + 20}/minute"
    )
    client = _client(app, "10.0.0.3")
    assert client.get("/?lang=en").status_code == 200  # one render
    for i in range(15):  # cached: noise does not render again
        assert client.get(f"/?lang=en&noise={i}").status_code == 200
    assert client.get("/?lang=ko").status_code == 429  # a second render would overdraw


def test_assets_are_free(make_app: Any) -> None:
    """Immutable assets never count against the budget (a page loads a dozen)."""
    app = make_app(WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_BUDGET="5/minute")
    client = _client(app, "10.0.0.4")
    for _ in range(20):
        assert client.get("/assets/leaflet/leaflet.js").status_code == 200


def test_a_bad_budget_is_a_config_error(make_app: Any) -> None:
    """WARMHEART_BUDGET must be a limits string."""
    import pytest

    with pytest.raises(ValueError, match="WARMHEART_BUDGET"):
        make_app(WARMHEART_BUDGET="plenty")
