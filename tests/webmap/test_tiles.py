"""Map tiles drawn by the app from the Area's own OSM data."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest


def _tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    rad = math.radians(lat)
    y = int((1 - math.log(math.tan(rad) + 1 / math.cos(rad)) / math.pi) / 2 * n)
    return x, y


def test_tiles_are_the_default(make_app: Any) -> None:
    """With no tile setting, pages draw the app's own tiles in the page language."""
    app = make_app(WARMHEART_TILES=None)
    app.config["WARMHEART_TILES"] = "local"
    page = app.test_client().get("/?lang=ja").get_data(as_text=True)
    assert "/tiles/ja/{z}/{x}/{y}.png" in page
    assert "tile.openstreetmap.org" not in page
    from webmap.config import WebSettings

    assert WebSettings.model_fields["tiles"].default == "local"


def test_a_tile_is_a_png_with_labels_in_the_language(make_app: Any) -> None:
    """A street-zoom tile is a 256 px PNG; its labels are the streets' names in that language."""
    from PIL import Image

    client = make_app(WARMHEART_TILES="local").test_client()
    x, y = _tile_of(24.9384, 60.1699, 17)
    response = client.get(f"/tiles/en/17/{x}/{y}.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.get_data()))
    assert image.size == (256, 256)
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or ()) > 50  # drawn, not blank
    renderer = client.application.extensions["warmheart_tiles"]
    labels, _ = renderer._placed("en", 17)
    texts = {label.text for label in labels}
    assert "Simonkatu" in texts or "Mannerheimintie" in texts
    zh_labels, _ = renderer._placed("zh", 17)
    assert zh_labels  # the Helsinki sample has no name:zh: the original names stand in
    # 304 on revalidation, without drawing again.
    etag = response.headers["ETag"]
    assert (
        client.get(f"/tiles/en/17/{x}/{y}.png", headers={"If-None-Match": etag}).status_code == 304
    )


def test_tiles_outside_the_area_are_blank_and_cheap(make_app: Any) -> None:
    """Far from the area every tile is the same blank background, never drawn."""
    client = make_app(WARMHEART_TILES="local").test_client()
    a = client.get("/tiles/zh/15/0/0.png").get_data()
    b = client.get("/tiles/zh/15/100/100.png").get_data()
    assert a == b
    renderer = client.application.extensions["warmheart_tiles"]
    assert not renderer._cache


@pytest.mark.parametrize(
    "path",
    ["/tiles/fr/15/1/1.png", "/tiles/en/25/1/1.png", "/tiles/en/3/9/1.png", "/tiles/en/1/0/0.png"],
)
def test_bad_tile_paths_are_404(client: Any, path: str) -> None:
    """Unknown language, zoom out of range or a column off the grid: a JSON 404."""
    response = client.get(path)
    assert response.status_code == 404
    assert "Expected /tiles/" in response.get_json()["error"]["message"]


def test_chinese_names_in_zh_and_english_in_en() -> None:
    """On a Beijing export zh tiles label streets in Chinese, en tiles with name:en."""
    from routing import load_area
    from tests.conftest import shared_osm
    from webmap.tiles import TileRenderer

    area = load_area(str(shared_osm("beijing_chaoyang_wangjing.osm.bz2")))
    renderer = TileRenderer(area)
    zh = {label.text for label in renderer._placed("zh", 17)[0]}
    en = {label.text for label in renderer._placed("en", 17)[0]}
    assert any(any(ord(c) > 0x4E00 for c in text) for text in zh)
    assert any(text.isascii() and " " in text for text in en)
