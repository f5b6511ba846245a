"""The base map in the browser: first labelled tile, and pan/zoom smoothness on a country.

Helpers of ``bench_pages.py``. ``first_tiles`` times a locator page with the app's own tiles
(cold: a fresh tile renderer per run, so the server draws every tile): markers shown, first
tile shown (every street-zoom tile carries labels where streets are named), all visible
tiles shown. ``smoothness`` pans and zooms a map of Liechtenstein for a fixed script (10 pans
of 200 px, 3 zooms in and out, animated) while recording every animation frame's length:
the own tiles against the vector street layer offline maps drew before (``tiles=none``:
24,000 street pieces on a canvas, redrawn on every move).
"""

from __future__ import annotations

import statistics
from typing import Any

_FIRST_TILE = """
(() => {
  window.__firstTile = null; window.__firstMarker = null;
  const check = () => {
    if (window.__firstMarker === null && document.querySelector('.leaflet-marker-icon'))
      window.__firstMarker = performance.now();
    if (window.__firstTile === null && document.querySelector('img.leaflet-tile-loaded'))
      window.__firstTile = performance.now();
  };
  new MutationObserver(check).observe(document, {childList: true, subtree: true,
    attributes: true, attributeFilter: ['class']});
})();
"""

_SCRIPT = """
async () => {
  const map = window.warmheart.map;
  const frames = [];
  let last = performance.now(), running = true;
  const tick = (t) => {
    frames.push(t - last); last = t; if (running) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  const wait = (ms) => new Promise(r => setTimeout(r, ms));
  for (let i = 0; i < 10; i++) {
    map.panBy([i % 2 ? -200 : 200, i % 3 ? 120 : -120]); await wait(350);
  }
  for (const dz of [1, 1, 1, -1, -1, -1]) { map.setZoom(map.getZoom() + dz); await wait(600); }
  running = false;
  await wait(50);
  return frames;
}
"""


def first_tiles(browser: Any, url: str, reset: Any) -> dict[str, float]:
    """Markers, first tile and all tiles shown (ms after navigation start), tiles drawn cold."""
    reset()
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        page.add_init_script(_FIRST_TILE)
        page.set_default_timeout(180_000)
        page.goto(url, wait_until="commit")
        page.wait_for_function(
            "window.__firstTile !== null && window.__firstMarker !== null", polling=50
        )
        first = page.evaluate("[window.__firstMarker, window.__firstTile]")
        page.wait_for_load_state("networkidle")
        done = page.evaluate(
            "Math.max(...performance.getEntriesByType('resource')"
            ".filter(e => e.name.includes('/tiles/')).map(e => e.responseEnd))"
        )
        tiles = page.evaluate("document.querySelectorAll('img.leaflet-tile-loaded').length")
        return {
            "markers_ms": first[0],
            "first_tile_ms": first[1],
            "all_tiles_ms": done,
            "tiles": tiles,
        }
    finally:
        context.close()


def smoothness(browser: Any, url: str) -> dict[str, float]:
    """Frame lengths while a script pans and zooms (p50, p95, max; frames over 50 ms)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(180_000)
        page.goto(url)
        page.wait_for_selector("html[data-wh-ready]", state="attached")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        frames = sorted(page.evaluate(_SCRIPT))
        n = len(frames)
        return {
            "frames": n,
            "p50_ms": statistics.median(frames),
            "p95_ms": frames[int(0.95 * (n - 1))],
            "max_ms": frames[-1],
            "long_frames": sum(f > 50 for f in frames),
        }
    finally:
        context.close()
