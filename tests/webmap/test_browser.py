"""The pages as a user sees them: headless Debian Chromium driven by Playwright.

The real app (``create_app`` with the test store and plan, tiles off) runs in a background
thread on 127.0.0.1; a second tiny server on another port plays the third-party site that
embeds the map. Every test fails if the page requests anything outside the app's origin.
Screenshots go to ``tests/artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from flask import Flask

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# The XSS station of tests/webmap/conftest.py.
XSS_ID = "xss-1"
XSS_NAME = "<img src=x onerror=alert(1)>"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}

if not CHROMIUM.exists():
    pytest.skip(
        "Debian chromium is not installed at /usr/bin/chromium (run `make browser`)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api")


class _Server:
    """A WSGI app served by werkzeug on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: Any) -> None:
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser_app(
    tmp_path_factory: pytest.TempPathFactory,
    helsinki_area: Any,
    webmap_store: Path,
    webmap_plan_dir: Path,
) -> Flask:
    """The app under test: test store and plan, no tiles, default embed settings."""
    from conftest import build_app

    folder = tmp_path_factory.mktemp("browser-store")
    return build_app(folder, helsinki_area, webmap_store, webmap_plan_dir)


@pytest.fixture(scope="module")
def live(browser_app: Flask) -> Iterator[str]:
    """Base URL of the app served on a random loopback port."""
    server = _Server(browser_app)
    yield server.url
    server.close()


@pytest.fixture(scope="module")
def third_party(live: str) -> Iterator[str]:
    """Another origin (another port) serving a page that embeds the map in an iframe."""
    from flask import Flask

    site = Flask("third_party")

    @site.get("/")
    def index() -> str:
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Partner site</title></head>"
            "<body style='font-family:sans-serif;margin:20px'><h1>Union news</h1>"
            "<p>Find a warm-heart station:</p>"
            f'<iframe id="wh" src="{live}/embed/stations?lang=en" title="map" width="100%" '
            'height="520" style="border:1px solid #ccc" allow="geolocation"></iframe>'
            "<p>Our commuter buses:</p>"
            f'<iframe id="wh-lines" src="{live}/embed/lines?lang=en" title="lines" width="100%" '
            'height="360" style="border:1px solid #ccc"></iframe>'
            "</body></html>"
        )

    server = _Server(site)
    yield server.url
    server.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium (no network of its own: background networking off)."""
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Any, live: str) -> Iterator[Callable[..., Any]]:
    """``open_page(viewport, allowed_origins=())``: a new page whose requests are audited.

    After the test, every request must have gone to the app's origin (or an allowed one,
    ``data:``/``blob:`` URLs aside), and no JS dialog may have opened.
    """
    contexts: list[Any] = []
    requests: list[str] = []
    dialogs: list[str] = []
    errors: list[str] = []
    allowed = [live]

    def factory(viewport: dict[str, int] = DESK, *, extra_origins: tuple[str, ...] = ()) -> Any:
        allowed.extend(extra_origins)
        context = browser.new_context(viewport=viewport, locale="en-US")
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))

        def on_dialog(d: Any) -> None:
            dialogs.append(d.message)
            d.dismiss()

        page.on("dialog", on_dialog)
        page.set_default_timeout(20_000)
        return page

    yield factory
    for context in contexts:
        context.close()
    outside = [
        u for u in requests if not u.startswith(("data:", "blob:", *[a + "/" for a in allowed]))
    ]
    assert not outside, f"requests left the app's origin: {outside}"
    assert not dialogs, f"a JS dialog fired (script injection?): {dialogs}"
    assert not errors, f"JS errors on the page: {errors}"


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def _wait_ready(page: Any) -> None:
    page.wait_for_selector("html[data-wh-ready]", state="attached")


def test_locator_loads_and_shows_markers(open_page: Callable[..., Any], live: str) -> None:
    """The locator renders every station (13) as clustered circle markers, offline."""
    page = open_page(DESK)
    page.goto(f"{live}/?lang=en")
    _wait_ready(page)
    assert page.get_attribute("html", "data-wh-markers") == "13"
    assert page.locator(".leaflet-container canvas, .marker-cluster").count() > 0
    assert page.locator("#wh-count").inner_text().startswith("13")
    # Tiles are off: the Area's streets are drawn as the offline basemap.
    page.wait_for_selector("html[data-wh-streets]", state="attached")
    assert int(page.get_attribute("html", "data-wh-streets") or 0) > 1000
    _shot(page, "locator-desk")


def _wait_until(page: Any, expression: str, timeout_s: float = 20.0) -> None:
    """Poll a JS expression until true (wait_for_function evaluates strings: CSP forbids)."""
    import time

    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(50)


def _search_at_station(page: Any, station_id: str) -> None:
    """Search from a station's own position (never from the map centre)."""
    lonlat = page.evaluate("(id) => window.warmheart.stationLonLat(id)", station_id)
    page.evaluate(f"window.warmheart.search({lonlat[0]}, {lonlat[1]})")
    page.wait_for_selector("html[data-wh-results]", state="attached")


def test_click_lists_nearest_and_draws_route(open_page: Callable[..., Any], live: str) -> None:
    """Tapping the map on a phone lists the nearest stations (minutes, metres) and a route."""
    page = open_page(PHONE)
    page.goto(f"{live}/?lang=en&center=24.9384,60.1699&zoom=15")
    _wait_ready(page)
    box = page.locator("#wh-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.3)
    page.wait_for_selector("html[data-wh-results]", state="attached")
    items = page.locator("#wh-results li")
    assert items.count() >= 1
    first = items.first.inner_text()
    assert "min walk" in first and ("m" in first)
    page.wait_for_selector("html[data-wh-route]", state="attached")
    assert int(page.get_attribute("html", "data-wh-route") or 0) >= 2
    _shot(page, "locator-phone-nearest")
    # Choosing another result redraws its route.
    if items.count() > 1:
        items.nth(1).locator("button").click()
        assert "wh-selected" in (items.nth(1).get_attribute("class") or "")


def test_outside_the_area_says_so_and_offers_the_map(
    open_page: Callable[..., Any], live: str
) -> None:
    """A GPS fix far outside the area: "outside this map's service area" and a way to the map."""
    page = open_page(PHONE)
    page.goto(f"{live}/?lang=en")
    _wait_ready(page)
    page.evaluate("window.warmheart.search(116.40, 39.90)")  # Beijing, on a Helsinki map
    page.wait_for_selector("html[data-wh-reason='outside_area']", state="attached")
    assert "outside this map's service area" in page.locator("#wh-status").inner_text()
    assert page.locator("#wh-results li").count() == 0
    button = page.locator("#wh-whole-map")
    assert button.is_visible()
    page.evaluate("window.warmheart.map.setView([0, 0], 3, {animate: false})")
    button.click()
    centre = page.evaluate(
        "[window.warmheart.map.getCenter().lng, window.warmheart.map.getCenter().lat]"
    )
    assert 24.8 < centre[0] < 25.1 and 60.1 < centre[1] < 60.25
    _shot(page, "locator-phone-outside-area")


def test_first_pick_is_open_at_the_phone_time(open_page: Callable[..., Any], live: str) -> None:
    """At an emulated Saturday 08:00 in Helsinki the first pick is open; the switch shows all.

    Searching from ws-02 (Mo-Fr 09:00-17:00, closed on Saturday) itself: with the default
    "open now only", ws-02 is not listed and the first result is open; with the switch off it
    is first, marked closed, with when it opens next (Monday 09:00, the station's time).
    """
    page = open_page(PHONE)
    page.clock.set_fixed_time("2026-01-17T06:00:00Z")  # Saturday 08:00 in Helsinki (UTC+2)
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/api/nearest" in r.url else None)
    page.goto(f"{live}/?lang=en")
    _wait_ready(page)
    assert page.locator("#wh-open-now").is_checked()
    _search_at_station(page, "ws-02")
    assert "open_at=2026-01-17T06%3A00%3A00Z" in sent[-1]
    rows = page.locator("#wh-results li")
    assert rows.count() >= 1
    assert rows.first.get_attribute("data-wh-id") != "ws-02"
    assert "Open now" in rows.first.inner_text()
    assert all("Closed now" not in rows.nth(i).inner_text() for i in range(rows.count()))
    _shot(page, "locator-phone-open-now")
    page.locator("#wh-open-now").uncheck()
    _wait_until(page, "document.querySelector('#wh-results li[data-wh-id=\"ws-02\"]') !== null")
    first = page.locator("#wh-results li").first
    assert first.get_attribute("data-wh-id") == "ws-02"
    text = first.inner_text()
    assert "Closed now" in text and "Opens Mon 09:00" in text
    assert "open_at" not in sent[-1] and "at=2026-01-17T06%3A00%3A00Z" in sent[-1]


def test_rows_show_hours_and_amenities_in_words(open_page: Callable[..., Any], live: str) -> None:
    """Result rows say today's hours in the page language and list amenities as icon + word."""
    page = open_page(PHONE)
    page.clock.set_fixed_time("2026-01-15T08:00:00Z")  # Thursday 10:00 in Helsinki
    page.goto(f"{live}/?lang=zh")
    _wait_ready(page)
    _search_at_station(page, "ws-02")
    row = page.locator("#wh-results li[data-wh-id='ws-02']")
    text = row.inner_text()
    assert "今日 09:00–17:00 营业" in text and "17:00 关门" in text
    assert "饮用水" in text or "饮水" in text
    assert row.locator(".wh-amenity svg use").count() == 2
    assert "Mo-Fr" not in page.locator("#wh-results").inner_text()
    row.locator("button").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "周一至周五 09:00–17:00" in popup.inner_text()
    _shot(page, "locator-phone-zh-hours")


def test_zoom_controls_clear_of_the_collapsed_sheet(
    open_page: Callable[..., Any], live: str
) -> None:
    """On a phone the zoom buttons sit above the (collapsed) sheet and respond to a tap."""
    page = open_page(PHONE)
    page.goto(f"{live}/?lang=en&center=24.9384,60.1699&zoom=14")
    _wait_ready(page)
    viewport = page.get_attribute("meta[name=viewport]", "content") or ""
    assert "user-scalable=no" not in viewport and "maximum-scale" not in viewport
    page.locator("#wh-grip").click()
    _wait_until(page, "document.getElementById('wh-panel').classList.contains('wh-collapsed')")
    page.wait_for_timeout(300)  # the controls' short transition
    zoom_in = page.locator(".leaflet-control-zoom-in")
    box = zoom_in.bounding_box()
    panel = page.locator("#wh-panel").bounding_box()
    assert box is not None and panel is not None
    assert box["y"] + box["height"] <= panel["y"]
    hit = page.evaluate(
        f"document.elementFromPoint({box['x'] + box['width'] / 2}, {box['y'] + box['height'] / 2})"
        ".closest('.leaflet-control-zoom-in') !== null"
    )
    assert hit
    before = page.evaluate("window.warmheart.map.getZoom()")
    zoom_in.click()
    _wait_until(page, f"window.warmheart.map.getZoom() === {before + 1}")
    _shot(page, "locator-phone-collapsed")


def test_no_kind_ticked_lists_nothing(open_page: Callable[..., Any], live: str) -> None:
    """With every kind unticked, the map shows no station and neither does the list."""
    page = open_page(PHONE)
    page.goto(f"{live}/?lang=en")
    _wait_ready(page)
    _search_at_station(page, "ws-01")
    assert page.locator("#wh-results li").count() >= 1
    page.locator("#wh-filters-toggle").click()
    for kind in ("warm_station", "nursing_room", "shuttle_stop"):
        page.locator(f"input[name=kind][value={kind}]").uncheck()
    page.wait_for_selector("html[data-wh-markers='0']", state="attached")
    _wait_until(page, "document.querySelectorAll('#wh-results li').length === 0")
    assert "at least one kind" in page.locator("#wh-status").inner_text()


def test_a_late_answer_never_overwrites_a_newer_search(
    open_page: Callable[..., Any], live: str
) -> None:
    """Answers to older searches are dropped: the list shows what the filters say now, even
    when the server answers a search after the filters changed (held here on purpose)."""
    page = open_page(PHONE)
    page.goto(f"{live}/?lang=en")
    _wait_ready(page)
    held: list[Any] = []
    page.route("**/api/nearest?**", lambda route: held.append(route))
    lonlat = page.evaluate("(id) => window.warmheart.stationLonLat(id)", "ws-01")
    page.evaluate(f"window.warmheart.search({lonlat[0]}, {lonlat[1]})")
    page.locator("#wh-filters-toggle").click()
    for kind in ("warm_station", "nursing_room", "shuttle_stop"):
        page.locator(f"input[name=kind][value={kind}]").uncheck()
    page.wait_for_selector("html[data-wh-results='0']", state="attached")
    assert held  # the searches before the last untick are still on their way
    page.unroute_all()
    for route in held:
        with contextlib.suppress(Exception):  # the page may have cancelled it already
            route.continue_()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    assert page.locator("#wh-results li").count() == 0
    assert "at least one kind" in page.locator("#wh-status").inner_text()


def test_language_switch_changes_interface(open_page: Callable[..., Any], live: str) -> None:
    """The visible switch turns the interface (and station names) into the chosen language."""
    page = open_page(PHONE)
    page.goto(f"{live}/?lang=en")
    _wait_ready(page)
    assert page.locator("#wh-near-me").inner_text() == "Near me"
    page.locator(".wh-lang a[hreflang=zh]").click()
    page.wait_for_url("**lang=zh**")
    _wait_ready(page)
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert page.locator("#wh-near-me").inner_text() == "我附近"
    page.locator(".wh-lang a[hreflang=ko]").click()
    page.wait_for_url("**lang=ko**")
    assert page.locator("#wh-near-me").inner_text() == "내 주변"
    _shot(page, "locator-phone-ko")


def test_filters_change_the_markers(open_page: Callable[..., Any], live: str) -> None:
    """Unticking a kind or requiring an amenity re-clusters only the matching stations."""
    page = open_page(PHONE)
    page.goto(f"{live}/?lang=zh")
    _wait_ready(page)
    page.locator("#wh-filters-toggle").click()
    page.locator("#wh-filters").wait_for(state="visible")
    _shot(page, "locator-phone-zh-filters")
    page.locator("input[name=kind][value=warm_station]").uncheck()
    page.wait_for_selector("html[data-wh-markers='6']", state="attached")
    page.locator("input[name=amenity][value=private_room]").check()
    page.wait_for_selector("html[data-wh-markers='2']", state="attached")
    assert page.locator("#wh-count").inner_text() == "显示 2 / 13"


def test_accept_language_picks_japanese(browser: Any, live: str) -> None:
    """A browser asking for Japanese gets the Japanese interface without ?lang=."""
    context = browser.new_context(locale="ja-JP", extra_http_headers={"Accept-Language": "ja"})
    try:
        page = context.new_page()
        page.goto(f"{live}/")
        assert page.locator("#wh-near-me").inner_text() == "現在地から探す"
    finally:
        context.close()


def test_embed_renders_in_cross_origin_iframe(
    open_page: Callable[..., Any], live: str, third_party: str
) -> None:
    """With default settings a page on another origin shows the embeds: markers and lines."""
    page = open_page(DESK, extra_origins=(third_party,))
    page.goto(third_party)
    frame = page.frame_locator("#wh")
    frame.locator("html[data-wh-ready]").wait_for(state="attached")
    assert frame.locator("html").get_attribute("data-wh-markers") == "13"
    assert frame.locator("#wh-near-me").inner_text() == "Near me"
    assert frame.locator(".wh-bar").count() == 0  # chrome-less
    frame.locator("html[data-wh-streets]").wait_for(state="attached")
    lines = page.frame_locator("#wh-lines")
    lines.locator("html[data-wh-ready]").wait_for(state="attached")
    assert lines.locator("html").get_attribute("data-wh-lines") == "2"
    assert lines.locator(".leaflet-container canvas").count() >= 1
    _shot(page, "embed-third-party")


def test_embed_refused_where_frame_ancestors_forbid(
    browser: Any, make_app: Callable[..., Any]
) -> None:
    """Configured to 'self', another origin cannot frame the embed (the restriction works)."""
    app = make_app(WARMHEART_FRAME_ANCESTORS="'self'")
    server = _Server(app)
    from flask import Flask

    site = Flask("other")
    site.add_url_rule(
        "/",
        "index",
        lambda: f'<iframe id="wh" src="{server.url}/embed/stations"></iframe>',
    )
    other = _Server(site)
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(other.url)
        page.wait_for_timeout(1500)
        frame = page.frame_locator("#wh")
        assert frame.locator("html[data-wh-ready]").count() == 0
        # Chromium replaces a refused frame with its error page.
        child = [f for f in page.frames if f != page.main_frame]
        assert child and all(f.url.startswith("chrome-error://") for f in child)
    finally:
        context.close()
        other.close()
        server.close()


def test_planner_shows_lines(open_page: Callable[..., Any], live: str) -> None:
    """The planner draws both lines, lists them with KPIs and the unserved rider."""
    page = open_page(DESK)
    page.goto(f"{live}/planner?lang=en")
    _wait_ready(page)
    assert page.get_attribute("html", "data-wh-lines") == "2"
    assert page.locator("#wh-lines tbody tr").count() == 2
    assert page.locator("#wh-unserved tbody tr").count() == 1
    page.locator("#wh-lines tbody tr").first.click()
    page.wait_for_selector(".leaflet-popup-content")
    assert "L001" in page.locator(".leaflet-popup-content").inner_text()
    page.wait_for_selector("html[data-wh-streets]", state="attached")
    page.wait_for_timeout(500)  # let the popup's auto-pan settle before the screenshot
    _shot(page, "planner-desk")


def test_script_payloads_show_as_text(open_page: Callable[..., Any], live: str) -> None:
    """A station named <img src=x onerror=alert(1)> is text in popups, lists and the planner."""
    page = open_page(DESK)
    page.goto(f"{live}/?lang=en")
    _wait_ready(page)
    assert page.evaluate(f"window.warmheart.openStation({XSS_ID!r})")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS_NAME in popup.inner_text()
    # From the payload station's own position, so it is always among the nearest.
    _search_at_station(page, XSS_ID)
    assert XSS_NAME in page.locator("#wh-results").inner_text()
    assert page.locator("img[src=x], svg[onload]").count() == 0
    _shot(page, "locator-xss-as-text")

    page.goto(f"{live}/planner?lang=en")
    _wait_ready(page)
    opened = page.evaluate(
        """() => { let n = 0; window.warmheart.map.eachLayer(l => {
             if (l.getPopup && l.getPopup()) { l.openPopup(); n += 1;
               if (document.querySelector('img[src=x]')) throw new Error('injected'); } });
           return n; }"""
    )
    assert opened >= 5
    assert page.locator("img[src=x]").count() == 0


def test_gcj02_shift_matches_python(open_page: Callable[..., Any], live: str) -> None:
    """The page's WGS-84 -> GCJ-02 shift agrees with stations.coords to a few centimetres."""
    coords = pytest.importorskip("stations.coords")
    to_gcj = getattr(coords, "wgs84_to_gcj02", None)
    if to_gcj is None:
        pytest.skip("stations.coords has no wgs84_to_gcj02")
    page = open_page(DESK)
    page.goto(f"{live}/?lang=en")
    _wait_ready(page)
    for lon, lat in [(121.52, 38.88), (116.47, 39.91), (24.94, 60.17)]:
        js = page.evaluate(f"window.warmheart.wgs2gcj({lon}, {lat})")
        py = to_gcj(lon, lat)
        py = (float(py[0]), float(py[1]))
        assert abs(js[0] - py[0]) < 1e-6 and abs(js[1] - py[1]) < 1e-6
        back = page.evaluate(f"window.warmheart.gcj2wgs({js[0]}, {js[1]})")
        assert abs(back[0] - lon) < 1e-7 and abs(back[1] - lat) < 1e-7


def test_base_map_shows_street_names_offline(
    open_page: Callable[..., Any], make_app: Callable[..., Any]
) -> None:
    """Default settings: the app's own tiles, with street names, and nothing off the origin."""
    import re

    app = make_app(WARMHEART_TILES="local")
    server = _Server(app)
    try:
        page = open_page(PHONE, extra_origins=(server.url,))
        tiles: list[str] = []
        page.on("requestfinished", lambda r: tiles.append(r.url) if "/tiles/" in r.url else None)
        page.goto(f"{server.url}/?lang=zh&center=24.9384,60.1699&zoom=17")
        _wait_ready(page)
        _wait_until(page, "document.querySelectorAll('img.leaflet-tile-loaded').length >= 4")
        assert tiles and all("/tiles/zh/17/" in url for url in tiles)
        labels, boxes = app.extensions["warmheart_tiles"]._placed("zh", 17)
        named = set()
        for url in tiles:
            _z, x, y = map(int, re.search(r"/(\d+)/(\d+)/(\d+)\.png", url).groups())
            ox, oy = x * 256, y * 256
            for label, box in zip(labels, boxes, strict=True):
                if box[0] <= ox + 256 and box[2] >= ox and box[1] <= oy + 256 and box[3] >= oy:
                    named.add(label.text)
        assert len(named) >= 2, named  # street and landmark names drawn on the visible tiles
        _shot(page, "locator-phone-zh-basemap")
    finally:
        server.close()
