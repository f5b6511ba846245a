"""Self-hosted front-end assets: served from the XStatic packages, safely, cacheably, no CDN."""

from __future__ import annotations

import re

import folium
import pytest
from folium.plugins import MarkerCluster

from webmap.assets import (
    AssetError,
    asset_path,
    asset_url,
    external_urls,
    inline_assets,
    self_host,
)


def _asset_links(html: str) -> list[str]:
    return re.findall(r"""(?:src|href)=["'](/assets/[^"']+)["']""", html)


def test_every_asset_a_page_links_is_served(client) -> None:
    """Each /assets/ URL in the locator, embed and planner answers 200 with a fitting type."""
    seen: set[str] = set()
    for page in ("/?lang=en", "/embed/stations", "/planner"):
        html = client.get(page).get_data(as_text=True)
        seen.update(_asset_links(html))
    assert any("leaflet.js" in u for u in seen) and any("warmheart.js" in u for u in seen)
    for url in seen:
        r = client.get(url)
        assert r.status_code == 200, url
        if url.split("?")[0].endswith(".js"):
            assert "javascript" in r.mimetype
        if url.split("?")[0].endswith(".css"):
            assert r.mimetype == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "/assets/leaflet/../../../../../etc/passwd",
        "/assets/leaflet/%2e%2e/%2e%2e/__init__.py",
        "/assets/leaflet/..%2f__init__.py",
        "/assets/leaflet//etc/passwd",
        "/assets/nope/leaflet.js",
        "/assets/warmheart/../pages.py",
        "/assets/leaflet/images",
    ],
)
def test_asset_route_refuses_paths_outside_the_library(client, url: str) -> None:
    """Traversal, absolute paths, directories and unknown libraries are 404, never a file."""
    r = client.get(url, follow_redirects=True)  # werkzeug merges "//" with a redirect first
    assert r.status_code == 404
    assert b"root:" not in r.data and b"import" not in r.data


def test_asset_path_raises_on_traversal() -> None:
    """asset_path refuses a name that resolves outside the library directory."""
    with pytest.raises(AssetError, match="Expected a file inside"):
        asset_path("leaflet", "../__init__.py")
    with pytest.raises(AssetError, match="Expected one of"):
        asset_path("bootstrap", "bootstrap.min.js")


def test_versioned_assets_are_immutable_and_conditional(client) -> None:
    """A URL with the current ?v= is cacheable for a year; revalidation gives 304."""
    url = asset_url("leaflet", "leaflet.js")
    r = client.get(url)
    assert "immutable" in r.headers["Cache-Control"]
    assert "max-age=31536000" in r.headers["Cache-Control"]
    etag = r.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    plain = client.get("/assets/leaflet/leaflet.js?v=old")
    assert plain.headers["Cache-Control"] == "public, max-age=86400"


def test_own_assets_are_versioned_by_content() -> None:
    """Our JS/CSS URLs carry a content hash, so a deploy busts browser caches."""
    url = asset_url("warmheart", "warmheart.js")
    assert re.search(r"\?v=[0-9a-f]{10}$", url)


def test_self_host_rewrites_default_folium_resources() -> None:
    """A default Folium map with a MarkerCluster and popups loads nothing from a CDN."""
    m = folium.Map(location=[60.17, 24.94], tiles=None)
    cluster = MarkerCluster().add_to(m)
    folium.Marker([60.17, 24.94], popup="hello").add_to(cluster)
    default_html = m.get_root().render()
    assert len(external_urls(default_html)) >= 10  # what folium does by default

    m = folium.Map(location=[60.17, 24.94], tiles=None)
    cluster = MarkerCluster().add_to(m)
    folium.Marker([60.17, 24.94], popup="hello").add_to(cluster)
    html = self_host(m).get_root().render()
    assert external_urls(html) == []
    links = _asset_links(html)
    assert any("jquery" in u for u in links)  # folium.Popup builds its content with $(...)
    assert not any("bootstrap" in u or "awesome" in u for u in links)
    assert any("leaflet.markercluster.js" in u for u in links)
    # The classes are untouched: a later default map still has its CDN links.
    assert folium.Map.default_js[0][1].startswith("https://")


def test_self_host_drops_jquery_when_nothing_needs_it() -> None:
    """Without folium popups, jQuery is not loaded at all."""
    m = folium.Map(location=[60.17, 24.94], tiles=None)
    html = self_host(m).get_root().render()
    assert not any("jquery" in u for u in _asset_links(html))


def test_self_host_refuses_unknown_cdn_resources() -> None:
    """A plugin whose resources we do not host raises instead of silently using a CDN."""
    from folium.plugins import Fullscreen

    m = folium.Map(tiles=None)
    Fullscreen().add_to(m)
    with pytest.raises(AssetError, match="self-host"):
        self_host(m)


def test_inline_assets_makes_a_self_contained_page() -> None:
    """Inlining replaces every /assets/ link by its content, images as data URIs."""
    m = folium.Map(location=[60.17, 24.94], tiles=None)
    MarkerCluster().add_to(m)
    html = inline_assets(self_host(m).get_root().render())
    assert _asset_links(html) == []
    assert "L.version" in html or 'version="1.9.3"' in html
    assert "data:image/png;base64," in html  # leaflet.css layer icons
    assert "sourceMappingURL" not in html
    assert external_urls(html) == []


@pytest.mark.parametrize("page", ["/", "/embed/stations", "/embed/lines", "/planner"])
def test_pages_load_nothing_from_other_origins(client, page: str) -> None:
    """With tiles off, no page references any resource on another origin."""
    html = client.get(page).get_data(as_text=True)
    assert external_urls(html) == []
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html and "code.jquery" not in html
