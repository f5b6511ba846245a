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


def test_a_cold_page_view_leaves_the_lookups_of_a_new_user_alone(make_app: Any) -> None:
    """Out of the box, fresh tiles are charged to the tile bucket, not the API's: a new
    phone drawing a whole screen of tiles on a cold cache still gets its nearest stations."""
    app = make_app(WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_TILES="local")  # default budgets
    phone = _client(app, "10.0.0.7")
    tiles = app.extensions["warmheart_tile_budget"]
    api = app.extensions["warmheart_budget"]
    assert tiles.size > api.size
    api_before = api._level("10.0.0.7", __import__("time").monotonic())
    # A screen of tiles at street zoom around the sample area's centre (Helsinki).
    import math

    lon, lat, z = 24.9384, 60.1699, 16
    x0 = int((lon + 180) / 360 * 2**z)
    y0 = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)
    statuses = [
        phone.get(f"/tiles/en/{z}/{x0 + dx}/{y0 + dy}.png").status_code
        for dx in range(-3, 3)
        for dy in range(-2, 2)
    ]
    assert statuses == [200] * 24
    spent_on_tiles = tiles.size - tiles._level("10.0.0.7", __import__("time").monotonic())
    assert spent_on_tiles > 24  # they were drawn and charged (at least 1 ms each) ...
    assert api._level("10.0.0.7", __import__("time").monotonic()) >= api_before - 1e-6
    # ... and the lookups still answer.
    assert phone.get("/api/nearest?lon=24.9384&lat=60.1699&k=3").status_code == 200


def test_tiles_have_a_bucket_of_their_own(make_app: Any) -> None:
    """A client that has spent its tile bucket gets 429 on tiles, and its API calls go on."""
    app = make_app(
        WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_TILES="local", WARMHEART_TILE_BUDGET="10/minute"
    )
    client = _client(app, "10.0.0.8")
    app.extensions["warmheart_tile_budget"].charge("10.0.0.8", 100)
    refused = client.get("/tiles/en/16/37307/18969.png")
    assert refused.status_code == 429
    assert "tile drawing" in refused.get_json()["error"]["message"]
    assert client.get("/api/nearest?lon=24.9384&lat=60.1699&k=3").status_code == 200


def test_a_bad_tile_budget_is_a_config_error(make_app: Any) -> None:
    """WARMHEART_TILE_BUDGET must be a limits string."""
    with pytest.raises(ValueError, match="WARMHEART_TILE_BUDGET"):
        make_app(WARMHEART_TILE_BUDGET="lots")


def test_staff_with_the_token_are_not_charged(make_app: Any) -> None:
    """A planner's long siting or planning request leaves their own pages usable: requests
    carrying the admin token are not charged; without it (or with a wrong one) they are."""
    app = make_app(
        WARMHEART_RATELIMIT_ENABLED=True,
        WARMHEART_BUDGET="1/minute",
        WARMHEART_ADMIN_TOKEN="s3cret-token",
    )
    budget = app.extensions["warmheart_budget"]
    budget.charge("10.0.0.9", 100)  # an empty bucket
    staff = _client(app, "10.0.0.9")
    path = "/api/stations?limit=1"
    assert staff.get(path, headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
    assert staff.get(path, headers={"Authorization": "Bearer wrong-token"}).status_code == 429
    assert staff.get(path).status_code == 429
