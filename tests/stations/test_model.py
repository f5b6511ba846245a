"""Station validation and plain-data forms."""

from __future__ import annotations

import dataclasses
import math
import pickle
from datetime import UTC, datetime

import pytest

from routing import CoordinateError
from stations import AMENITIES, KINDS, OpeningHoursError, Station, StationValueError
from stations.model import RECORD_FIELDS


def make(**changes: object) -> Station:
    base: dict[str, object] = {
        "id": "ws-1",
        "kind": "warm_station",
        "name": "甘露园南路暖心驿站",
        "lon": 116.49,
        "lat": 39.93,
        "names": {"zh": "甘露园南路暖心驿站", "en": "Ganluyuan South Road warm station"},
        "host_type": "bank",
        "amenities": ["microwave", "drinking_water", "toilet"],
        "opening_hours": "Mo-Fr 09:00-17:00",
    }
    base.update(changes)
    return Station(**base)  # type: ignore[arg-type]


def test_valid_station_normalises_fields() -> None:
    """A valid station keeps its values, with amenities as a frozenset and UTC timestamps."""
    s = make(updated_at="2024-05-01T08:00:00+08:00", seven_have={"site": True, "sign": False})
    assert s.amenities == frozenset({"microwave", "drinking_water", "toilet"})
    assert s.seven_have == frozenset({"site"})
    assert s.updated_at == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert s.access == "public"


@pytest.mark.parametrize(
    ("changes", "field", "pattern"),
    [
        ({"lat": 123.4}, "lat", r"Expected latitude in \[-90, 90\], got 123.4"),
        ({"lat": math.nan}, "lat", r"Expected latitude in \[-90, 90\], got nan"),
        ({"lon": -181.0}, "lon", r"Expected longitude in \[-180, 180\]"),
        ({"lon": "east"}, "lon", r"Expected longitude to be a number, got 'east'"),
        ({"kind": "cafe"}, "kind", r"warm_station, nursing_room, shuttle_stop; got 'cafe'"),
        ({"amenities": ["wifi"]}, "amenities", r"from microwave, .*private_room; got 'wifi'"),
        ({"host_type": "casino"}, "host_type", r"one of bank, .*; got 'casino'"),
        ({"access": "members"}, "access", r"public, employees; got 'members'"),
        ({"capacity": -1}, "capacity", r"whole number >= 0, got -1"),
        ({"capacity": 2.5}, "capacity", r"whole number >= 0, got 2.5"),
        ({"name": "  "}, "name", r"non-empty name"),
        ({"id": ""}, "id", r"Expected id"),
        ({"names": {"Chinese!": "x"}}, "names", r"language code"),
        ({"seven_have": ["site", "wifi"]}, "seven_have", r"site, sign, .*effect; got 'wifi'"),
        ({"updated_at": "yesterday"}, "updated_at", r"ISO 8601"),
    ],
)
def test_bad_fields_raise_expected_got(
    changes: dict[str, object], field: str, pattern: str
) -> None:
    """Each bad field raises a StationValueError naming the field, what was expected and got."""
    with pytest.raises(StationValueError, match=pattern) as info:
        make(**changes)
    assert info.value.field == field


def test_coordinate_errors_are_coordinate_errors() -> None:
    """Bad coordinates also raise the routing CoordinateError, so callers can catch one class."""
    with pytest.raises(CoordinateError):
        make(lat=math.inf)


def test_malformed_hours_say_where() -> None:
    """A malformed opening_hours value names the column the parser stopped at."""
    with pytest.raises(OpeningHoursError, match=r"column 7") as info:
        make(opening_hours="Mo-Fr 25:00-26:00")
    assert info.value.column == 7
    assert info.value.field == "opening_hours"


def test_vocabularies_are_exported() -> None:
    """KINDS and AMENITIES are the public vocabularies, including nursing-room amenities."""
    assert KINDS == ("warm_station", "nursing_room", "shuttle_stop")
    assert {"microwave", "fridge", "steriliser", "sofa", "private_room"} <= set(AMENITIES)


def test_feature_round_trip_and_names() -> None:
    """to_feature/from_feature round-trip every field; name_in falls back sensibly."""
    s = make(capacity=6, certification="city_model", contact="010-1234", notes="测试")
    feature = s.to_feature()
    assert feature["geometry"] == {"type": "Point", "coordinates": [116.49, 39.93]}
    assert Station.from_feature(feature) == s
    assert s.name_in("en").startswith("Ganluyuan")
    assert s.name_in("zh-Hans") == "甘露园南路暖心驿站"
    assert s.name_in("ko") == s.name


def test_from_feature_rejects_non_points() -> None:
    """from_feature refuses a Feature whose geometry is not a Point."""
    feature = make().to_feature()
    feature["geometry"] = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    with pytest.raises(StationValueError, match="Expected a Point geometry, got 'LineString'"):
        Station.from_feature(feature)


def test_station_is_immutable_hashable_and_picklable() -> None:
    """Stations are frozen, hashable and survive pickling (names stay read-only)."""
    s = make()
    with pytest.raises(AttributeError):
        s.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.names["fr"] = "x"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(s)) == s
    assert len({s, make()}) == 1


def test_is_open_uses_station_hours() -> None:
    """Station.is_open follows its hours and returns None when they are unknown."""
    s = make(opening_hours="Mo-Fr 09:00-17:00")
    assert s.is_open(datetime(2024, 3, 4, 10, 0)) is True  # Monday
    assert s.is_open(datetime(2024, 3, 9, 10, 0)) is False  # Saturday
    assert make(opening_hours=None).is_open(datetime(2024, 3, 4, 10, 0)) is None


def test_record_fields_name_every_field_in_record_order() -> None:
    """RECORD_FIELDS (which readers, CSV export and the API derive from) lists every field."""
    assert set(RECORD_FIELDS) == {f.name for f in dataclasses.fields(Station)}
    assert tuple(make().to_record()) == RECORD_FIELDS
