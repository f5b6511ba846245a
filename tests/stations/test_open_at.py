"""One open_at grammar for the library, the CLI and the HTTP API."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from stations import StationValueError
from stations._query import parse_open_at

UTC = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-15T08:30", datetime(2026, 1, 15, 8, 30)),
        ("2026-01-15", datetime(2026, 1, 15)),
        ("2026-01-15t08:30:00z", datetime(2026, 1, 15, 8, 30, tzinfo=UTC)),
        ("2026-01-15T08:30 08:00", datetime(2026, 1, 15, 0, 30, tzinfo=UTC)),
        ("2026-01-15T08:30+08:00", datetime(2026, 1, 15, 0, 30, tzinfo=UTC)),
        ("1990-12-31T23:59:60Z", datetime(1990, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_iso_8601_and_rfc_3339_forms(text: str, expected: datetime) -> None:
    """ISO 8601 / RFC 3339 in any case, an unencoded '+', a leap second; aware ones in UTC."""
    assert parse_open_at(text) == expected


def test_now_and_hh_mm_today() -> None:
    """'now' is the instant; 'HH:MM' is that time on now's date."""
    now = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
    assert parse_open_at("now", now=now) == now
    assert parse_open_at("12:30", now=datetime(2026, 1, 15, 9, 0)) == datetime(2026, 1, 15, 12, 30)


@pytest.mark.parametrize("text", ["tuesday", "25:99", "2026-13-45", ""])
def test_anything_else_names_the_accepted_forms(text: str) -> None:
    """A bad value says which forms are accepted."""
    with pytest.raises(StationValueError, match=r"ISO 8601.*HH:MM or now"):
        parse_open_at(text)
