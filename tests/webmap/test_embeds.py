"""Public embeds out of the box: framable by any site, discoverable, on the public base URL."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest


def _discovery(page: str) -> str:
    match = re.search(r'<link rel="alternate" type="application/json\+oembed" href="([^"]+)"', page)
    assert match, "no oEmbed discovery link"
    return unescape(match.group(1))


def test_embeds_are_framable_by_any_site_by_default(client: Any) -> None:
    """Default settings: /embed/* may be framed anywhere; the other pages only by the app."""
    for path in ("/embed/stations", "/embed/lines", "/embed/nursing_room"):
        response = client.get(path)
        assert response.status_code == 200
        assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
        assert "X-Frame-Options" not in response.headers
    for path in ("/", "/planner"):
        response = client.get(path)
        assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_embed_lines_draws_the_plan(client: Any) -> None:
    """/embed/lines is a map (container, lines data, planner script), not a blank page."""
    page = client.get("/embed/lines?lang=en").get_data(as_text=True)
    assert 'id="wh-map"' in page and "window.warmheart.planner(" in page
    assert page.count('"role":"line"') == 2
    assert 'class="wh-bar"' not in page


@pytest.mark.parametrize(
    "path", ["/?lang=en", "/embed/stations?kinds=warm_station", "/embed/lines"]
)
def test_pages_advertise_oembed_and_it_answers(client: Any, path: str) -> None:
    """/ and /embed/* carry an oEmbed discovery link whose URL answers a rich iframe."""
    page = client.get(path).get_data(as_text=True)
    href = _discovery(page)
    parts = urlsplit(href)
    assert parts.path == "/oembed"
    response = client.get(f"/oembed?{parts.query}")
    assert response.status_code == 200
    src = re.search(r'src="([^"]+)"', response.get_json()["html"])
    assert src and unescape(src.group(1)).startswith("http://localhost/embed/")
    assert parse_qs(parts.query)["format"] == ["json"]


@pytest.mark.parametrize(
    "url",
    [
        "http://localhost/embed/../api/stations",
        "http://localhost/embed/x",
        "http://localhost/embed/stations/extra",
        "http://localhost/embed//stations",
        "http://localhost/embed/%2e%2e/api",
        "http://[/embed",
        "http://localhost:99999/embed/stations",
        "http://localhost/" + "a" * 3000,
    ],
)
def test_oembed_accepts_only_real_embeds(client: Any, url: str) -> None:
    """Paths that are not /embed/<known name> are a JSON 404 (or 400 when too long), not 200."""
    response = client.get("/oembed", query_string={"url": url})
    assert response.status_code in (400, 404)
    assert len(response.get_json()["error"]["message"]) < 400


def test_oembed_refuses_an_embed_url_the_page_would_refuse(client: Any) -> None:
    """An embed URL with a bad parameter would show an error page in the iframe: 400 now."""
    response = client.get(
        "/oembed", query_string={"url": "http://localhost/embed/stations?zoom=99"}
    )
    assert response.status_code == 400
    assert "zoom" in response.get_json()["error"]["message"]


def test_links_use_the_public_url_not_the_host_header(make_app: Any) -> None:
    """With WARMHEART_PUBLIC_URL set, a forged Host never reaches snippets or oEmbed answers."""
    client = make_app(WARMHEART_PUBLIC_URL="https://map.example.org/").test_client()
    forged = {"Host": "evil.example.net"}
    page = client.get("/?lang=en", headers=forged).get_data(as_text=True)
    assert "evil.example.net" not in page
    assert "https://map.example.org/embed/stations?lang=en" in unescape(page)
    assert _discovery(page).startswith("https://map.example.org/oembed?")
    body = client.get(
        "/oembed", query_string={"url": "https://map.example.org/embed/lines"}, headers=forged
    ).get_json()
    assert "evil" not in body["html"] and body["provider_url"] == "https://map.example.org/"


def test_without_public_url_pages_are_cached_per_host(client: Any) -> None:
    """Unset, the request host stands in: each host gets its own page, and Vary says so."""
    one = client.get("/?lang=en", headers={"Host": "one.example"})
    two = client.get("/?lang=en", headers={"Host": "two.example"})
    assert "http://one.example/embed/stations" in one.get_data(as_text=True)
    assert "http://two.example/embed/stations" in two.get_data(as_text=True)
    assert "one.example" not in two.get_data(as_text=True)
    assert "Host" in one.headers["Vary"]


def test_public_url_must_be_an_origin(make_app: Any) -> None:
    """A malformed WARMHEART_PUBLIC_URL fails at start naming the key."""
    with pytest.raises(ValueError, match="WARMHEART_PUBLIC_URL"):
        make_app(WARMHEART_PUBLIC_URL="map.example.org")


def test_noise_in_the_query_does_not_render_again(app: Any) -> None:
    """Unknown parameters, the view and the filters hit the same cached page (one render)."""
    client = app.test_client()
    client.get("/?lang=en")
    cache = app.extensions["warmheart_page_cache"]
    size = len(cache)
    for i in range(20):
        query = f"lang=en&x={i}&center=24.9{i % 10},60.17&zoom={10 + i % 8}&kind=warm_station"
        assert client.get(f"/?{query}").status_code == 200
    assert len(cache) == size
