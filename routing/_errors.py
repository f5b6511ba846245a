"""Errors raised by the routing package, and the project-wide bases.

Every error warmheart raises on purpose derives from :class:`WarmheartError` and from the
built-in it has always been (``ValueError``, ``KeyError``, ``ConnectionError``, ...), so
``except WarmheartError`` catches the project's own complaints about its input while
``except ValueError`` keeps working. Warnings derive from :class:`WarmheartWarning`
(a ``UserWarning``). The bases live here, in the bottom layer, because ``routing`` never
imports ``stations`` or ``webmap``; those packages re-export them.
"""

from __future__ import annotations

__all__ = [
    "AreaBuildError",
    "AreaWarning",
    "CoordinateError",
    "DisconnectedGraphError",
    "OfflineError",
    "SettingsError",
    "WarmheartError",
    "WarmheartWarning",
]


class WarmheartError(Exception):
    """Base of every error warmheart raises about its input, data or configuration."""


class WarmheartWarning(UserWarning):
    """Base of warmheart's warnings: suspicious but workable input."""


class CoordinateError(WarmheartError, ValueError):
    """A coordinate is NaN, out of range, or off the map."""


class AreaBuildError(WarmheartError, ValueError):
    """An OSM source cannot be turned into an Area (missing, unreadable, no roads, ...)."""


class OfflineError(WarmheartError, ConnectionError):
    """A download (Overpass) was needed but the network is unreachable."""


class DisconnectedGraphError(WarmheartError, ValueError):
    """Two points of a query lie in parts of a graph that are not connected."""


class SettingsError(WarmheartError, ValueError):
    """A settings value or file is malformed (area build settings, planner settings)."""


class AreaWarning(WarmheartWarning):
    """An Area was built, but something about it deserves a look (e.g. a mostly dropped graph)."""
