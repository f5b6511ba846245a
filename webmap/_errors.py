"""Errors raised by the web layer (each a :class:`~routing.WarmheartError` and a built-in)."""

from __future__ import annotations

from routing._errors import WarmheartError

__all__ = ["ConfigError", "ParameterError", "StationNotFound", "WarmheartError"]


class ConfigError(WarmheartError, ValueError):
    """A configuration value (``WARMHEART_*``) is malformed."""


class ParameterError(WarmheartError, ValueError):
    """A query parameter or request body is malformed or out of range (answered with 400)."""


class StationNotFound(WarmheartError, LookupError):  # noqa: N818 - reads better at call sites
    """No station has the requested id (answered with 404)."""
