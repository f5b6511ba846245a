"""Hostile and malformed requests: each answers 4xx with a message for the API's user, never 500.

Every case here was reproduced as a 500 (or as silently wrong data) before it was fixed; the
responses are also checked against the OpenAPI document by the test client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

STATION = {"kind": "warm_station", "name": "Union hall", "lon": 24.9384, "lat": 60.1699}
INTERNALS = ("__init__", "unhashable", "Traceback", "positional argument", "NoneType", "dict")


def error_of(response: Any) -> str:
    body = response.get_json()
    assert body["error"]["status"] == response.status_code
    message: str = body["error"]["message"]
    for word in INTERNALS:
        assert word not in message, message
    return message


def _count(client: Any) -> int:
    return int(client.get("/api/stations?limit=1").get_json()["numberMatched"])


# ------------------------------------------------------------------------------ no token


@pytest.mark.parametrize(
    "path",
    [
        "/api/stations?open_at=0001-01-01T00:00%2B14:00",
        "/api/stations?open_at=9999-12-31T23:59-14:00",
        "/api/nearest?lon=24.9384&lat=60.1699&open_at=0001-01-01T00:00%2B14:00",
        "/api/nearest?lon=24.9384&lat=60.1699&open_at=9999-12-31T23:59-14:00",
        "/api/stations/ws-01?open_at=0001-01-01T00:00%2B14:00",
        "/api/stations/ws-01?open_at=9999-12-31T23:59-14:00",
    ],
)
def test_open_at_far_from_utc_is_a_400(client: Any, path: str) -> None:
    """Dates that cannot be moved to a station's time zone are refused, naming open_at."""
    response = client.get(path)
    assert response.status_code == 400
    assert "open_at" in error_of(response) and "1900-2199" in error_of(response)


def test_open_at_inside_the_years_still_works(client: Any) -> None:
    """The bound leaves real dates alone, with or without an offset."""
    for value in ("2026-01-15T08:30%2B14:00", "2199-12-31T23:59-14:00", "1900-01-01T00:00"):
        assert client.get(f"/api/stations?open_at={value}").status_code == 200


def test_oembed_of_an_unparsable_url_is_a_404(client: Any) -> None:
    """``http://[/embed`` (a broken IPv6 literal) is not one of our embeds: 404, not 500."""
    response = client.get("/oembed?url=http%3A%2F%2F%5B%2Fembed")
    assert response.status_code == 404
    assert "embed" in error_of(response)


@pytest.mark.parametrize("name", ["a%00b", "a" * 5000, "..%2F..%2Fetc%2Fpasswd", "x/%00/y"])
def test_odd_asset_paths_are_404(client: Any, name: str) -> None:
    """NUL bytes, 5,000-character names and escapes are 404 without touching the disk."""
    response = client.get(f"/assets/leaflet/{name}", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert len(error_of(response)) < 300


# ---------------------------------------------------------------------------- with token


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            {**STATION, "capacity": 2**63},
            "Expected capacity in [0, 100000], got 9223372036854775808",
        ),
        ({**STATION, "capacity": 1e20}, "Expected capacity as a whole number, got 1e+20"),
        ({**STATION, "capacity": "5"}, "Expected capacity as a whole number, got '5'"),
        ({**STATION, "lon": True, "lat": False}, "Expected lon as a number, got true"),
        ({**STATION, "lat": "60.17"}, "Expected lat as a number, got '60.17'"),
        ({}, "Expected a new station to have kind, name, a position"),
        ({"kind": "warm_station"}, "Expected a new station to have name, a position"),
        ({**STATION, "amenities": [["microwave"]]}, "Expected amenities[0] as text, got a JSON"),
        ({**STATION, "amenities": ["microwave", "cafe"]}, "Expected amenities to be one of"),
        ({**STATION, "amenities": "microwave"}, "Expected amenities as a JSON array"),
        ({**STATION, "name": "x" * 900_000}, "Expected name of at most 200 characters, got 900000"),
        ({**STATION, "notes": "n" * 2001}, "Expected notes of at most 2000 characters"),
        ({**STATION, "names": {"zh": ["a"]}}, "Expected names.zh as text"),
        ({**STATION, "names": {"Chinese": "a"}}, "language code"),
        ({**STATION, "kind": "castle"}, "Expected kind to be one of warm_station"),
        ({**STATION, "colour": "red"}, "unknown field 'colour'"),
        ({**STATION, "id": "a/b"}, "Expected id as 1-128 letters"),
        ({**STATION, "id": ".."}, "Expected id as 1-128 letters"),
        ({**STATION, "id": "a b"}, "Expected id as 1-128 letters"),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [24.9, 123]},
                "properties": {"kind": "warm_station", "name": "n"},
            },
            "Expected geometry.coordinates[1] (latitude) in [-90, 90], got 123",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [24.9]},
                "properties": {"kind": "warm_station", "name": "n"},
            },
            "Expected geometry.coordinates",
        ),
        ({"type": "FeatureCollection", "features": []}, "Expected type 'Feature'"),
        ({**STATION, "opening_hours": "Mo-Fr 8-18"}, "opening_hours"),
    ],
)
def test_bad_station_bodies_get_a_400_in_words(
    client: Any, admin_headers: dict[str, str], body: dict[str, Any], needle: str
) -> None:
    """Strict types, bounded sizes, vocabularies: each refusal names the field; nothing stored."""
    before = _count(client)
    response = client.post("/api/stations", json=body, headers=admin_headers)
    assert response.status_code == 400, response.get_json()
    assert needle in error_of(response)
    assert _count(client) == before


@pytest.mark.parametrize(
    "raw",
    [
        '{"kind":"warm_station","name":"n","lon":' + "1" * 400 + ',"lat":60.17}',
        '{"kind":"warm_station","name":"n","lon":24.9,"lat":60.1,"capacity":' + "9" * 400 + "}",
        '{"kind":"warm_station","name":"n","lon":24.9,"lat":60.1,"capacity":' + "9" * 30 + "}",
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 5000 + "1" + "}" * 5000,
        "[1, 2, 3]",
        '"text"',
        "{not json",
    ],
)
def test_hostile_json_is_a_400(client: Any, admin_headers: dict[str, str], raw: str) -> None:
    """400-digit numbers, 100,000-deep nesting and non-objects: 400, never a server error."""
    before = _count(client)
    response = client.post(
        "/api/stations", data=raw, headers=admin_headers, content_type="application/json"
    )
    assert response.status_code == 400
    assert error_of(response).startswith("Expected")
    assert _count(client) == before


def test_updates_are_as_strict_as_creates(client: Any, admin_headers: dict[str, str]) -> None:
    """PUT checks the given fields the same way and leaves the station as it was."""
    before = client.get("/api/stations/ws-01").get_json()
    for body in ({"capacity": True}, {"name": ""}, {"lon": 1e400 if False else "x"}):
        response = client.put("/api/stations/ws-01", json=body, headers=admin_headers)
        assert response.status_code == 400
        error_of(response)
    assert client.get("/api/stations/ws-01").get_json() == before


def test_an_id_with_a_slash_is_refused_on_import(tmp_path: Path) -> None:
    """The id alphabet is the registry's: an import with ``a/b`` reports the row, writes nothing."""
    from stations.io import import_stations
    from stations.store import MemoryStore

    path = tmp_path / "stations.csv"
    path.write_text("id,kind,name,lon,lat\na/b,warm_station,Hall,24.94,60.17\n", encoding="utf-8")
    store = MemoryStore()
    with pytest.raises(ValueError, match="Expected id as 1-128 letters"):
        import_stations(path, store)
    assert len(store) == 0


def test_every_valid_id_round_trips_through_the_url(
    client: Any, admin_headers: dict[str, str]
) -> None:
    """Ids of the documented alphabet can be created, read, edited and deleted by URL."""
    from urllib.parse import quote

    for sid in ("朝阳-001", "a:b~c.d_e", "x@y+z", "..."):
        body = {**STATION, "id": sid}
        assert client.post("/api/stations", json=body, headers=admin_headers).status_code == 201
        url = f"/api/stations/{quote(sid, safe='')}"
        assert client.get(url).get_json()["id"] == sid
        changed = client.put(url, json={"capacity": 3}, headers=admin_headers)
        assert changed.status_code == 200, changed.get_json()
        assert client.delete(url, headers=admin_headers).status_code == 204
        assert client.get(url).status_code == 404


def test_error_bodies_carry_no_python(client: Any, admin_headers: dict[str, str]) -> None:
    """A sample of answers to nonsense never names Python types or functions."""
    bodies = [{}, {"lon": None}, {"names": 5}, {"seven_have": {"site": True}}, {"type": 5}]
    for body in bodies:
        response = client.post(
            "/api/stations",
            data=json.dumps(body),
            headers=admin_headers,
            content_type="application/json",
        )
        assert response.status_code == 400
        error_of(response)
