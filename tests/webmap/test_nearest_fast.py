"""The fast paths of ``/api/nearest``: route points, compact JSON, cached station Features."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import numpy as np
import shapely


def _state(app: Any) -> Any:
    return app.extensions["warmheart"]


def test_route_follows_the_located_path(app, client):
    """Each route is origin, the locator's path rounded to 6 decimals, then the station."""
    body = client.get("/api/nearest?lon=24.944&lat=60.17&k=3").get_json()
    located = _state(app).locator.nearest(24.944, 60.17, k=3)
    assert [r["station"]["id"] for r in body["results"]] == [h.station.id for h in located]
    for result, hit in zip(body["results"], located, strict=True):
        coords = result["route"]["coordinates"]
        want = np.round(shapely.get_coordinates(hit.geometry), 6).tolist()
        assert coords[1:-1] == want
        assert coords[0] == [24.944, 60.17]
        assert coords[-1] == result["station"]["geometry"]["coordinates"]


def test_route_points_lie_on_the_walk_graph(app, client):
    """The route's network part runs from the origin's projection on its street to the
    station's, every point on a walk-graph street (within 0.2 m)."""
    area = _state(app).area
    streets = area.arrays("walk").edges.lines()
    body = client.get("/api/nearest?lon=24.95&lat=60.168&k=2").get_json()
    assert body["results"]
    start = area.locate(24.95, 60.168)
    for result in body["results"]:
        network = np.asarray(result["route"]["coordinates"][1:-1])
        end = area.locate(*result["station"]["geometry"]["coordinates"])
        assert network[0].tolist() == [round(start.lon[0], 6), round(start.lat[0], 6)]
        assert network[-1].tolist() == [round(end.lon[0], 6), round(end.lat[0], 6)]
        x, y = area.project(network[:, 0], network[:, 1])
        gap = shapely.distance(shapely.points(x, y)[:, None], streets[None, :]).min(axis=1)
        assert float(gap.max()) < 0.2


def test_nearest_json_is_compact_utf8(client):
    """The body is compact JSON (no spaces after separators) that parses to the answer."""
    response = client.get("/api/nearest?lon=24.944&lat=60.17&k=2")
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert ", " not in text.split('"results"')[0]
    assert json.loads(text) == response.get_json()


def test_station_feature_cache_copies_and_follows_updates(app, client, admin_headers):
    """Cached Features are copies (editing one changes nothing) and follow station updates."""
    state = _state(app)
    station = state.get_station("ws-01")
    first = state.station_feature(station, lang=None)
    first["properties"]["amenities"].append("tampered")
    first["properties"]["name"] = "tampered"
    again = state.station_feature(station, lang=None)
    assert "tampered" not in again["properties"]["amenities"]
    assert again["properties"]["name"] == station.name
    response = client.put("/api/stations/ws-01", json={"name": "Renamed"}, headers=admin_headers)
    assert response.status_code == 200
    assert client.get("/api/stations/ws-01").get_json()["properties"]["name"] == "Renamed"
    lon, lat = station.lon, station.lat
    body = client.get(f"/api/nearest?lon={lon}&lat={lat}&k=1").get_json()
    assert body["results"][0]["station"]["properties"]["name"] == "Renamed"


def test_station_feature_open_now_per_call(app):
    """open_now is computed for each call's time, not cached with the Feature."""
    state = _state(app)
    station = state.get_station("ws-02")  # Mo-Fr 09:00-17:00
    monday_noon = datetime(2026, 1, 5, 12, 0)
    monday_night = datetime(2026, 1, 5, 23, 0)
    assert state.station_feature(station, at=monday_noon)["properties"]["open_now"] is True
    assert state.station_feature(station, at=monday_night)["properties"]["open_now"] is False


def test_json_provider_falls_back_for_types_orjson_cannot_write(app):
    """A value orjson rejects (Decimal) is written through Flask's default conversion."""
    from decimal import Decimal

    from flask import jsonify

    with app.app_context():
        response = jsonify({"a": Decimal("1.5"), "b": [1, "ü"]})
    assert response.mimetype == "application/json"
    assert json.loads(response.get_data(as_text=True)) == {"a": "1.5", "b": [1, "ü"]}
