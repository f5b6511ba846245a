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


def test_evening_departure_column(tmp_path: Path) -> None:
    """evening_departure is read as seconds (HH:MM), bad times are reported by row."""
    p = tmp_path / "r.csv"
    p.write_text("id,lon,lat,evening_departure\na,121.5,38.9,17:30\nb,121.6,38.95,\n")
    a, b = read_riders(p)
    assert (a.evening_departure, b.evening_departure) == (17 * 3600 + 30 * 60, None)
    p.write_text("id,lon,lat,evening_departure\na,121.5,38.9,half past five\n")
    with pytest.raises(ShuttleInputError) as info:
        read_riders(p)
    assert {(q.row, q.field) for q in info.value.problems} == {(1, "evening_departure")}
    write_riders_csv([a, b], tmp_path / "back.csv")
    assert read_riders(tmp_path / "back.csv") == [a, b]


def test_riders_and_fleet_from_excel(tmp_path: Path) -> None:
    """An .xlsx sheet reads like the CSV: numbers, time cells and empty rows below the data;
    a missing column or a corrupt workbook is a clear error."""
    import datetime as dt

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "lon", "lat", "deadline", "evening_departure", "max_ride_min"])
    sheet.append(["a", 121.5, 38.9, dt.time(7, 45), dt.time(17, 0), 30])
    sheet.append([2, 121.6, 38.95, "08:30", None, None])
    sheet.append([None, None, None, None, None, None])
    book.save(tmp_path / "r.xlsx")
    a, b = read_riders(tmp_path / "r.xlsx")
    assert (a.id, a.deadline, a.evening_departure, a.max_ride_s) == ("a", 27900, 61200, 1800)
    assert (b.id, b.deadline, b.evening_departure) == ("2", 30600, None)
    fleet_book = openpyxl.Workbook()
    fs = fleet_book.active
    fs.append(["type", "seats", "count", "fixed_cost", "cost_per_km", "cost_per_hour"])
    fs.append(["bus50", 50, 3, 600, 4, 120])
    fleet_book.save(tmp_path / "f.xlsx")
    assert read_fleet(tmp_path / "f.xlsx")["bus50"].count == 3
    sheet.delete_cols(2)
    book.save(tmp_path / "bad.xlsx")
    with pytest.raises(ShuttleInputError, match=r"missing \['lon'\]"):
        read_riders(tmp_path / "bad.xlsx")
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(ShuttleInputError, match="Excel workbook"):
        read_riders(tmp_path / "junk.xlsx")


def test_undeclared_gcj02_homes_are_refused(tmp_path: Path) -> None:
    """Homes shifted to GCJ-02 (as copied from a Chinese map app) are refused without --crs,
    with the evidence; declared, they are converted back to where they were."""
    from routing import load_area
    from routing.coords import wgs84_to_gcj02
    from routing.shuttle import sample_riders
    from tests.conftest import shared_osm

    area = load_area(shared_osm("beijing_chaoyang_wangjing.osm.bz2"))
    riders = sample_riders(area, 60, seed=2)
    glon, glat = wgs84_to_gcj02([r.lon for r in riders], [r.lat for r in riders])
    shifted = [
        type(r)(r.id, float(x), float(y)) for r, x, y in zip(riders, glon, glat, strict=True)
    ]
    write_riders_csv(shifted, tmp_path / "gcj.csv")
    with pytest.raises(ShuttleInputError, match="gcj02") as info:
        read_riders(tmp_path / "gcj.csv", area=area)
    assert info.value.problems[0].field == "crs"
    back = read_riders(tmp_path / "gcj.csv", crs="gcj02", area=area)
    for r, b in zip(riders, back, strict=True):
        assert abs(r.lon - b.lon) < 2e-6 and abs(r.lat - b.lat) < 2e-6
    write_riders_csv(riders, tmp_path / "wgs.csv")
    assert read_riders(tmp_path / "wgs.csv", area=area) == riders  # true WGS-84 passes
