"""Locator page benchmark: 10,000 stations, HTML bytes and time until markers show.

Side by side in one run, in headless Debian Chromium (``/usr/bin/chromium``, Playwright):

* **warmheart** ``/``: stations as one compact JSON table, canvas circle markers in a
  Leaflet.markercluster group with chunked loading, popups built on demand.
* **folium default**: what a user would otherwise write, ``folium.Marker`` per station (popup
  with name, host, amenities, hours; tooltip with the name) in a ``folium.plugins.MarkerCluster``.
  A default Folium page loads its JS/CSS from public CDNs, which cannot load offline (nor
  reliably in mainland China); for a fair race it gets the same self-hosted Leaflet,
  MarkerCluster and jQuery files from the same server (``webmap.assets.self_host``), and its
  Bootstrap / awesome-markers files are dropped (it would otherwise load ~10 more files).
  Neither page has tiles (``WARMHEART_TILES=none``; the peer gets ``maxZoom`` 19 as its
  OSM layer would give it).

Data: the embedded Helsinki sample area (``routing.load_area("helsinki")``) with N seeded
random stations on walk-graph nodes (every kind, random amenities, hours, zh/en names).
Both pages come from the same werkzeug server on loopback; every run uses a fresh browser
context (cold HTTP cache) after one untimed warm-up visit of each. "Markers shown" is the
first ``.leaflet-marker-icon`` (cluster or marker) added to the DOM, recorded in the page by
a MutationObserver, relative to navigation start. "Zoom" is 6 zoom steps (in, then out)
from the same view (area centre, zoom 13) without animation, each timed to the second
animation frame after ``setZoom`` (re-clustering included). Nothing is asserted.

Then the base map (``_basemap_bench.py``): the same 10,000 stations with the app's own
tiles (the default) — markers shown, first labelled tile, all visible tiles, drawn cold —
and pan/zoom frame lengths on Liechtenstein, own tiles against the vector street layer.

Usage::

    python benchmarks/bench_pages.py [--stations 10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

_OBSERVER = """
(() => {
  window.__firstMarker = null;
  const check = () => {
    if (window.__firstMarker === null && document.querySelector('.leaflet-marker-icon')) {
      window.__firstMarker = performance.now();
    }
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true});
})();
"""

_ZOOM = """
async ([lat, lon]) => {
  const name = Object.keys(window).find(k => /^map_[0-9a-f]+$/.test(k));
  const map = window[name];
  const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  map.setView([lat, lon], 13, {animate: false});  // the same start view for both pages
  await frame();
  await new Promise(r => setTimeout(r, 300));
  const start = performance.now();
  for (const dz of [1, 1, 1, -1, -1, -1]) {
    map.setZoom(map.getZoom() + dz, {animate: false});
    await frame();
  }
  return performance.now() - start;
}
"""


def _stations(area: Any, n: int, seed: int) -> list[Any]:
    from stations.model import AMENITIES, HOST_TYPES, KINDS, Station

    rng = random.Random(seed)
    arrays = area.arrays("walk")
    hours = ["24/7", "Mo-Fr 08:00-18:00", "Mo-Su 07:00-22:00", "Sa-Su 10:00-16:00", None]
    out = []
    for i in range(n):
        j = rng.randrange(arrays.n)
        kind = rng.choices(KINDS, weights=[0.7, 0.2, 0.1])[0]
        out.append(
            Station(
                id=f"s{i:05d}",
                kind=kind,
                name=f"暖心驿站 {i}号",
                names={"en": f"Warm station no. {i}"},
                lon=float(arrays.lon[j]) + rng.uniform(-2e-5, 2e-5),
                lat=float(arrays.lat[j]) + rng.uniform(-2e-5, 2e-5),
                address=f"{rng.randint(1, 200)} Bench Street",
                host_type=rng.choice(HOST_TYPES),
                amenities=frozenset(rng.sample(AMENITIES, rng.randint(1, 5))),
                opening_hours=rng.choice(hours),
                source="bench",
            )
        )
    return out


def _folium_page(stations: list[Any], center: tuple[float, float]) -> str:
    """The peer: folium.Marker per station in a MarkerCluster, with popup and tooltip."""
    import folium
    from folium.plugins import MarkerCluster
    from markupsafe import escape

    from webmap.assets import self_host

    m = folium.Map(location=[center[1], center[0]], zoom_start=13, tiles=None)
    # Without a tile layer Leaflet has no maxZoom and MarkerCluster refuses to start; a
    # default page gets it from its OSM tiles, which the offline race leaves out for both.
    m.options["max_zoom"] = 19
    cluster = MarkerCluster().add_to(m)
    for s in stations:
        popup = (
            f"<b>{escape(s.name_in('en'))}</b><br>{escape(s.host_type or '')}<br>"
            f"{escape(', '.join(sorted(s.amenities)))}<br>{escape(s.opening_hours or '')}"
        )
        folium.Marker(
            [s.lat, s.lon], popup=folium.Popup(popup, max_width=300), tooltip=s.name_in("en")
        ).add_to(cluster)
    self_host(m)
    return m.get_root().render()


def _measure(
    browser: Any, url: str, center: tuple[float, float], *, block: str | None = None
) -> dict[str, float]:
    # bypass_csp: Playwright's wait_for_function evaluates a string, which our CSP forbids.
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        if block:
            page.route(block, lambda route: route.abort())
        page.add_init_script(_OBSERVER)
        page.set_default_timeout(180_000)
        page.goto(url, wait_until="commit")
        page.wait_for_function("window.__firstMarker !== null", polling=50)
        first = float(page.evaluate("window.__firstMarker"))
        page.wait_for_load_state("load")
        nav = page.evaluate(
            "(() => { const e = performance.getEntriesByType('navigation')[0];"
            " return [e.domContentLoadedEventEnd, e.loadEventEnd]; })()"
        )
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
        page.wait_for_timeout(300)
        zoom = float(page.evaluate(_ZOOM, [center[1], center[0]]))
        return {
            "markers_ms": first,
            "dom_content_loaded_ms": float(nav[0]),
            "load_ms": float(nav[1]),
            "js_heap_mb": float(heap) / 1e6,
            "zoom_6_steps_ms": zoom,
        }
    finally:
        context.close()


def _median_rows(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in rows) for k in rows[0]}


def _own_tiles(browser: Any, area: Any, store: Path, center: Any, runs: int) -> dict[str, float]:
    """The locator with the app's own tiles, each run with a cold tile renderer."""
    from _basemap_bench import first_tiles
    from werkzeug.serving import make_server

    from webmap import create_app

    app = create_app(
        {
            "WARMHEART_AREA": area,
            "WARMHEART_STORE": str(store),
            "WARMHEART_TILES": "local",
            "WARMHEART_RATELIMIT_ENABLED": False,
        }
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = (
        f"http://127.0.0.1:{server.server_port}/?lang=en&center={center[0]:.5f},{center[1]:.5f}"
        "&zoom=16"
    )
    try:
        first_tiles(browser, url, lambda: None)  # warm-up
        rows = [
            first_tiles(browser, url, lambda: app.extensions.pop("warmheart_tiles", None))
            for _ in range(runs)
        ]
    finally:
        server.shutdown()
    return _median_rows(rows)


def _smoothness_li(browser: Any, runs: int) -> dict[str, dict[str, float]]:
    """Pan/zoom frame lengths on Liechtenstein: own tiles vs the vector street layer."""
    from _basemap_bench import smoothness
    from werkzeug.serving import make_server

    from routing import load_area
    from webmap import create_app

    pbf = ROOT.parent / "shared" / "osm" / "liechtenstein.osm.pbf"
    if not pbf.is_file():
        print(f"(no smoothness run: {pbf} not found)")
        return {}
    area = load_area(str(pbf))
    store = Path(tempfile.mkdtemp(prefix="bench-li-")) / "stations.gpkg"
    out: dict[str, dict[str, float]] = {}
    lon = (area.bounds[0] + area.bounds[2]) / 2
    lat = (area.bounds[1] + area.bounds[3]) / 2
    for label, tiles in (("own tiles (default)", "local"), ("vector streets (tiles=none)", "none")):
        app = create_app(
            {
                "WARMHEART_AREA": area,
                "WARMHEART_STORE": str(store),
                "WARMHEART_TILES": tiles,
                "WARMHEART_RATELIMIT_ENABLED": False,
            }
        )
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/?lang=en&center={lon:.5f},{lat:.5f}&zoom=14"
        try:
            out[label] = _median_rows([smoothness(browser, url) for _ in range(runs)])
        finally:
            server.shutdown()
    return out


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"bench_pages needs Debian chromium at {CHROMIUM} (run `make browser`)")

    from playwright.sync_api import sync_playwright
    from werkzeug.serving import make_server

    from routing import load_area
    from stations.store import open_store
    from webmap import create_app

    area = load_area("helsinki")
    stations = _stations(area, args.stations, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    store = open_store(path=tmp / "stations.gpkg")
    store.add(stations)
    store.close()
    t0 = time.perf_counter()
    app = create_app(
        {
            "WARMHEART_AREA": area,
            "WARMHEART_STORE": str(tmp / "stations.gpkg"),
            "WARMHEART_TILES": "none",
            "WARMHEART_RATELIMIT_ENABLED": False,
        }
    )
    app_s = time.perf_counter() - t0
    minlon, minlat, maxlon, maxlat = area.bounds
    center = ((minlon + maxlon) / 2, (minlat + maxlat) / 2)

    t0 = time.perf_counter()
    peer_html = _folium_page(stations, center)
    peer_render_s = time.perf_counter() - t0
    app.add_url_rule("/bench/folium", "bench_folium", lambda: peer_html)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    urls = {"warmheart": f"{base}/?lang=en", "folium default": f"{base}/bench/folium"}
    # Our page also draws the offline street basemap (the peer has none): a third column
    # blocks /basemap.json to show the markers alone.
    variants = {**urls, "warmheart, no streets": urls["warmheart"]}
    blocks = {"warmheart, no streets": "**/basemap.json"}

    sizes: dict[str, dict[str, float]] = {}
    for label, url in urls.items():
        t0 = time.perf_counter()
        body = urllib.request.urlopen(url).read()
        server_s = time.perf_counter() - t0
        sizes[label] = {
            "html_bytes": len(body),
            "html_gzip_bytes": len(gzip.compress(body, 6)),
            "server_ms": 1000 * (server_s if label == "warmheart" else peer_render_s),
        }

    runs: dict[str, list[dict[str, float]]] = {label: [] for label in variants}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--enable-precise-memory-info",
            ],
        )
        for url in urls.values():  # warm-up: browser start-up and font caches, not timed
            _measure(browser, url, center)
        for _ in range(args.runs):
            for label, url in variants.items():  # alternate, so drift hits all
                runs[label].append(_measure(browser, url, center, block=blocks.get(label)))
        tiled = _own_tiles(browser, area, tmp / "stations.gpkg", center, args.runs)
        smooth = _smoothness_li(browser, args.runs)
        browser.close()
    server.shutdown()

    results: dict[str, Any] = {
        "stations": args.stations,
        "runs": args.runs,
        "area": "helsinki (embedded sample)",
        "machine": (
            f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
        ),
        "app_start_s": round(app_s, 2),
        "pages": {},
    }
    sizes["warmheart, no streets"] = sizes["warmheart"]
    for label in variants:
        med = {k: statistics.median(r[k] for r in runs[label]) for k in runs[label][0]}
        results["pages"][label] = {**sizes[label], **{k: round(v, 1) for k, v in med.items()}}

    ours, peer = results["pages"]["warmheart"], results["pages"]["folium default"]
    bare = results["pages"]["warmheart, no streets"]
    print(f"Locator page, {args.stations:,} stations, median of {args.runs} cold runs")
    print(f"machine: {results['machine']}; app start (area + locator): {app_s:.1f} s")
    header = f"{'':24}{'warmheart':>11}{'no streets':>12}{'folium':>12}{'ratio':>8}{'ratio*':>8}"
    print(header)
    print("-" * len(header))
    rows = [
        ("HTML bytes", "html_bytes", "{:,.0f}"),
        ("HTML bytes gzip", "html_gzip_bytes", "{:,.0f}"),
        ("server render ms", "server_ms", "{:,.0f}"),
        ("markers shown ms", "markers_ms", "{:,.0f}"),
        ("DOMContentLoaded ms", "dom_content_loaded_ms", "{:,.0f}"),
        ("load event ms", "load_ms", "{:,.0f}"),
        ("JS heap MB", "js_heap_mb", "{:,.1f}"),
        ("zoom 6 steps ms", "zoom_6_steps_ms", "{:,.0f}"),
    ]
    for label, key, fmt in rows:
        a, c, b = ours[key], bare[key], peer[key]
        ratio = f"{b / a:.1f}x" if a else "-"
        ratio_bare = f"{b / c:.1f}x" if c else "-"
        print(
            f"{label:24}{fmt.format(a):>11}{fmt.format(c):>12}{fmt.format(b):>12}"
            f"{ratio:>8}{ratio_bare:>8}"
        )
    print("ratio = folium / warmheart, ratio* = folium / warmheart without the street layer")
    print("(higher is better for warmheart)")
    results["own_tiles"] = tiled
    results["smoothness"] = smooth
    print(
        f"\nWith the app's own tiles (default), cold tile cache, {args.stations:,} stations, "
        f"zoom 16 at the area centre, median of {args.runs}:"
    )
    print(
        f"  markers shown {tiled['markers_ms']:,.0f} ms, first labelled tile "
        f"{tiled['first_tile_ms']:,.0f} ms, all {tiled['tiles']:.0f} visible tiles "
        f"{tiled['all_tiles_ms']:,.0f} ms"
    )
    if smooth:
        print("\nPan/zoom on Liechtenstein (10 pans, 3 zooms in and out), frame lengths:")
        print(f"  {'':28}{'frames':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'> 50 ms':>9}")
        for label, row in smooth.items():
            print(
                f"  {label:28}{row['frames']:>8.0f}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
                f"{row['max_ms']:>9.0f}{row['long_frames']:>9.0f}"
            )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_pages.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
