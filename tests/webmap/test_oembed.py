"""oEmbed: rich iframe snippets for this app's embed URLs, JSON 404/501 otherwise."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest


class _Iframes(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "iframe":
            self.found.append(dict(attrs))


def _iframe(html: str) -> dict[str, str | None]:
    parser = _Iframes()
    parser.feed(html)
    assert len(parser.found) == 1
    return parser.found[0]


def test_oembed_answers_a_rich_iframe_with_geolocation(client):
    """An embed URL of this app gets a rich oEmbed object with an iframe allowing geolocation."""
    url = "http://localhost/embed/stations?kind=warm_station&zoom=15&lang=zh"
    response = client.get("/oembed", query_string={"url": url, "format": "json"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_name"] == "warmheart"
    assert (body["width"], body["height"]) == (640, 480)
    frame = _iframe(body["html"])
    assert frame["src"] == url
    assert frame["allow"] == "geolocation"
    assert frame["width"] == "640" and frame["height"] == "480"


def test_oembed_respects_maxwidth_and_maxheight(client):
    """maxwidth/maxheight shrink the iframe."""
    body = client.get(
        "/oembed?url=http://localhost/embed/stations&maxwidth=300&maxheight=200"
    ).get_json()
    assert (body["width"], body["height"]) == (300, 200)
    frame = _iframe(body["html"])
    assert (frame["width"], frame["height"]) == ("300", "200")


def test_oembed_locator_url_maps_to_default_embed(client):
    """The locator URL itself maps to the default embed."""
    body = client.get("/oembed?url=http://localhost/").get_json()
    assert _iframe(body["html"])["src"] == "http://localhost/embed/stations"


def test_oembed_escapes_quotes_in_the_url(client):
    """Quotes and angle brackets in the embed URL cannot break out of the src attribute."""
    url = 'http://localhost/embed/stations?lang="><script>alert(1)</script>'
    body = client.get("/oembed", query_string={"url": url}).get_json()
    assert "<script>" not in body["html"]
    assert _iframe(body["html"])["src"] == url


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.org/embed/stations",
        "http://localhost/planner",
        "http://localhost/api/stations",
        "http://localhost/embed",
        "javascript:alert(1)",
        "not a url",
    ],
)
def test_oembed_other_urls_are_json_404(client, url):
    """URLs that are not an embed of this app answer a JSON 404."""
    response = client.get("/oembed", query_string={"url": url})
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_oembed_non_json_format_is_501_and_missing_url_400(client):
    """format=xml answers 501 (not implemented) and a missing url 400, both JSON."""
    response = client.get("/oembed?url=http://localhost/embed/stations&format=xml")
    assert response.status_code == 501
    assert "json" in response.get_json()["error"]["message"]
    assert client.get("/oembed").status_code == 400
    assert client.get("/oembed?url=http://localhost/embed/x&maxwidth=0").status_code == 400


def test_oembed_accepts_the_configured_public_url(make_app):
    """Behind a proxy, embed URLs on WARMHEART_PUBLIC_URL are recognised."""
    client = make_app(WARMHEART_PUBLIC_URL="https://map.example.org").test_client()
    url = "https://map.example.org/embed/stations"
    body = client.get("/oembed", query_string={"url": url}).get_json()
    assert _iframe(body["html"])["src"] == url
