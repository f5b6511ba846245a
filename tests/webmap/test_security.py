"""Security: payloads stay data, writes need the token, headers protect the pages and API."""

from __future__ import annotations

import json
from typing import Any

import pytest

from webmap.auth import check_token


def _store_snapshot(client: Any) -> Any:
    return client.get("/api/stations?limit=1000").get_json()["features"]


def test_payload_station_comes_back_as_plain_json_strings(client, payloads):
    """An XSS payload in name, address and notes is returned verbatim as JSON strings."""
    response = client.get(f"/api/stations/{payloads['id']}")
    assert response.status_code == 200
    assert response.mimetype == "application/geo+json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    props = response.get_json()["properties"]
    assert props["name"] == payloads["name"]
    assert props["address"] == payloads["address"]
    assert props["notes"] == payloads["notes"]
    # The raw body is JSON, not markup: the payload sits inside a JSON string literal.
    raw = response.get_data(as_text=True)
    assert json.dumps(payloads["name"]) in raw or "\\u003cimg" in raw


def test_payloads_in_nearest_and_lines_are_plain_json(client, payloads):
    """nearest and lines answers carry payloads as strings with a JSON content type."""
    body = client.get("/api/nearest?lon=24.944&lat=60.17&k=50").get_json()
    names = {r["station"]["properties"]["name"] for r in body["results"]}
    assert payloads["name"] in names
    response = client.get("/api/lines")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    stops = response.get_json()["features"][0]["properties"]["stops"]
    assert stops[0]["name"] == payloads["stop"]


def test_json_answers_forbid_rendering_and_framing(client):
    """API answers carry a CSP that blocks scripts and framing, and nosniff."""
    for url in ("/api/stations", "/api/lines", "/api/nope", "/oembed?url=x"):
        response = client.get(url)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer wrong-token-123456",
        "Bearer {token}x",
        "Bearer {short}",
        "Basic {token}",
        "{token}",
        "Bearer ",
    ],
)
def test_writes_without_or_with_wrong_token_get_401_and_change_nothing(client, payloads, header):
    """Create, update and delete without the right token answer 401; the store is unchanged."""
    token = payloads["token"]
    value = header.format(token=token, short=token[:-1])
    headers = {"Authorization": value} if value else {}
    before = _store_snapshot(client)
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [24.94, 60.17]},
        "properties": {"kind": "warm_station", "name": "intruder"},
    }
    answers = [
        client.post("/api/stations", json=feature, headers=headers),
        client.put("/api/stations/ws-01", json={"name": "pwned"}, headers=headers),
        client.delete("/api/stations/ws-01", headers=headers),
        client.delete(f"/api/stations/{payloads['id']}", headers=headers),
    ]
    for response in answers:
        assert response.status_code == 401
        assert response.mimetype == "application/json"
        assert response.get_json()["error"]["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.headers["Cache-Control"] == "no-store"
    assert _store_snapshot(client) == before


def test_writes_are_disabled_without_a_configured_token(make_app):
    """With no admin token configured, writes answer 403 saying how to enable them."""
    client = make_app(WARMHEART_ADMIN_TOKEN=None).test_client()
    before = _store_snapshot(client)
    response = client.delete(
        "/api/stations/ws-01", headers={"Authorization": "Bearer anything-at-all"}
    )
    assert response.status_code == 403
    assert "WARMHEART_ADMIN_TOKEN" in response.get_json()["error"]["message"]
    assert _store_snapshot(client) == before


def test_token_from_environment(make_app, monkeypatch):
    """WARMHEART_ADMIN_TOKEN in the environment enables writes with that token."""
    monkeypatch.setenv("WARMHEART_ADMIN_TOKEN", "env-token-abcdefgh")
    from webmap.app import load_config

    assert load_config()["WARMHEART_ADMIN_TOKEN"] == "env-token-abcdefgh"


def test_check_token_is_exact_and_constant_time(monkeypatch):
    """check_token accepts only 'Bearer <token>' and compares through hmac.compare_digest."""
    import webmap.auth as auth

    calls = []
    real = auth.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    assert check_token("Bearer s3cret-token", "s3cret-token")
    assert check_token("bearer  s3cret-token ", "s3cret-token")
    assert not check_token("Bearer s3cret-tokeN", "s3cret-token")
    assert not check_token(None, "s3cret-token")
    assert not check_token("Token s3cret-token", "s3cret-token")
    assert len(calls) == 3


def test_short_admin_token_is_rejected_at_start(make_app):
    """A configured token shorter than 8 characters is a configuration error."""
    with pytest.raises(ValueError, match="at least 8"):
        make_app(WARMHEART_ADMIN_TOKEN="abc")


def test_rate_limit_answers_json_429(make_app):
    """Past WARMHEART_RATELIMIT, public reads get a JSON 429 with Retry-After."""
    client = make_app(
        WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_RATELIMIT="3/minute"
    ).test_client()
    codes = [client.get("/api/stations?limit=1").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get("/api/stations?limit=1")
    assert response.status_code == 429
    assert response.mimetype == "application/json"
    assert response.get_json()["error"]["status"] == 429
    assert "Retry-After" in response.headers


def test_bad_rate_limit_string_is_a_config_error(make_app):
    """A malformed WARMHEART_RATELIMIT fails at start with a clear message."""
    with pytest.raises(ValueError, match="WARMHEART_RATELIMIT"):
        make_app(WARMHEART_RATELIMIT="lots")


def test_embed_frame_ancestors_come_from_config(make_app):
    """/embed/... carries frame-ancestors from configuration; other pages only allow 'self'."""
    client = make_app(WARMHEART_FRAME_ANCESTORS="'self' https://news.example.org").test_client()
    response = client.get("/embed/stations")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://news.example.org" in csp
    assert "X-Frame-Options" not in response.headers
    page = client.get("/")
    assert "frame-ancestors 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_frame_ancestors_rejects_header_injection(make_app):
    """A frame-ancestors value with ';' or a newline is refused (no CSP injection)."""
    with pytest.raises(ValueError, match="FRAME_ANCESTORS"):
        make_app(WARMHEART_FRAME_ANCESTORS="* ; script-src *")


def test_page_csp_allows_only_self_and_configured_tiles(make_app):
    """Page CSP loads assets from the app only, plus the tile host when tiles are on."""
    offline = make_app().test_client().get("/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in offline and "openstreetmap" not in offline
    online = make_app(WARMHEART_TILES="osm").test_client().get("/")
    assert "https://tile.openstreetmap.org" in online.headers["Content-Security-Policy"]
    custom = make_app(WARMHEART_TILES="https://{s}.tiles.example.com/{z}/{x}/{y}.png | © Example")
    csp = custom.test_client().get("/").headers["Content-Security-Policy"]
    assert "https://*.tiles.example.com" in csp


def test_public_reads_allow_cross_origin_but_writes_do_not(client, admin_headers):
    """GET answers of the API carry CORS '*'; writes and their preflight do not."""
    assert client.get("/api/stations").headers["Access-Control-Allow-Origin"] == "*"
    preflight = client.options(
        "/api/stations",
        headers={"Origin": "https://evil.example.org", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = client.delete("/api/stations/ws-01", headers=admin_headers)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_token_guessing_is_rate_limited(make_app):
    """Repeated write attempts with wrong tokens run into the rate limit (429)."""
    client = make_app(
        WARMHEART_RATELIMIT_ENABLED=True, WARMHEART_RATELIMIT="3/minute"
    ).test_client()
    codes = [
        client.delete(
            "/api/stations/ws-01", headers={"Authorization": f"Bearer guess-{i:04d}"}
        ).status_code
        for i in range(5)
    ]
    assert codes[:3] == [401, 401, 401]
    assert codes[3:] == [429, 429]


def test_rate_limit_per_forwarded_client_behind_a_trusted_proxy(make_app):
    """With WARMHEART_TRUSTED_PROXIES=1, limits apply per X-Forwarded-For client."""
    client = make_app(
        WARMHEART_RATELIMIT_ENABLED=True,
        WARMHEART_RATELIMIT="2/minute",
        WARMHEART_TRUSTED_PROXIES=1,
    ).test_client()

    def get(ip: str) -> int:
        return client.get("/api/lines", headers={"X-Forwarded-For": ip}).status_code

    assert [get("203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert get("203.0.113.2") == 200


def test_oversized_bodies_are_refused_with_json_413(client, admin_headers):
    """A write body over MAX_CONTENT_LENGTH (1 MB) is refused with a JSON 413."""
    big = {"type": "Feature", "properties": {"notes": "x" * 1_100_000}}
    response = client.post("/api/stations", json=big, headers=admin_headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["status"] == 413
