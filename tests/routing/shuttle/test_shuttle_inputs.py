"""Riders (CSV, GeoJSON) and fleet CSV readers with row-by-row error reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.shuttle import ShuttleInputError, read_fleet, read_riders
from routing.shuttle.inputs import write_fleet_csv, write_riders_csv


def test_riders_csv_with_optional_columns(tmp_path: Path) -> None:
    """Optional workplace, deadline, ride limit and district columns are read."""
    p = tmp_path / "r.csv"
    p.write_text(
        "id,lon,lat,workplace_lon,workplace_lat,deadline,max_ride_min\n"
        "a,121.5,38.9,,,,\n"
        "b,121.6,38.95,121.52,38.88,07:45,30\n"
    )
    a, b = read_riders(p)
    assert (a.workplace, a.deadline, a.max_ride_s) == (None, None, None)
    assert b.workplace == (121.52, 38.88)
    assert (b.deadline, b.max_ride_s) == (7 * 3600 + 45 * 60, 1800)


def test_riders_csv_reports_every_bad_row(tmp_path: Path) -> None:
    """Each malformed row is reported with its row number and field; nothing is dropped."""
    p = tmp_path / "r.csv"
    p.write_text(
        "id,lon,lat,deadline,max_ride_min\n"
        "a,121.5,38.9,,\n"
        "b,east,38.9,,\n"
        ",121.5,95,,\n"
        "a,121.5,38.9,8h,-3\n"
    )
    with pytest.raises(ShuttleInputError) as info:
        read_riders(p)
    got = {(q.row, q.field) for q in info.value.problems}
    assert got == {
        (2, "lon"),
        (3, "id"),
        (3, "lat"),
        (4, "id"),
        (4, "deadline"),
        (4, "max_ride_min"),
    }
    assert "row 2, lon" in str(info.value)


def test_riders_csv_missing_column(tmp_path: Path) -> None:
    """A riders file without lat is rejected naming the column."""
    p = tmp_path / "r.csv"
    p.write_text("id,lon\na,1\n")
    with pytest.raises(ShuttleInputError, match="lat"):
        read_riders(p)


def test_riders_geojson(tmp_path: Path) -> None:
    """Riders may be GeoJSON points with the same properties; non-points are reported."""
    feats = [
        {
            "type": "Feature",
            "id": "x",
            "geometry": {"type": "Point", "coordinates": [121.5, 38.9]},
            "properties": {"max_ride_min": 45},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [121.6, 38.8]},
            "properties": {"id": "y", "deadline": "08:00"},
        },
    ]
    p = tmp_path / "r.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    x, y = read_riders(p)
    assert (x.id, x.max_ride_s, y.id, y.deadline) == ("x", 2700, "y", 8 * 3600)
    feats.append(
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": []},
            "properties": {"id": "z"},
        }
    )
    p.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    with pytest.raises(ShuttleInputError, match="row 3, geometry"):
        read_riders(p)


def test_fleet_csv(tmp_path: Path) -> None:
    """The fleet CSV is read; bad numbers and duplicate types are reported by row."""
    p = tmp_path / "f.csv"
    p.write_text(
        "type,seats,count,fixed_cost,cost_per_km,cost_per_hour\n"
        "bus30,30,4,300,3,60\nbus50,50,2,400,4,70\n"
    )
    f = read_fleet(p)
    assert [t.name for t in f] == ["bus30", "bus50"]
    p.write_text(
        "type,seats,count,fixed_cost,cost_per_km,cost_per_hour\n"
        "bus30,30.5,-1,300,x,60\nbus30,30,1,0,0,0\nbus30,30,1,0,0,0\n"
    )
    with pytest.raises(ShuttleInputError) as info:
        read_fleet(p)
    got = {(q.row, q.field) for q in info.value.problems}
    assert {(1, "seats"), (1, "count"), (1, "cost_per_km"), (3, "type")} <= got


def test_round_trip(tmp_path: Path) -> None:
    """Riders and fleets written by the writers read back equal."""
    from _synthetic import fleet, make_instance

    inst = make_instance(5, 2, seed=1, limits_s=[1800, None], deadline=8 * 3600)
    write_riders_csv(inst.riders, tmp_path / "r.csv")
    write_fleet_csv(fleet(), tmp_path / "f.csv")
    assert read_riders(tmp_path / "r.csv") == inst.riders
    assert read_fleet(tmp_path / "f.csv") == fleet()
