"""Build settings of an Area: walking speed, bus speeds, snapping limit, graph clean-up.

Settings are a frozen dataclass that validates itself and can be read from TOML. They are
part of an Area's cache key, so changing any field builds a new Area rather than reusing an
old one.

Example TOML (every key optional)::

    walk_speed_kmh = 4.5
    bus_factor = 0.85
    snap_max_distance = 500.0
    max_speed_kmh = 130.0

    [highway_speeds]
    residential = 25
    primary = 50
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ._errors import SettingsError
from ._settings_io import check_setting_keys, read_settings_file

__all__ = ["DEFAULT_HIGHWAY_SPEEDS", "AreaSettings"]

#: Car speeds in km/h used when an edge has no usable ``maxspeed`` (urban defaults; they
#: are deliberately conservative because buses rarely reach the posted limit in town).
DEFAULT_HIGHWAY_SPEEDS: Mapping[str, float] = MappingProxyType(
    {
        "motorway": 90.0,
        "motorway_link": 50.0,
        "trunk": 70.0,
        "trunk_link": 40.0,
        "primary": 50.0,
        "primary_link": 35.0,
        "secondary": 45.0,
        "secondary_link": 30.0,
        "tertiary": 40.0,
        "tertiary_link": 30.0,
        "unclassified": 30.0,
        "residential": 25.0,
        "living_street": 10.0,
        "service": 15.0,
        "road": 30.0,
        "busway": 40.0,
    }
)


@dataclass(frozen=True)
class AreaSettings:
    """How an OSM source becomes an Area.

    Attributes
    ----------
    walk_speed_kmh
        Walking speed on every walk edge (km/h).
    bus_factor
        Bus speed as a share of the car speed of an edge (``maxspeed`` or the highway-class
        default), in ``(0, 1.5]``.
    highway_speeds
        Car speed (km/h) per ``highway`` class when ``maxspeed`` is missing or unusable;
        merged over :data:`DEFAULT_HIGHWAY_SPEEDS`.
    fallback_speed_kmh
        Car speed for a highway class that is in neither mapping.
    max_speed_kmh
        Parsed ``maxspeed`` values above this are treated as errors and replaced by the class
        default (osmnx #934 once produced 10,000 km/h).
    snap_max_distance
        Default limit (m) beyond which :meth:`routing.Area.snap` flags a point instead of
        snapping it.
    retain_largest_scc
        Keep only the largest strongly connected component of each graph (recommended: the
        rest cannot be routed both ways). The dropped counts go to ``Area.report``.
    clip_to_bounds
        Clip XML exports to their ``<bounds>`` box (exports include whole ways that run out
        of it).
    """

    walk_speed_kmh: float = 4.5
    bus_factor: float = 0.85
    highway_speeds: Mapping[str, float] = field(default_factory=dict, hash=False)
    fallback_speed_kmh: float = 30.0
    max_speed_kmh: float = 130.0
    snap_max_distance: float = 500.0
    retain_largest_scc: bool = True
    clip_to_bounds: bool = True

    def __post_init__(self) -> None:
        _check_range("walk_speed_kmh", self.walk_speed_kmh, 0.5, 20.0)
        _check_range("bus_factor", self.bus_factor, 0.05, 1.5)
        _check_range("fallback_speed_kmh", self.fallback_speed_kmh, 1.0, 200.0)
        _check_range("max_speed_kmh", self.max_speed_kmh, 5.0, 300.0)
        _check_range("snap_max_distance", self.snap_max_distance, 0.0, 1e6)
        for name in ("retain_largest_scc", "clip_to_bounds"):
            value = getattr(self, name)
            if not isinstance(value, bool):
                msg = f"Expected {name} to be true or false, got {value!r}"
                raise SettingsError(msg)
        if not isinstance(self.highway_speeds, Mapping):
            msg = f"Expected highway_speeds as a table of class = km/h, got {self.highway_speeds!r}"
            raise SettingsError(msg)
        speeds: dict[str, float] = {}
        for key, value in self.highway_speeds.items():
            if not isinstance(key, str):
                msg = f"Expected highway class names as text, got {key!r}"
                raise SettingsError(msg)
            _check_range(f"highway_speeds[{key!r}]", value, 1.0, self.max_speed_kmh)
            speeds[key] = float(value)
        # Freeze the mapping so the dataclass stays hashable-by-content and immutable.
        object.__setattr__(self, "highway_speeds", MappingProxyType(dict(sorted(speeds.items()))))

    def __reduce__(self) -> tuple[Any, ...]:
        # mappingproxy cannot be pickled; rebuild from plain data (the Area cache pickles us).
        return (AreaSettings.from_dict, (self.to_dict(),))

    @classmethod
    def from_file(cls, path: str | Path) -> AreaSettings:
        """Read settings from a TOML file; unknown keys are an error.

        Parameters
        ----------
        path
            A TOML file with any of the attribute names as top-level keys and an optional
            ``[highway_speeds]`` table.
        """
        return cls.from_dict(read_settings_file(path))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AreaSettings:
        """Settings from a mapping (e.g. parsed TOML); unknown keys are an error."""
        check_setting_keys(data, (f.name for f in dataclasses.fields(cls)), what="settings")
        return cls(**dict(data))

    def speed_for_highway(self, highway: str) -> float:
        """Default car speed (km/h) of a highway class."""
        if highway in self.highway_speeds:
            return self.highway_speeds[highway]
        return DEFAULT_HIGHWAY_SPEEDS.get(highway, self.fallback_speed_kmh)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serialisable)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["highway_speeds"] = dict(self.highway_speeds)
        return out

    def fingerprint(self) -> str:
        """Canonical JSON of the settings, used in the cache key."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))


def _check_range(name: str, value: Any, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"Expected {name} to be a number, got {value!r}"
        raise SettingsError(msg)
    if not math.isfinite(value) or not low <= value <= high:
        msg = f"Expected {name} in [{low}, {high}], got {value}"
        raise SettingsError(msg)
