"""Planner settings: a frozen dataclass that validates itself and loads from TOML."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .._settings_io import check_setting_keys, read_settings_file
from ._errors import ShuttleSettingsError

__all__ = ["ShuttleSettings", "format_hms", "parse_clock"]


def parse_clock(value: str | int, *, name: str = "time") -> int:
    """Seconds since midnight from ``"HH:MM"``, ``"HH:MM:SS"`` or an integer of seconds.

    Raises :class:`ShuttleSettingsError` naming ``name`` for anything else.
    """
    if isinstance(value, bool):
        msg = f"Expected {name} as HH:MM, got {value!r}"
        raise ShuttleSettingsError(msg)
    if isinstance(value, int):
        seconds = value
    else:
        parts = str(value).strip().split(":")
        try:
            if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
                raise ValueError
            hh, mm = int(parts[0]), int(parts[1])
            ss = int(parts[2]) if len(parts) == 3 else 0
        except ValueError:
            msg = f"Expected {name} as HH:MM or HH:MM:SS, got {value!r}"
            raise ShuttleSettingsError(msg) from None
        if mm > 59 or ss > 59:
            msg = f"Expected {name} as HH:MM with minutes and seconds below 60, got {value!r}"
            raise ShuttleSettingsError(msg)
        seconds = hh * 3600 + mm * 60 + ss
    if not 0 <= seconds <= 48 * 3600:
        msg = f"Expected {name} between 00:00 and 48:00, got {value!r}"
        raise ShuttleSettingsError(msg)
    return seconds


def format_hms(seconds: float) -> str:
    """``HH:MM:SS`` for seconds since midnight (hours may exceed 23 past midnight, as in GTFS)."""
    s = round(seconds)
    sign = "-" if s < 0 else ""
    s = abs(s)
    return f"{sign}{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass(frozen=True)
class ShuttleSettings:
    """Knobs of the shuttle planner. Validated on construction; load with :meth:`from_file`.

    Attributes
    ----------
    max_walk_m
        Longest walk from a home to a stop, in metres on the walk graph.
    default_max_ride_min
        Longest ride (boarding to arrival at work) for riders without their own limit.
    dwell_s
        Fixed time a bus spends at each stop it serves (pull in, doors).
    boarding_s
        Extra stop time per boarding rider.
    time_limit_s
        Wall-clock budget of the optimiser (shared by all waves).
    seed
        Random seed of the optimiser. Equal inputs, seed and ``max_iterations`` give equal
        plans; with only a time limit, a busier machine may stop the search earlier.
    max_iterations
        Stop the search after this many iterations per wave (``0``: only the time limit).
    deadline
        Default arrival deadline at the workplace (``HH:MM``) for riders without their own.
    arrival_margin_s
        Buses arrive at least this long before the deadline.
    earliest_departure
        No bus leaves its first stop before this time (``HH:MM``).
    unserved_penalty
        Cost (same unit as the fleet costs) of leaving one rider unserved; keep it above the
        cost per rider of any sensible line, so the optimiser drops riders only when forced.
    max_alternatives
        Candidate stops kept per district catchment (the optimiser picks one of them).
    max_stop_snap_m
        A candidate stop farther than this from the drive graph cannot be served by bus.
    max_home_snap_m
        A home farther than this from the walk graph is off the map.
    district_cell_m
        Size of the grid cells that group riders living outside any residential area.
    evening_departure
        Default departure of the bus home from the workplace (``HH:MM``, the shift end) for
        riders without their own ``evening_departure``; empty: those riders ride to work only.
    turnaround_s
        Least time between the end of one trip of a bus and the start of its next one, on top
        of the empty drive between them (riders alight, the driver turns round).
    max_lines
        At most this many trips in each direction (``0``: no cap). Riders the cap leaves out
        are reported ``over_cap`` and the plan's ``meta["caps"]`` says what the cap costs.
    max_buses
        At most this many buses over all types (``0``: no cap; each type is capped by its
        count in the fleet anyway).
    """

    max_walk_m: float = 600.0
    default_max_ride_min: float = 60.0
    dwell_s: int = 30
    boarding_s: int = 4
    time_limit_s: float = 10.0
    seed: int = 0
    deadline: str = "08:30"
    arrival_margin_s: int = 0
    earliest_departure: str = "05:00"
    unserved_penalty: float = 1000.0
    max_alternatives: int = 3
    max_stop_snap_m: float = 250.0
    max_home_snap_m: float = 500.0
    district_cell_m: float = 800.0
    max_iterations: int = 0
    evening_departure: str = ""
    turnaround_s: int = 300
    max_lines: int = 0
    max_buses: int = 0

    _INTS = (
        "dwell_s",
        "boarding_s",
        "seed",
        "arrival_margin_s",
        "max_alternatives",
        "max_iterations",
        "turnaround_s",
        "max_lines",
        "max_buses",
    )
    _CLOCKS = ("deadline", "earliest_departure", "evening_departure")
    _POSITIVE = (
        "max_walk_m",
        "default_max_ride_min",
        "time_limit_s",
        "max_alternatives",
        "district_cell_m",
    )

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in self._CLOCKS:
                if f.name == "evening_departure" and value in ("", None):
                    object.__setattr__(self, f.name, "")
                    continue
                parse_clock(value, name=f.name)
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                msg = f"Expected {f.name} to be a number, got {value!r}"
                raise ShuttleSettingsError(msg)
            if not math.isfinite(value):
                msg = f"Expected {f.name} to be finite, got {value!r}"
                raise ShuttleSettingsError(msg)
            if f.name in self._INTS and int(value) != value:
                msg = f"Expected {f.name} to be a whole number, got {value!r}"
                raise ShuttleSettingsError(msg)
            if value < 0:
                msg = f"Expected {f.name} >= 0, got {value!r}"
                raise ShuttleSettingsError(msg)
            if f.name in self._POSITIVE and value == 0:
                msg = f"Expected {f.name} > 0, got {value!r}"
                raise ShuttleSettingsError(msg)
            if f.name in self._INTS:
                object.__setattr__(self, f.name, int(value))
        if self.earliest_departure_s >= self.deadline_s:
            msg = (
                f"Expected earliest_departure before deadline, got {self.earliest_departure}"
                f" and {self.deadline}"
            )
            raise ShuttleSettingsError(msg)

    @property
    def deadline_s(self) -> int:
        """The default deadline in seconds since midnight."""
        return parse_clock(self.deadline, name="deadline")

    @property
    def earliest_departure_s(self) -> int:
        """The earliest departure in seconds since midnight."""
        return parse_clock(self.earliest_departure, name="earliest_departure")

    @property
    def evening_departure_s(self) -> int | None:
        """The default evening departure in seconds since midnight, ``None`` when unset."""
        if not self.evening_departure:
            return None
        return parse_clock(self.evening_departure, name="evening_departure")

    @property
    def default_max_ride_s(self) -> int:
        """The default ride limit in whole seconds."""
        return round(self.default_max_ride_min * 60)

    def replace(self, **changes: Any) -> ShuttleSettings:
        """A copy with ``changes`` applied (and validated)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            msg = f"Expected shuttle settings among {self.names()}, got {sorted(unknown)}"
            raise ShuttleSettingsError(msg)
        return replace(self, **changes)

    @classmethod
    def names(cls) -> list[str]:
        """Names of all settings."""
        return [f.name for f in fields(cls)]

    def to_dict(self) -> dict[str, Any]:
        """Settings as a plain dict (JSON- and TOML-friendly)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShuttleSettings:
        """Settings from a dict; unknown keys are an error naming them."""
        check_setting_keys(data, cls.names(), what="shuttle settings")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path) -> ShuttleSettings:
        """Read settings from a TOML file: top-level keys or a ``[shuttle]`` table."""
        return cls.from_dict(read_settings_file(path, table="shuttle"))
