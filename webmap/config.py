"""Configuration of the web app: one pydantic-settings model, read at ``create_app`` time.

:class:`WebSettings` declares every ``WARMHEART_*`` key once — its type, default, bounds and
meaning. pydantic-settings reads the environment (``WARMHEART_EMBED_MAX_AGE=60``,
``WARMHEART_RATELIMIT_ENABLED=off``); :func:`load_config` layers defaults < environment <
the ``test_config`` mapping and returns the flat Flask config. ``docs/configuration.md``
lists the same keys (a test keeps the two in step).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ._errors import ConfigError

__all__ = ["PREFIX", "WebSettings", "load_config"]

PREFIX = "WARMHEART_"
#: Largest request body read (bytes); larger ones answer 413 before they are read.
MAX_CONTENT_LENGTH = 1_000_000


class WebSettings(BaseSettings):
    """Every ``WARMHEART_*`` setting of the web app (environment name = prefix + upper name)."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, extra="ignore", validate_default=False, arbitrary_types_allowed=True
    )

    area: Any = Field("helsinki", description="Area name or source (`--area`); an Area in tests.")
    store: str | None = Field(
        None,
        description=(
            "Station GeoPackage (`--store`); default `$WARMHEART_HOME/stations/<area>`; or "
            "`postgresql://user:pass@host/db[?schema=NAME]` for a PostGIS registry shared by "
            "several servers."
        ),
    )
    plan_dir: str | None = Field(
        None, description="Shuttle plan directory from `shuttles plan --out` (`--plan`)."
    )
    admin_token: str | None = Field(
        None,
        description="Bearer token for station writes (>= 8 characters); unset: writes off (403).",
    )
    frame_ancestors: str = Field(
        "*",
        description=(
            "CSP `frame-ancestors` of `/embed/...`: `*` (any site may embed them) or a "
            "restriction such as `'self' https://news.example.org`. Other pages only ever "
            "allow `'self'`."
        ),
    )
    tiles: Any = Field(
        "local",
        description=(
            "`local` (tiles the app draws from the Area's own OSM data: no request off the "
            "origin), `none` (a light street layer only), a preset (`osm`, `amap`) or "
            "`URL | attribution`."
        ),
    )
    ratelimit: str = Field(
        "600/minute",
        description=(
            "Requests per client address and endpoint (flask-limiter, in memory, per process)."
        ),
    )
    budget: str = Field(
        "3000/minute",
        description=(
            "Milliseconds of server CPU per client and period: each request is charged what "
            "it cost (at least 1); an empty budget answers 429. See `webmap/budget.py`."
        ),
    )
    tile_budget: str = Field(
        "3000/minute",
        description=(
            "Milliseconds of server CPU per client and period for map tiles, a bucket of their "
            "own holding one period: a first page view on a cold tile cache draws ~24 tiles."
        ),
    )
    ratelimit_enabled: bool = Field(
        True, description="`0` turns rate limiting and the budget off (benchmarks)."
    )
    embed_max_age: int = Field(300, ge=0, description="`Cache-Control` max-age of embeds (s).")
    static_max_age: int = Field(86400, ge=0, description="`Cache-Control` max-age of assets (s).")
    public_url: str | None = Field(
        None, description="Public origin behind a proxy (oEmbed accepts its URLs)."
    )
    prepare: bool = Field(
        True, description="Build the locator's labels at start instead of on the first query."
    )
    trusted_proxies: int = Field(
        0,
        ge=0,
        description=(
            "Reverse proxies in front: trust that many `X-Forwarded-*` hops (never "
            "more than you run)."
        ),
    )

    @field_validator("frame_ancestors")
    @classmethod
    def _csp_sources(cls, value: str) -> str:
        if not value.strip() or any(c in value for c in ";,\r\n"):
            msg = (
                "Expected WARMHEART_FRAME_ANCESTORS to be space-separated CSP sources "
                f"(e.g. \"'self' https://example.org\"), got {value!r}"
            )
            raise ValueError(msg)
        return value

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        from stations.store import is_database_url

        if value is not None and is_database_url(value):
            from stations._pgschema import parse_store_url

            parse_store_url(value)  # its messages never carry the password
        return value

    @field_validator("admin_token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 8:
            msg = "Expected WARMHEART_ADMIN_TOKEN to be a string of at least 8 characters"
            raise ValueError(msg)
        return value

    @field_validator("ratelimit", "budget", "tile_budget")
    @classmethod
    def _limit(cls, value: str, info: Any) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            key = PREFIX + str(info.field_name).upper()
            msg = f"Expected {key} like '600/minute', got {value!r}"
            raise ValueError(msg) from None
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is None:
            return None
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            msg = (
                "Expected WARMHEART_PUBLIC_URL as the public origin, e.g. "
                f"'https://map.example.org', got {value!r}"
            )
            raise ValueError(msg)
        return value.strip().rstrip("/")


def _message(error: Any) -> str:
    key = PREFIX + str(error["loc"][0]).upper()
    given = error.get("input")
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind.startswith("int_"):
        return f"Expected {key} to be an integer, got {given!r}"
    if kind.startswith("bool_"):
        words = "1, 0, true, false, yes, no, on, off"
        return f"Expected {key} to be one of {words}, got {given!r}"
    if kind in ("greater_than_equal", "int_type"):
        return f"Expected {key} to be a non-negative integer, got {given!r}"
    if kind.endswith("_type"):
        return f"Expected {key} to be {kind.removesuffix('_type')}, got {given!r}"
    return f"Expected {key}: {error['msg']}, got {given!r}"


def load_config(test_config: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge defaults, ``WARMHEART_*`` environment variables and ``test_config`` (that order).

    Parameters
    ----------
    test_config
        Values that win over everything else (tests, ``warmheart serve`` options); keys
        without the ``WARMHEART_`` prefix (``TESTING``, ...) go to Flask as they are.

    Raises
    ------
    ConfigError
        Naming the key, what was expected and what came.
    """
    given = dict(test_config or {})
    overrides = {
        key.removeprefix(PREFIX).lower(): given.pop(key)
        for key in list(given)
        if key.startswith(PREFIX) and key.removeprefix(PREFIX).lower() in WebSettings.model_fields
    }
    try:
        settings = WebSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_message(exc.errors()[0])) from None
    config: dict[str, Any] = {"MAX_CONTENT_LENGTH": MAX_CONTENT_LENGTH}
    config.update(
        {PREFIX + name.upper(): getattr(settings, name) for name in WebSettings.model_fields}
    )
    config.update(given)
    return config
