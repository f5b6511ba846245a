"""create_app: configuration layers, state loaded once, cache headers, start-up errors."""

from __future__ import annotations

import pytest

from webmap._errors import ConfigError
from webmap.app import load_config


def test_environment_overrides_defaults_and_test_config_overrides_environment(monkeypatch):
    """Defaults < WARMHEART_* environment < test_config, with env strings typed."""
    monkeypatch.setenv("WARMHEART_FRAME_ANCESTORS", "https://a.example.org")
    monkeypatch.setenv("WARMHEART_EMBED_MAX_AGE", "60")
    monkeypatch.setenv("WARMHEART_RATELIMIT_ENABLED", "off")
    config = load_config({"WARMHEART_EMBED_MAX_AGE": 5})
    assert config["WARMHEART_FRAME_ANCESTORS"] == "https://a.example.org"
    assert config["WARMHEART_EMBED_MAX_AGE"] == 5
    assert config["WARMHEART_RATELIMIT_ENABLED"] is False
    assert config["WARMHEART_TILES"] == "local"


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("WARMHEART_EMBED_MAX_AGE", "soon", "integer"),
        ("WARMHEART_RATELIMIT_ENABLED", "maybe", "one of"),
    ],
)
def test_malformed_environment_values_fail_clearly(monkeypatch, key, value, needle):
    """A malformed WARMHEART_* environment value raises ConfigError naming the key."""
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=needle) as info:
        load_config()
    assert key in str(info.value)


def test_state_is_loaded_once(make_app, monkeypatch, helsinki_area):
    """The Area is loaded once at creation; requests reuse app.extensions['warmheart']."""
    import routing

    calls = []

    def counting_load_area(name, **kwargs):
        calls.append(name)
        return helsinki_area

    monkeypatch.setattr(routing, "load_area", counting_load_area)
    app = make_app(WARMHEART_AREA="helsinki")
    state = app.extensions["warmheart"]
    client = app.test_client()
    for _ in range(3):
        assert client.get("/api/nearest?lon=24.944&lat=60.17&k=1").status_code == 200
    assert calls == ["helsinki"]
    assert app.extensions["warmheart"] is state
    assert state.plan is not None and len(state.plan.lines) == 2


def test_bad_area_and_plan_dir_fail_at_start(make_app, tmp_path):
    """A WARMHEART_AREA of the wrong type or a missing plan directory fails at creation."""
    with pytest.raises(ConfigError, match="WARMHEART_AREA"):
        make_app(WARMHEART_AREA=42)
    with pytest.raises(ConfigError, match="WARMHEART_PLAN_DIR"):
        make_app(WARMHEART_PLAN_DIR=str(tmp_path / "missing"))


def test_cache_headers(make_app):
    """Embeds are publicly cacheable for the configured time, API reads revalidate,
    errors are never stored."""
    client = make_app(WARMHEART_EMBED_MAX_AGE=120).test_client()
    embed = client.get("/embed/stations")
    assert embed.status_code == 200
    assert embed.headers["Cache-Control"] == "public, max-age=120"
    assert client.get("/api/stations").headers["Cache-Control"] == "no-cache"
    assert "max-age" in client.get("/api/openapi.json").headers["Cache-Control"]
    assert client.get("/api/stations?limit=0").headers["Cache-Control"] == "no-store"


def test_the_locator_is_prepared_at_start(app):
    """With WARMHEART_PREPARE on (default), the locator's labels exist before any query."""
    locator = app.extensions["warmheart"].locator
    assert None in locator._labels


def test_every_setting_is_documented():
    """docs/configuration.md lists every WARMHEART_* key WebSettings declares, and no other."""
    import re
    from pathlib import Path

    from webmap.config import PREFIX, WebSettings

    text = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    table = text.split("## Web app", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`(WARMHEART_[A-Z_]+)`", table)) - {"WARMHEART_HOME"}
    declared = {PREFIX + name.upper() for name in WebSettings.model_fields}
    assert documented == declared
