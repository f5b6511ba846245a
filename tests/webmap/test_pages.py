"""The HTML pages: locator, embed, planner and its download; escaping, bad input, tiles."""

from __future__ import annotations

import html as html_lib
import json
import re
from typing import Any

import pytest

from webmap._errors import ConfigError
from webmap.maps import resolve_tiles, station_table, zoom_for_bounds

XSS_ID = "xss-1"
PAYLOADS = (
    "<img src=x onerror=alert(1)>",
    '<script>alert("address")</script>',
    '"><svg onload=alert(1)>',
    "<img src=x onerror=alert('stop')>",
    "<b>粗体</b>",
)
HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def _options(page: str, function: str) -> dict[str, Any]:
    """The JSON options a page hands to window.warmheart.<function>(map, {...})."""
    match = re.search(rf"window\.warmheart\.{function}\(\w+,\s*(\{{.*?\}})\);\n", page, re.S)
    assert match, f"no warmheart.{function} call in the page"
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def test_locator_embeds_every_station(client) -> None:
    """The locator hands all 13 stations to the map in one compact table."""
    page = client.get("/?lang=en").get_data(as_text=True)
    table = _options(page, "locator")["stations"]
    assert len(table["rows"]) == 13
    ids = {row[0] for row in table["rows"]}
    assert {"ws-01", "nr-01", "ss-01", XSS_ID} <= ids
    row = next(r for r in table["rows"] if r[0] == "ws-01")
    assert table["kinds"][row[3]] == "warm_station"
    names = [a for i, a in enumerate(table["amenities"]) if row[4] & (1 << i)]
    assert sorted(names) == ["drinking_water", "microwave", "rest_seats"]
    assert table["hours"][row[7]] == "Open 24 hours, every day"
    assert table["hosts"][row[6]] == "bank"
    ws02 = next(r for r in table["rows"] if r[0] == "ws-02")
    assert table["hours"][ws02[7]] == "Mon–Fri 09:00–17:00; closed Sat, Sun"
    zh = _options(client.get("/?lang=zh").get_data(as_text=True), "locator")["stations"]
    ws02 = next(r for r in zh["rows"] if r[0] == "ws-02")
    assert zh["hours"][ws02[7]] == "周一至周五 09:00–17:00，周六、周日休息"
    unknown = next(r for r in table["rows"] if r[0] == "ws-04")
    assert unknown[7] == -1


def test_locator_is_phone_ready(client) -> None:
    """Viewport meta, the near-me button, filters for every kind and amenity, a bottom sheet."""
    from stations.model import AMENITIES, KINDS

    page = client.get("/?lang=en").get_data(as_text=True)
    assert 'name="viewport"' in page and "width=device-width" in page
    assert 'id="wh-near-me"' in page and 'id="wh-panel"' in page
    for kind in KINDS:
        assert f'name="kind" value="{kind}"' in page
    for amenity in AMENITIES:
        assert f'name="amenity" value="{amenity}"' in page


def test_locator_offers_the_iframe_snippet(client) -> None:
    """The copy-paste embed snippet is an iframe to /embed/stations with allow=geolocation."""
    page = client.get("/?lang=ja").get_data(as_text=True)
    match = re.search(r'<textarea id="wh-embed-code"[^>]*>(.*?)</textarea>', page, re.S)
    assert match
    snippet = html_lib.unescape(match.group(1))
    assert snippet.startswith("<iframe ") and snippet.endswith("</iframe>")
    assert 'allow="geolocation"' in snippet
    assert re.search(r'src="http://localhost/embed/stations\?lang=ja"', snippet)


def test_embed_snippet_uses_public_url(make_app) -> None:
    """Behind a proxy the snippet points at WARMHEART_PUBLIC_URL."""
    app = make_app(WARMHEART_PUBLIC_URL="https://map.example.org/")
    page = app.test_client().get("/?lang=en").get_data(as_text=True)
    assert "https://map.example.org/embed/stations?lang=en" in html_lib.unescape(page)


@pytest.mark.parametrize("url", ["/", "/?lang=zh", "/embed/stations", "/planner", "/embed/lines"])
def test_script_payloads_never_appear_raw(client, url: str) -> None:
    """Payloads in names, addresses, notes and stop names are never in a page unescaped."""
    page = client.get(url).get_data(as_text=True)
    for payload in PAYLOADS:
        assert payload not in page, payload


def test_planner_download_escapes_payloads(client) -> None:
    """The standalone download is escaped like the page."""
    page = client.get("/planner/download?lang=en").get_data(as_text=True)
    for payload in PAYLOADS:
        assert payload not in page


def test_station_payload_survives_as_data(client) -> None:
    """The XSS station's name reaches the browser intact as JSON data (shown with textContent)."""
    page = client.get("/?lang=en").get_data(as_text=True)
    rows = _options(page, "locator")["stations"]["rows"]
    assert next(r for r in rows if r[0] == XSS_ID)[5] == PAYLOADS[0]


@pytest.mark.parametrize(
    "query",
    [
        "zoom=abc",
        "zoom=25",
        "zoom=0",
        "center=200,10",
        "center=24.9,95",
        "center=abc",
        "center=24.9",
        "kind=castle",
        "amenity=jacuzzi",
    ],
)
@pytest.mark.parametrize("path", ["/", "/embed/stations"])
def test_bad_query_is_400_json(client, path: str, query: str) -> None:
    """Malformed or out-of-range parameters get 400 with an "Expected ..." JSON message."""
    if path.startswith("/embed") and query.startswith("amenity"):
        query = "kinds=castle"
    r = client.get(f"{path}?{query}")
    assert r.status_code == 400
    body = r.get_json()
    assert body["error"]["status"] == 400
    assert body["error"]["message"].startswith("Expected")


def test_bad_query_is_a_friendly_page_for_browsers(client) -> None:
    """A browser gets an HTML 400 page in its language with the message and a way back."""
    r = client.get("/?zoom=abc&lang=en", headers=HTML)
    assert r.status_code == 400 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "Expected zoom to be an integer" in page and "Back to the map" in page
    assert r.headers["Cache-Control"] == "no-store"


def test_bad_query_message_is_escaped(client) -> None:
    """A payload in a bad parameter is escaped in the HTML error page."""
    r = client.get("/?kind=<script>alert(1)</script>", headers=HTML)
    assert r.status_code == 400
    assert "<script>alert(1)</script>" not in r.get_data(as_text=True)


def test_unknown_embed_is_404(client) -> None:
    """An unknown embed name is a JSON 404 listing the known ones."""
    r = client.get("/embed/castles")
    assert r.status_code == 404
    assert "stations" in r.get_json()["error"]["message"]


def test_embed_is_chromeless_and_configurable(client) -> None:
    """The embed has no header bar, filters by kind, takes centre, zoom and language.

    ``center`` and ``zoom`` are checked by the server and applied by the page's script from
    its URL, so every view of one embed is the same cached page (same ETag).
    """
    r = client.get("/embed/stations?kinds=nursing_room&center=24.94,60.17&zoom=15&lang=ko")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'class="wh-bar"' not in page and '<html lang="ko">' in page
    options = _options(page, "locator")
    assert {row[0] for row in options["stations"]["rows"]} == {"nr-01", "nr-02", "nr-03"}
    assert options["kinds"] == ["nursing_room"]
    other = client.get("/embed/stations?kinds=nursing_room&center=24.95,60.16&zoom=12&lang=ko")
    assert other.headers["ETag"] == r.headers["ETag"]


def test_embed_per_kind_name(client) -> None:
    """/embed/shuttle_stop shows only shuttle stops."""
    page = client.get("/embed/shuttle_stop").get_data(as_text=True)
    assert {r[0] for r in _options(page, "locator")["stations"]["rows"]} == {
        "ss-01",
        "ss-02",
        "ss-03",
    }


def test_embed_headers(make_app) -> None:
    """Embeds carry the configured frame-ancestors and a public cache header."""
    app = make_app(WARMHEART_FRAME_ANCESTORS="'self' https://news.example.org")
    r = app.test_client().get("/embed/stations")
    assert "frame-ancestors 'self' https://news.example.org" in r.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in r.headers
    assert r.headers["Cache-Control"].startswith("public, max-age=")


def test_planner_lists_lines_kpis_and_unserved(client) -> None:
    """The planner shows both lines, translated KPIs and the unserved rider with its reason."""
    page = client.get("/planner?lang=en").get_data(as_text=True)
    assert page.count("data-wh-line=") == 2
    assert "Riders served" in page and "15" in page
    assert "r-99" in page and "No stop within walking distance" in page
    options = _options(page, "planner")
    lines = [f for f in options["lines"]["features"] if f["properties"]["role"] == "line"]
    stops = [f for f in options["lines"]["features"] if f["properties"]["role"] == "stop"]
    assert len(lines) == 2 and len(stops) == 5
    assert lines[0]["properties"]["colour"] != lines[1]["properties"]["colour"]
    popup = stops[0]["properties"]["popup"]
    assert "&lt;img src=x onerror=alert(&#39;stop&#39;)&gt;" in popup
    assert "07:50" in popup


def test_planner_without_plan_says_how_to_get_one(make_app) -> None:
    """With no plan loaded the planner explains how to make one (still 200)."""
    app = make_app(WARMHEART_PLAN_DIR=None)
    r = app.test_client().get("/planner?lang=en")
    assert r.status_code == 200
    assert "warmheart shuttles plan" in r.get_data(as_text=True)


def test_planner_download_is_a_standalone_attachment(client) -> None:
    """The download is an HTML attachment with every asset inlined (opens offline)."""
    r = client.get("/planner/download?lang=en")
    assert r.status_code == 200 and r.mimetype == "text/html"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=")
    assert r.headers["Content-Disposition"].endswith('.html"')
    page = r.get_data(as_text=True)
    assert "/assets/" not in page
    assert "window.warmheart.planner" in page and "L.map(" in page
    assert "data:image/png;base64," in page
    assert 'class="wh-download"' not in page


def test_station_write_shows_on_the_next_page(client, admin_headers) -> None:
    """A station added through the API appears on the locator without a restart."""
    page = client.get("/").get_data(as_text=True)
    assert len(_options(page, "locator")["stations"]["rows"]) == 13
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [24.945, 60.17]},
        "properties": {"id": "ws-new", "kind": "warm_station", "name": "New station"},
    }
    r = client.post("/api/stations", json=feature, headers=admin_headers)
    assert r.status_code == 201
    page = client.get("/").get_data(as_text=True)
    assert "ws-new" in {row[0] for row in _options(page, "locator")["stations"]["rows"]}


def test_osm_tiles_with_attribution(make_app) -> None:
    """WARMHEART_TILES=osm adds the OSM tile layer and its required attribution."""
    page = make_app(WARMHEART_TILES="osm").test_client().get("/").get_data(as_text=True)
    assert "https://tile.openstreetmap.org/{z}/{x}/{y}.png" in page
    assert "OpenStreetMap" in page and "contributors" in page
    assert "wh-notiles" not in page


def test_no_tiles_page_has_no_tile_layer(client) -> None:
    """WARMHEART_TILES=none draws no tile layer at all."""
    page = client.get("/").get_data(as_text=True)
    assert "L.tileLayer" not in page and "wh-notiles" in page


def test_gcj02_tiles_tell_the_front_end_to_shift(make_app) -> None:
    """A GCJ-02 provider (AutoNavi) makes the page shift WGS-84 data to GCJ-02."""
    page = make_app(WARMHEART_TILES="amap").test_client().get("/").get_data(as_text=True)
    assert _options(page, "locator")["datum"] == "gcj02"
    assert "autonavi.com" in page


@pytest.mark.parametrize(
    ("value", "url", "datum"),
    [
        ("osm", "https://tile.openstreetmap.org/{z}/{x}/{y}.png", "wgs84"),
        ("AMAP", "autonavi", "gcj02"),
        ("https://t.example.org/{z}/{x}/{y}.png | © Example", "https://t.example.org/", "wgs84"),
        (
            "https://wprd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z} | © AutoNavi",
            "autonavi",
            "gcj02",
        ),
        ("https://t.example.cn/{z}/{x}/{y}.png|© Ex|gcj02", "example.cn", "gcj02"),
        (
            '{"url": "https://a.b/{z}/{x}/{y}.png", "attribution": "x", "max_zoom": 17}',
            "a.b",
            "wgs84",
        ),
        (
            {"url": "https://a.b/{z}/{x}/{y}.png", "attribution": "x", "datum": "gcj02"},
            "a.b",
            "gcj02",
        ),
    ],
)
def test_resolve_tiles(value: Any, url: str, datum: str) -> None:
    """Presets, templates with attribution and datum, JSON and mappings all resolve."""
    tiles = resolve_tiles(value)
    assert tiles is not None
    assert url in tiles.url and tiles.datum == datum and tiles.attribution


@pytest.mark.parametrize("value", [None, "none", "", "off"])
def test_resolve_tiles_none(value: Any) -> None:
    """'none' (and empty) mean no tiles."""
    assert resolve_tiles(value) is None


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("https://t.example.org/tiles.png | © x", "with \\{x\\}"),
        ("https://t.example.org/{z}/{x}/{y}.png", "attribution"),
        ("ftp://t/{z}/{x}/{y}", "tile URL template"),
        ('{"url": ', "as JSON"),
        ({"url": "https://a/{z}/{x}/{y}", "attribution": "x", "datum": "bd09"}, "datum"),
        (42, "Expected WARMHEART_TILES"),
    ],
)
def test_resolve_tiles_rejects_bad_values(value: Any, match: str) -> None:
    """A malformed tile setting is a ConfigError saying what was expected."""
    with pytest.raises(ConfigError, match=match):
        resolve_tiles(value)


def test_station_table_is_compact(webmap_stations) -> None:
    """The browser table costs well under 150 bytes per station."""
    table = station_table(webmap_stations * 100, lang="en")
    size = len(json.dumps(table["rows"], ensure_ascii=False, separators=(",", ":")))
    assert size / len(table["rows"]) < 150


@pytest.mark.parametrize(
    ("bounds", "expected"),
    [((24.9, 60.15, 24.98, 60.19), 13), ((121.45, 38.85, 121.60, 38.92), 13), ((0, 0, 0, 0), 18)],
)
def test_zoom_for_bounds(bounds: tuple[float, float, float, float], expected: int) -> None:
    """The initial zoom fits the area into a 900x700 view."""
    assert zoom_for_bounds(bounds) == expected


def test_pages_are_cached_with_etags(client) -> None:
    """A repeated page is served from cache; its ETag gives 304 to a revalidating phone."""
    first = client.get("/?lang=en")
    etag = first.headers["ETag"]
    assert "Accept-Language" in first.headers["Vary"]
    assert first.headers["Cache-Control"] == "no-cache"
    again = client.get("/?lang=en", headers={"If-None-Match": etag})
    assert again.status_code == 304
    other = client.get("/?lang=ja")
    assert other.headers["ETag"] != etag


def test_offline_basemap_has_the_area_streets(client) -> None:
    """With tiles off the pages point at /basemap.json: every walkable street, attributed."""
    page = client.get("/?lang=en").get_data(as_text=True)
    assert _options(page, "locator")["basemap"] == "/basemap.json"
    r = client.get("/basemap.json")
    assert r.status_code == 200 and r.headers["ETag"]
    data = r.get_json()
    assert data["classes"] == ["major", "minor", "path"]
    assert len(data["lines"]) > 1000
    assert all(len(line) >= 5 and len(line) % 2 == 1 for line in data["lines"])
    assert "OpenStreetMap" in data["attribution"]
    assert (
        client.get("/basemap.json", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    )


def test_tiles_on_means_no_basemap(make_app) -> None:
    """With a tile layer configured the streets layer is not drawn."""
    page = make_app(WARMHEART_TILES="osm").test_client().get("/").get_data(as_text=True)
    assert _options(page, "locator")["basemap"] is None


def test_download_inlines_the_basemap(client) -> None:
    """The standalone planner carries its streets inline (no fetch from a file:// page)."""
    page = client.get("/planner/download").get_data(as_text=True)
    assert '"basemap":{"classes":["major","minor","path"]' in page


def test_lines_follow_their_driven_path(webmap_plan) -> None:
    """A line with a driven path is drawn along it; colours stay distinct for 12 lines."""
    import dataclasses

    from shapely.geometry import LineString

    from webmap.i18n import Translator
    from webmap.maps import LINE_COLOURS, line_colour
    from webmap.planner import lines_collection

    line = webmap_plan.lines[0]
    coords = [(v.lon, v.lat) for v in line.stops] + [line.workplace]
    bent = [coords[0], (coords[0][0] + 0.001, coords[0][1]), *coords[1:]]
    plan = dataclasses.replace(
        webmap_plan, lines=(dataclasses.replace(line, path=LineString(bent)),)
    )
    feature = lines_collection(plan, t=Translator("en"), lang="en")["features"][0]
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["geometry"]["coordinates"]) == len(bent)
    assert len({line_colour(i) for i in range(12)}) == len(LINE_COLOURS) == 12


def test_bad_tile_setting_fails_at_start(make_app) -> None:
    """A malformed WARMHEART_TILES stops create_app with a ConfigError, not a 500 later."""
    with pytest.raises(ConfigError, match="attribution"):
        make_app(WARMHEART_TILES="https://t.example.org/{z}/{x}/{y}.png")
