"""The pages as a user sees them: headless Debian Chromium driven by Playwright.

The real app (``create_app`` with the test store and plan, tiles off) runs in a background
thread on 127.0.0.1; a second tiny server on another port plays the third-party site that
embeds the map. Every test fails if the page requests anything outside the app's origin.
Screenshots go to ``tests/artifacts/`` (git-ignored) for a human to look at.
"""

from __future__ import annotations

import shutil
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
    """The app under test: test store and plan, no tiles, any 127.0.0.1 port may frame it."""
    from webmap import create_app

    store = tmp_path_factory.mktemp("browser-store") / "stations.gpkg"
    shutil.copyfile(webmap_store, store)
    return create_app(
        {
            "TESTING": True,
            "WARMHEART_AREA": helsinki_area,
            "WARMHEART_STORE": str(store),
            "WARMHEART_PLAN_DIR": str(webmap_plan_dir),
            "WARMHEART_TILES": "none",
            "WARMHEART_RATELIMIT_ENABLED": False,
            "WARMHEART_FRAME_ANCESTORS": "'self' http://127.0.0.1:*",
        }
    )


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


def test_click_lists_nearest_and_draws_route(open_page: Callable[..., Any], live: str) -> None:
    """Tapping the map on a phone lists the nearest stations (minutes, metres) and a route."""
    page = open_page(PHONE)
    page.goto(f"{live}/?lang=en")
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
    # A point far off the streets gets a plain-language reason, not an empty list.
    page.evaluate("window.warmheart.search(24.80, 60.10)")
    page.wait_for_selector("#wh-status.wh-error")
    assert "too far from any footpath" in page.locator("#wh-status").inner_text()


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
    """A page on another origin shows the embed in an iframe, markers and "near me" included."""
    page = open_page(DESK, extra_origins=(third_party,))
    page.goto(third_party)
    frame = page.frame_locator("#wh")
    frame.locator("html[data-wh-ready]").wait_for(state="attached")
    assert frame.locator("html").get_attribute("data-wh-markers") == "13"
    assert frame.locator("#wh-near-me").inner_text() == "Near me"
    assert frame.locator(".wh-bar").count() == 0  # chrome-less
    frame.locator("html[data-wh-streets]").wait_for(state="attached")
    _shot(page, "embed-third-party")


def test_embed_refused_where_frame_ancestors_forbid(
    browser: Any, make_app: Callable[..., Any]
) -> None:
    """With the default frame-ancestors ('self') another origin cannot frame the embed."""
    app = make_app()
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
    lonlat = page.evaluate(
        "[window.warmheart.map.getCenter().lng, window.warmheart.map.getCenter().lat]"
    )
    page.evaluate(f"window.warmheart.search({lonlat[0]}, {lonlat[1]})")
    page.wait_for_selector("html[data-wh-results]", state="attached")
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
