"""Opening hours: parsing, messy input, evaluation across midnight, weekdays and holidays."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from stations import OpeningHoursError, is_open, parse_opening_hours
from stations.hours import clean_opening_hours

BEIJING = (39.93, 116.49)  # (lat, lon)


def test_across_midnight() -> None:
    """'Mo-Su 22:00-02:00' is open at 23:00 and 01:00, closed at 03:00 and noon."""
    expr = "Mo-Su 22:00-02:00"
    assert is_open(expr, datetime(2024, 3, 4, 23, 0)) is True
    assert is_open(expr, datetime(2024, 3, 5, 1, 0)) is True
    assert is_open(expr, datetime(2024, 3, 5, 3, 0)) is False
    assert is_open(expr, datetime(2024, 3, 5, 12, 0)) is False


def test_friday_night_into_saturday() -> None:
    """A Friday-only night opening still covers early Saturday but not Saturday night."""
    expr = "Fr 20:00-03:00"
    assert is_open(expr, datetime(2024, 3, 9, 2, 0)) is True  # Saturday 02:00
    assert is_open(expr, datetime(2024, 3, 9, 21, 0)) is False  # Saturday 21:00


def test_weekday_rules() -> None:
    """Weekday and Saturday rules differ; Sunday is closed."""
    expr = "Mo-Fr 08:00-18:00; Sa 09:00-12:00"
    assert is_open(expr, datetime(2024, 3, 6, 17, 59)) is True  # Wednesday
    assert is_open(expr, datetime(2024, 3, 9, 11, 0)) is True  # Saturday
    assert is_open(expr, datetime(2024, 3, 9, 13, 0)) is False
    assert is_open(expr, datetime(2024, 3, 10, 11, 0)) is False  # Sunday


def test_always_open_and_unknown() -> None:
    """'24/7' is always open; no hours or an 'unknown' rule give None."""
    assert is_open("24/7", datetime(2024, 1, 1, 3, 0)) is True
    assert is_open(None, datetime(2024, 1, 1, 3, 0)) is None
    assert is_open("Mo-Fr 08:00-18:00 unknown", datetime(2024, 3, 4, 9, 0)) is None


def test_public_holidays_by_coordinates() -> None:
    """'PH off' closes on China's National Day when the station's coordinates are given."""
    expr = "Mo-Fr 09:00-17:00; PH off"
    national_day = datetime(2024, 10, 1, 10, 0)  # a Tuesday
    assert is_open(expr, national_day, coords=BEIJING) is False
    assert is_open(expr, datetime(2024, 10, 8, 10, 0), coords=BEIJING) is True
    assert is_open(expr, national_day, country="CN") is False


def test_aware_times_convert_to_station_time_zone() -> None:
    """An aware datetime is converted to the station's local time (UTC 02:00 = 10:00 Beijing)."""
    at = datetime(2024, 3, 4, 2, 0, tzinfo=ZoneInfo("UTC"))
    assert is_open("Mo-Fr 09:00-17:00", at, coords=BEIJING) is True


@pytest.mark.parametrize(
    ("messy", "clean"),
    [
        ("mo-fr 08:00-18:00", "mo-fr 08:00-18:00"),
        ("Mo-Fr 08:00–18:00;", "Mo-Fr 08:00-18:00"),
        ("Mo-Fr ０８：００－１８：００", "Mo-Fr 08:00-18:00"),
        ("Mo-Fr 08:00-18:00\nSa 09:00-12:00", "Mo-Fr 08:00-18:00; Sa 09:00-12:00"),
        ("mo-su 09:00-21:00; ph off", "mo-su 09:00-21:00; PH off"),
    ],
)
def test_messy_input_is_cleaned_and_parses(messy: str, clean: str) -> None:
    """Common slips (lowercase days, dashes, full-width digits, line breaks) still parse."""
    assert clean_opening_hours(messy) == clean
    parse_opening_hours(messy)


@pytest.mark.parametrize(
    ("expr", "where"),
    [("open 9 to 5", "column 6"), ("Mo-Fr 8-18", "column 7"), ("周一至周五", "column 1")],
)
def test_unparsable_says_where(expr: str, where: str) -> None:
    """Unparsable hours raise OpeningHoursError with the parser's position in the message."""
    with pytest.raises(OpeningHoursError, match=where):
        parse_opening_hours(expr)


def test_empty_is_an_error() -> None:
    """An empty expression is an error, not 'always closed'."""
    with pytest.raises(OpeningHoursError, match="empty"):
        parse_opening_hours("  ")
