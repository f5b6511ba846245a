"""Errors raised by the routing package."""

from __future__ import annotations


class CoordinateError(ValueError):
    """A coordinate is NaN, out of range, or off the map."""


class AreaBuildError(ValueError):
    """An OSM source cannot be turned into an Area (missing, unreadable, no roads, ...)."""


class OfflineError(ConnectionError):
    """A download (Overpass) was needed but the network is unreachable."""


class DisconnectedGraphError(ValueError):
    """Two points of a query lie in parts of a graph that are not connected."""


class AreaWarning(UserWarning):
    """An Area was built, but something about it deserves a look (e.g. a mostly dropped graph)."""
