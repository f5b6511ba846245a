"""Settings validation, TOML loading and the data classes' own checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.shuttle import (
    BusType,
    Fleet,
    ShuttleInputError,
    ShuttleSettings,
    ShuttleSettingsError,
    Unserved,
    format_hms,
    parse_clock,
)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("max_walk_m", -5, "max_walk_m >= 0"),
        ("max_walk_m", 0, "max_walk_m > 0"),
        ("dwell_s", "thirty", "dwell_s to be a number"),
        ("boarding_s", 2.5, "boarding_s to be a whole number"),
        ("time_limit_s", float("nan"), "time_limit_s to be finite"),
        ("unserved_penalty", True, "unserved_penalty to be a number"),
        ("deadline", "8h30", "deadline as HH:MM"),
        ("deadline", "08:75", "minutes and seconds below 60"),
    ],
)
def test_bad_settings_name_the_field(field: str, value: object, match: str) -> None:
    """Negative, non-numeric or malformed settings raise an error naming the field."""
    with pytest.raises(ShuttleSettingsError, match=match):
        ShuttleSettings(**{field: value})  # type: ignore[arg-type]


def test_deadline_must_follow_earliest_departure() -> None:
    """A deadline before the earliest departure is rejected."""
    with pytest.raises(ShuttleSettingsError, match="earliest_departure before deadline"):
        ShuttleSettings(deadline="04:00")


def test_settings_from_toml(tmp_path: Path) -> None:
    """Settings load from a TOML [shuttle] table; unknown keys are errors."""
    p = tmp_path / "s.toml"
    p.write_text('[shuttle]\nmax_walk_m = 450\ndeadline = "09:00"\nseed = 7\n')
    s = ShuttleSettings.from_file(p)
    assert (s.max_walk_m, s.deadline_s, s.seed) == (450, 9 * 3600, 7)
    p.write_text("max_wlak_m = 3\n")
    with pytest.raises(ShuttleSettingsError, match="max_wlak_m"):
        ShuttleSettings.from_file(p)
    p.write_text("max_walk_m = \n")
    with pytest.raises(ShuttleSettingsError, match="valid TOML"):
        ShuttleSettings.from_file(p)


def test_replace_validates() -> None:
    """replace() returns a validated copy and rejects unknown names."""
    s = ShuttleSettings().replace(seed=3)
    assert s.seed == 3
    with pytest.raises(ShuttleSettingsError):
        s.replace(seed=-1)
    with pytest.raises(ShuttleSettingsError, match="nonsense"):
        s.replace(nonsense=1)


def test_clock_round_trip() -> None:
    """HH:MM parses to seconds since midnight and formats back as HH:MM:SS."""
    assert parse_clock("08:30") == 30600
    assert parse_clock("07:05:09") == 7 * 3600 + 309
    assert format_hms(30600) == "08:30:00"
    assert format_hms(25 * 3600) == "25:00:00"


def test_bus_type_and_fleet_checks() -> None:
    """Negative seats, non-numeric costs and duplicate type names are input errors."""
    with pytest.raises(ShuttleInputError, match="seats"):
        BusType("b", -1, 1)
    with pytest.raises(ShuttleInputError, match="cost_per_km"):
        BusType("b", 30, 1, cost_per_km=float("inf"))
    with pytest.raises(ShuttleInputError, match="duplicates"):
        Fleet((BusType("b", 30, 1), BusType("b", 50, 1)))
    f = Fleet((BusType("a", 30, 2), BusType("b", 50, 0)))
    assert (f.total_buses, f.total_seats, f.max_seats) == (2, 60, 30)
    assert BusType("c", 30, 1, 100, 2.0, 60.0).trip_cost(10_000, 1800) == pytest.approx(150.0)


def test_unserved_reason_is_checked() -> None:
    """Unserved needs a known reason code and gets its standard message by default."""
    assert "maximum walk" in Unserved("r", "too_far_to_walk").message
    with pytest.raises(ValueError, match="reason"):
        Unserved("r", "bored")  # type: ignore[arg-type]
