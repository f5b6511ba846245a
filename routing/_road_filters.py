"""Which highway ways are in the walk and the drive network (pyrosm's predefined filters).

The rules of pyrosm 0.25's ``config/osm_filters.py`` (``walking_filter``,
``driving_filter``), which follow osmnx's ``walk`` and ``drive`` network filters with OSM's
access rules: an exclude filter per network, a way with a ``highway`` tag kept unless one
of its tags has an excluded value (also as one of ``;``-separated values) or its most
specific access tag closes it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DRIVE_FILTER", "NETWORKS", "WALK_FILTER", "WayFilter"]

_ALWAYS_EXCLUDED = (
    "abandoned",
    "construction",
    "no",
    "planned",
    "platform",
    "proposed",
    "raceway",
    "razed",
    "rest_area",
    "services",
)


@dataclass(frozen=True)
class WayFilter:
    """An exclude filter of highway ways (pyrosm's predefined network filters).

    Attributes
    ----------
    access
        Access tags of the mode, most specific first, then ``access``: the first present
        one closes the way when it is ``no`` or ``private``.
    excluded
        Per tag, the values that exclude a way (also as one of ``;``-separated values).
    """

    access: tuple[str, ...]
    excluded: dict[str, frozenset[str]]

    def keeps(self, tags: dict[str, str]) -> bool:
        """Whether a way with ``tags`` is in the network (a highway not excluded)."""
        if "highway" not in tags:
            return False
        for key in self.access:
            value = tags.get(key)
            if value is not None:
                if _listed(value, _CLOSED):
                    return False
                break
        return not any(
            key in tags and _listed(tags[key], values) for key, values in self.excluded.items()
        )


_CLOSED = frozenset({"no", "private"})


def _listed(value: str, values: frozenset[str]) -> bool:
    if value in values:
        return True
    return ";" in value and any(part.strip() in values for part in value.split(";"))


_SIDEWALK = frozenset({"separate"})
#: Walkable ways (osmnx ``walk``, with OSM's access rules).
WALK_FILTER = WayFilter(
    access=("foot", "access"),
    excluded={
        "area": frozenset({"yes"}),
        "highway": frozenset(
            (*_ALWAYS_EXCLUDED, "bus_guideway", "cycleway", "motor", "motorway", "motorway_link")
        ),
        "service": frozenset({"private"}),
        "sidewalk": _SIDEWALK,
        "sidewalk:both": _SIDEWALK,
        "sidewalk:left": _SIDEWALK,
        "sidewalk:right": _SIDEWALK,
    },
)
#: Drivable ways without service roads (osmnx ``drive``, with OSM's access rules).
DRIVE_FILTER = WayFilter(
    access=("motorcar", "motor_vehicle", "vehicle", "access"),
    excluded={
        "area": frozenset({"yes"}),
        "highway": frozenset(
            (
                *_ALWAYS_EXCLUDED,
                "bridleway",
                "bus_guideway",
                "busway",
                "corridor",
                "cycleway",
                "elevator",
                "escalator",
                "footway",
                "ladder",
                "path",
                "pedestrian",
                "steps",
                "track",
                "trail",
                "service",
            )
        ),
        "service": frozenset(
            {"emergency_access", "parking", "parking_aisle", "private", "alley", "driveway"}
        ),
    },
)
#: Network name -> (way filter, whether every way is two-way).
NETWORKS: dict[str, tuple[WayFilter, bool]] = {
    "walk": (WALK_FILTER, True),
    "drive": (DRIVE_FILTER, False),
}
