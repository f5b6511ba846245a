"""Errors raised by the web layer (all subclass built-ins)."""

from __future__ import annotations

__all__ = ["ConfigError", "ParameterError"]


class ConfigError(ValueError):
    """A configuration value (``WARMHEART_*``) is malformed."""


class ParameterError(ValueError):
    """A query parameter or request body is malformed or out of range (answered with 400)."""
