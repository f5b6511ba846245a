"""The JSON/GeoJSON API: shapes, filters, paging, nearest, isochrone, route, lines, writes."""

from __future__ import annotations

from typing import Any

import pytest

from stations.model import AMENITIES, KINDS

GEO = "application/geo+json"


def error_of(response: Any) -> str:
    """The message of a JSON error answer (checking its shape on the way)."""
    body = response.get_json()
    assert body["error"]["status"] == response.status_code
    message: str = body["error"]["message"]
    return message


def _nearest(client: Any, **params: Any) -> dict[str, Any]:
    response = client.get("/api/nearest", query_string=params)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def test_stations_is_a_feature_collection_with_contract_properties(client):
    """GET /api/stations returns GeoJSON with the documented properties and paging fields."""
    response = client.get("/api/stations")
    assert response.status_code == 200
    assert response.mimetype == GEO
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    assert body["numberMatched"] == body["numberReturned"] == 13
    assert body["next"] is None
    props = body["features"][0]["properties"]
    for key in (
        "id",
        "kind",
        "name",
        "names",
        "address",
        "host_type",
        "amenities",
        "opening_hours",
        "open_now",
        "access",
        "capacity",
        "certification",
        "contact",
        "notes",
        "source",
        "updated_at",
    ):
        assert key in props
    ids = [f["properties"]["id"] for f in body["features"]]
    assert ids == sorted(ids)


def test_stations_paging_follows_next_until_the_end(client):
    """limit/offset page through every station exactly once, ``next`` linking the pages."""
    seen: list[str] = []
    url: str | None = "/api/stations?limit=5&kind=warm_station"
    pages = 0
    while url:
        body = client.get(url).get_json()
        assert body["numberMatched"] == 7
        seen += [f["id"] for f in body["features"]]
        url = body["next"]
        pages += 1
    assert pages == 2
    assert len(seen) == len(set(seen)) == 7
    assert (
        "kind=warm_station"
        in client.get("/api/stations?limit=5&kind=warm_station").get_json()["next"]
    )


def test_stations_filters_by_kind_amenity_and_bbox(client, webmap_stations):
    """kind, amenity (all required) and bbox filters keep exactly the matching stations."""
    body = client.get("/api/stations?kind=nursing_room").get_json()
    assert {f["properties"]["kind"] for f in body["features"]} == {"nursing_room"}
    assert body["numberMatched"] == 3

    body = client.get("/api/stations?amenity=drinking_water&amenity=toilet").get_json()
    assert [f["id"] for f in body["features"]] == ["ws-05"]

    s = next(st for st in webmap_stations if st.id == "ws-03")
    bbox = f"{s.lon - 1e-5},{s.lat - 1e-5},{s.lon + 1e-5},{s.lat + 1e-5}"
    body = client.get(f"/api/stations?bbox={bbox}").get_json()
    assert [f["id"] for f in body["features"]] == ["ws-03"]


def test_stations_open_at_keeps_only_open_ones(client):
    """open_at keeps stations open then; open_now reports the same instant."""
    # 2026-01-14 is a Wednesday: 03:00 local only 24/7 and the night station are open.
    body = client.get("/api/stations?open_at=2026-01-14T03:00").get_json()
    ids = {f["id"] for f in body["features"]}
    assert ids == {"ws-01", "ws-06", "nr-02", "ss-01", "ss-02", "xss-1"}
    assert all(f["properties"]["open_now"] is True for f in body["features"])
    weekend = client.get("/api/stations?open_at=2026-01-17T12:00&kind=warm_station").get_json()
    assert "ws-05" in {f["id"] for f in weekend["features"]}
    assert "ws-02" not in {f["id"] for f in weekend["features"]}


def test_stations_lang_picks_name_variant(client):
    """lang=zh returns the Chinese name where the station has one, the original otherwise."""
    body = client.get("/api/stations?lang=zh&kind=nursing_room").get_json()
    assert body["features"][0]["properties"]["name"].startswith("测试站")
    assert body["features"][0]["properties"]["names"]["en"].startswith("Test")


def test_get_one_station_and_unknown_id(client):
    """GET /api/stations/<id> returns the Feature; an unknown id is a JSON 404."""
    assert client.get("/api/stations/ws-01").get_json()["id"] == "ws-01"
    response = client.get("/api/stations/nope")
    assert response.status_code == 404
    assert "nope" in error_of(response)


def test_nearest_results_sorted_with_routes(client):
    """nearest returns k stations sorted by walking time, each with a route LineString."""
    body = _nearest(client, lon=24.944, lat=60.17, k=4)
    assert body["reason"] is None
    assert body["origin"]["snap_distance_m"] >= 0
    results = body["results"]
    assert len(results) == 4
    times = [r["walk_time_s"] for r in results]
    assert times == sorted(times)
    for r in results:
        assert r["route"]["type"] == "LineString"
        assert r["route"]["coordinates"][0] == [24.944, 60.17]
        station = r["station"]["geometry"]["coordinates"]
        assert r["route"]["coordinates"][-1] == station
        assert r["walk_distance_m"] >= 0
        assert r["open"] in (True, False, None)


def test_nearest_agrees_with_the_route_endpoint(client):
    """The nearest station's walking time matches /api/route's door-to-door time (±2 s)."""
    hit = _nearest(client, lon=24.944, lat=60.17, k=1)["results"][0]
    lon, lat = hit["station"]["geometry"]["coordinates"]
    route = client.get(f"/api/route?from=24.944,60.17&to={lon},{lat}").get_json()
    assert route["properties"]["time_s"] == pytest.approx(hit["walk_time_s"], abs=2)


def test_nearest_filters_kind_amenity_and_open_at(client):
    """nearest honours kind (several allowed), amenity and open_at filters."""
    body = _nearest(client, lon=24.944, lat=60.17, k=10, kind="nursing_room")
    assert {r["station"]["properties"]["kind"] for r in body["results"]} == {"nursing_room"}
    assert len(body["results"]) == 3
    body = _nearest(client, lon=24.944, lat=60.17, k=10, kind="nursing_room,shuttle_stop")
    kinds = [r["station"]["properties"]["kind"] for r in body["results"]]
    assert set(kinds) == {"nursing_room", "shuttle_stop"} and len(kinds) == 6
    times = [r["walk_time_s"] for r in body["results"]]
    assert times == sorted(times)
    body = _nearest(client, lon=24.944, lat=60.17, k=10, amenity="drinking_water")
    assert all("drinking_water" in r["station"]["properties"]["amenities"] for r in body["results"])
    body = _nearest(client, lon=24.944, lat=60.17, k=10, open_at="2026-01-14T03:00")
    assert all(r["open"] is True for r in body["results"])
    assert {r["station"]["id"] for r in body["results"]} <= {
        "ws-01",
        "ws-06",
        "nr-02",
        "ss-01",
        "ss-02",
        "xss-1",
    }


def test_nearest_off_the_map_is_an_empty_answer_with_reason(client):
    """An origin far from every footpath gives no results and a reason, not an error."""
    body = _nearest(client, lon=25.5, lat=60.5, k=3)
    assert body["results"] == []
    assert body["reason"]


def test_isochrone_polygons_grow_with_minutes(client):
    """Isochrones come back as (Multi)Polygons tagged with minutes, larger for more minutes."""
    from shapely.geometry import shape

    response = client.get("/api/isochrone?lon=24.944&lat=60.17&minutes=5,10")
    assert response.status_code == 200 and response.mimetype == GEO
    features = response.get_json()["features"]
    by_minutes = {f["properties"]["minutes"]: shape(f["geometry"]) for f in features}
    assert set(by_minutes) == {5, 10}
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in features)
    assert by_minutes[10].area > by_minutes[5].area
    assert by_minutes[10].buffer(1e-6).contains(by_minutes[5])


def test_route_is_a_linestring_with_length_and_time(client):
    """/api/route returns a LineString Feature from the start to the end point."""
    response = client.get("/api/route?from=24.94,60.17&to=24.95,60.175")
    assert response.status_code == 200 and response.mimetype == GEO
    body = response.get_json()
    coords = body["geometry"]["coordinates"]
    assert coords[0] == [24.94, 60.17] and coords[-1] == [24.95, 60.175]
    props = body["properties"]
    assert props["length_m"] > 500 and props["time_s"] > 0
    assert props["length_m"] >= props["network_length_m"]


def test_route_off_the_map_is_a_400(client):
    """A route end far from the walk graph is a 400 naming the problem."""
    response = client.get("/api/route?from=24.94,60.17&to=25.5,60.5")
    assert response.status_code == 400
    assert "off the map" in error_of(response)


def test_lines_carry_stops_kpis_and_unserved(client, webmap_plan):
    """/api/lines returns one LineString per plan line with stops, KPIs and unserved riders."""
    response = client.get("/api/lines")
    assert response.status_code == 200 and response.mimetype == GEO
    body = response.get_json()
    assert [f["properties"]["line_id"] for f in body["features"]] == ["L001", "L002"]
    line = body["features"][1]["properties"]
    assert line["seats"] == 19 and line["bus_type"] == "minibus"
    assert line["riders"] == 9
    assert [s["load"] for s in line["stops"]] == [3, 6, 9]
    assert set(line["stops"][0]) >= {
        "stop_id",
        "name",
        "lon",
        "lat",
        "arrival",
        "departure",
        "boarding",
        "load",
    }
    assert body["kpis"]["buses"] == 2
    assert body["unserved"] == [
        {
            "rider_id": "r-99",
            "direction": "to_work",
            "reason": "too_far_to_walk",
            "message": webmap_plan.unserved[0].message,
        }
    ]


def test_lines_without_a_plan_is_an_empty_collection(make_app):
    """Without WARMHEART_PLAN_DIR, /api/lines is an empty collection saying why."""
    client = make_app(WARMHEART_PLAN_DIR=None).test_client()
    body = client.get("/api/lines").get_json()
    assert (
        body["features"] == [] and body["kpis"] is None and "WARMHEART_PLAN_DIR" in body["message"]
    )


# ------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("/api/nearest?lon=abc&lat=60.17", "lon to be a number"),
        ("/api/nearest?lon=24.9&lat=123", "latitude) in [-90, 90], got 123"),
        ("/api/nearest?lon=200&lat=60", "longitude) in [-180, 180]"),
        ("/api/nearest?lon=nan&lat=60", "finite"),
        ("/api/nearest?lat=60.17", "parameter 'lon'"),
        ("/api/nearest?lon=24.9&lat=60.17&k=0", "k in [1, 50], got 0"),
        ("/api/nearest?lon=24.9&lat=60.17&k=1000", "k in [1, 50]"),
        ("/api/nearest?lon=24.9&lat=60.17&k=two", "k to be an integer"),
        ("/api/nearest?lon=24.9&lat=60.17&kind=cafe", "warm_station, nursing_room, shuttle_stop"),
        ("/api/nearest?lon=24.9&lat=60.17&amenity=jacuzzi", "drinking_water"),
        ("/api/nearest?lon=24.9&lat=60.17&open_at=tuesday", "ISO 8601"),
        ("/api/nearest?lon=24.9&lat=60.17&lang=fr", "zh, en, ja, ko"),
        ("/api/stations?bbox=24.96,60.18,24.93,60.16", "swapped"),
        ("/api/stations?bbox=1,2,3", "4 numbers"),
        ("/api/stations?bbox=a,b,c,d", "bbox to be a number"),
        ("/api/stations?limit=0", "limit in [1, 1000]"),
        ("/api/stations?limit=5000", "limit in [1, 1000]"),
        ("/api/stations?offset=-1", "offset in"),
        ("/api/stations?open_at=25:99", "ISO 8601"),
        ("/api/isochrone?lon=24.94&lat=60.17&minutes=0", "minutes in [1, 60]"),
        ("/api/isochrone?lon=24.94&lat=60.17&minutes=five", "whole numbers"),
        ("/api/isochrone?lon=25.5&lat=60.5", "off the map"),
        ("/api/route?from=24.94&to=24.95,60.17", "'lon,lat'"),
        ("/api/route?to=24.95,60.17", "parameter 'from'"),
    ],
)
def test_malformed_parameters_get_400_with_a_message(client, url, needle):
    """Malformed or out-of-range parameters answer 400 with a JSON message saying what."""
    response = client.get(url)
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["status"] == 400
    assert needle in body["error"]["message"]


def test_unknown_kind_message_lists_every_valid_kind(client):
    """The 400 for an unknown kind names every valid kind."""
    message = error_of(client.get("/api/stations?kind=spa"))
    assert all(kind in message for kind in KINDS)
    message = error_of(client.get("/api/stations?amenity=spa"))
    assert all(a in message for a in AMENITIES)


def test_unknown_path_and_wrong_method_are_json(client):
    """An unknown route is a JSON 404 and a wrong method a JSON 405 with Allow."""
    response = client.get("/api/nope")
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert "/api/nope" in error_of(response)
    response = client.post("/api/nearest")
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert "GET" in response.headers["Allow"]


def test_unexpected_errors_are_a_json_500(app, monkeypatch):
    """An exception inside a view becomes a JSON 500 without internals."""
    state = app.extensions["warmheart"]

    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(state, "lines", boom)
    response = app.test_client().get("/api/lines")
    assert response.status_code == 500
    assert response.get_json()["error"]["status"] == 500
    assert "secret" not in response.get_data(as_text=True)


# ----------------------------------------------------------------------------------- writes


def _feature(**props: Any) -> dict[str, Any]:
    base = {
        "kind": "warm_station",
        "name": "New station",
        "amenities": ["drinking_water"],
        "opening_hours": "Mo-Fr 08:00-20:00",
    }
    base.update(props)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [24.944, 60.17]},
        "properties": base,
    }


def test_create_update_delete_round_trip(client, admin_headers):
    """With the token, a station can be created, found by nearest, updated and deleted."""
    response = client.post("/api/stations", json=_feature(id="new-1"), headers=admin_headers)
    assert response.status_code == 201, response.get_json()
    assert response.mimetype == GEO
    assert response.headers["Location"].endswith("/api/stations/new-1")
    assert response.get_json()["properties"]["source"] == "api"

    near = _nearest(client, lon=24.944, lat=60.17, k=1)
    assert near["results"][0]["station"]["id"] == "new-1"

    response = client.put(
        "/api/stations/new-1", json={"name": "Renamed", "capacity": 9}, headers=admin_headers
    )
    assert response.status_code == 200, response.get_json()
    props = client.get("/api/stations/new-1").get_json()["properties"]
    assert props["name"] == "Renamed" and props["capacity"] == 9
    assert props["amenities"] == ["drinking_water"]

    response = client.delete("/api/stations/new-1", headers=admin_headers)
    assert response.status_code == 204
    assert client.get("/api/stations/new-1").status_code == 404
    assert _nearest(client, lon=24.944, lat=60.17, k=1)["results"][0]["station"]["id"] != "new-1"


def test_create_without_id_generates_one(client, admin_headers):
    """A created station without id gets a generated one starting with its kind."""
    response = client.post(
        "/api/stations", json=_feature(kind="nursing_room"), headers=admin_headers
    )
    assert response.status_code == 201
    assert response.get_json()["id"].startswith("nursing_room-")


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (_feature(kind="sauna"), "kind"),
        (_feature(amenities=["jacuzzi"]), "amenities"),
        (_feature(opening_hours="Mo-Fr 25:00-99:00"), "opening"),
        (_feature(name=""), "name"),
        (
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [24.9, 123]},
                "properties": {"kind": "warm_station", "name": "x"},
            },
            "latitude",
        ),
        (
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": []},
                "properties": {},
            },
            "Point",
        ),
        (_feature(id="ws-01"), "already exists"),
        ([1, 2, 3], "JSON object"),
        (_feature(colour="red"), "colour"),
    ],
)
def test_invalid_station_writes_get_400_and_change_nothing(client, admin_headers, body, needle):
    """Writes the registry's model rejects answer 400 with its message; the store is unchanged."""
    before = client.get("/api/stations?limit=1000").get_json()
    response = client.post("/api/stations", json=body, headers=admin_headers)
    assert response.status_code == 400, response.get_json()
    assert needle in error_of(response)
    assert client.get("/api/stations?limit=1000").get_json() == before


def test_update_and_delete_unknown_station_are_404(client, admin_headers):
    """PUT/DELETE on an unknown id answer a JSON 404."""
    assert (
        client.put("/api/stations/nope", json={"name": "x"}, headers=admin_headers).status_code
        == 404
    )
    assert client.delete("/api/stations/nope", headers=admin_headers).status_code == 404


def test_update_with_mismatched_id_is_400(client, admin_headers):
    """A body id that differs from the URL id is rejected."""
    response = client.put("/api/stations/ws-01", json={"id": "ws-02"}, headers=admin_headers)
    assert response.status_code == 400
    assert "match the URL" in error_of(response)


def test_write_requires_json_body(client, admin_headers):
    """A non-JSON body is a 400 saying a JSON body is expected."""
    response = client.post("/api/stations", data="name=x", headers=admin_headers)
    assert response.status_code == 400
    assert "JSON body" in error_of(response)


def test_writes_are_seen_by_a_second_app_on_the_same_store(make_app, admin_headers, tmp_path):
    """A write lands in the GeoPackage: another app opened on the same file sees it."""
    app = make_app()
    store = app.config["WARMHEART_STORE"]
    client = app.test_client()
    assert (
        client.post(
            "/api/stations", json=_feature(id="persist-1"), headers=admin_headers
        ).status_code
        == 201
    )
    other = make_app(WARMHEART_STORE=store).test_client()
    assert other.get("/api/stations/persist-1").status_code == 200


def test_open_at_with_offset_and_unencoded_plus(client):
    """open_at with a UTC offset works, also when '+' arrives as a space (unencoded)."""
    # 03:00 in Helsinki (UTC+2 in January) is 01:00Z.
    encoded = client.get("/api/stations", query_string={"open_at": "2026-01-14T01:00+00:00"})
    raw = client.get("/api/stations?open_at=2026-01-14T03:00+02:00")
    local = client.get("/api/stations?open_at=2026-01-14T03:00")
    ids = [{f["id"] for f in r.get_json()["features"]} for r in (encoded, raw, local)]
    assert ids[0] == ids[1] == ids[2]


def test_station_list_and_lines_support_etags(client, admin_headers):
    """Repeated reads with If-None-Match get 304 until a write changes the answer."""
    first = client.get("/api/stations")
    etag = first.headers["ETag"]
    again = client.get("/api/stations", headers={"If-None-Match": etag})
    assert again.status_code == 304
    client.put("/api/stations/ws-01", json={"name": "Changed"}, headers=admin_headers)
    assert client.get("/api/stations", headers={"If-None-Match": etag}).status_code == 200
    lines = client.get("/api/lines")
    assert (
        client.get("/api/lines", headers={"If-None-Match": lines.headers["ETag"]}).status_code
        == 304
    )


def test_reads_stay_consistent_while_writes_happen(app, admin_headers):
    """Concurrent nearest/stations reads during creates and deletes all succeed, and every
    answer lists the store as it was before or after a write, never half-way."""
    import threading

    stop = threading.Event()
    failures: list[str] = []
    counts: set[int] = set()

    def reader() -> None:
        client = app.test_client()
        while not stop.is_set():
            r = client.get("/api/nearest?lon=24.944&lat=60.17&k=3")
            s = client.get("/api/stations?limit=1000")
            if r.status_code != 200 or s.status_code != 200:
                failures.append(f"{r.status_code} {s.status_code}")
            else:
                body = s.get_json()
                if body["numberMatched"] != len(body["features"]):
                    failures.append("partial page")
                counts.add(body["numberMatched"])

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    writer = app.test_client()
    try:
        for i in range(6):
            assert (
                writer.post(
                    "/api/stations", json=_feature(id=f"c-{i}"), headers=admin_headers
                ).status_code
                == 201
            )
        for i in range(6):
            assert writer.delete(f"/api/stations/c-{i}", headers=admin_headers).status_code == 204
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert counts <= set(range(13, 20))
