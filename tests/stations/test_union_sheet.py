"""A union's station list as it really arrives, imported and exported in one command each.

The sheet is made here from real OSM places of the Zhongguancun extract (../shared/osm; the test
skips without it): Chinese headers, coordinates converted to GCJ-02 as Amap would give them,
hours and services written in Chinese, a title row above the header (XLSX), phone numbers the
spreadsheet stored as numbers, a column no field takes, and rows with things to report.
Positions after import are checked against the original OSM coordinates, read straight from
the XML (tests._osm_pois), not through warmheart.
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from pyproj import Geod

from routing import Area, build_area
from routing.coords import wgs84_to_gcj02
from stations import GeoPackageStore, Station
from tests._osm_pois import PLACE_GROUPS, OsmPoi, inside, read_osm_pois
from tests.conftest import shared_osm
from webmap.cli import main

GEOD = Geod(ellps="WGS84")
EXTRACT = "beijing_haidian_zhongguancun.osm.bz2"
AREA = "zgc-union"
HEADERS = [
    "序号",
    "驿站名称",
    "地址",
    "经度",
    "纬度",
    "开放时间",
    "服务设施",
    "联系电话",
    "所属街道",
]
#: (as written, as OSM opening_hours) — the issue's patterns, in turn.
HOURS = [
    ("周一至周五 8:00-18:00", "Mo-Fr 08:00-18:00"),
    ("工作日 9:00—17:00", "Mo-Fr 09:00-17:00; PH off"),
    ("每天 上午8点至12点 下午2点至6点", "Mo-Su 08:00-12:00,14:00-18:00"),
    ("24小时", "24/7"),
    ("周末 10:00-16:00", "Sa,Su 10:00-16:00"),
    ("全天", "24/7"),
    ("周一至周五 8:00-18:00 节假日除外", "Mo-Fr 08:00-18:00; PH off"),
    ("８：００－１８：００", "08:00-18:00"),
    ("8:00-12:00，14:00-18:00", "08:00-12:00,14:00-18:00"),
]
#: (as written, amenities) — every word of the issue's list.
SERVICES = [
    ("微波炉、饮水、休息座椅", {"microwave", "drinking_water", "rest_seats"}),
    ("热饭/热水/卫生间", {"microwave", "drinking_water", "toilet"}),
    ("充电，医药箱，针线包", {"phone_charging", "first_aid_kit", "sewing_kit"}),
    ("雨具 避雨 冰箱", {"shelter", "fridge"}),
    ("消毒柜、沙发、母婴", {"steriliser", "sofa", "private_room"}),
    ("座椅；厕所；急救", {"rest_seats", "toilet", "first_aid_kit"}),
]
UNREADABLE_ROW, UNKNOWN_ROW, FAR_ROW = 4, 7, 12


def _places() -> list[OsmPoi]:
    path = shared_osm(EXTRACT)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bounds = _area().bounds
    pois = [p for p in inside(read_osm_pois(path), bounds) if p.group in PLACE_GROUPS and p.name]
    return sorted(pois, key=lambda p: (p.osm_type, p.osm_id))[:20]


_AREAS: dict[str, Area] = {}


def _area() -> Area:
    if AREA not in _AREAS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _AREAS[AREA] = build_area(str(shared_osm(EXTRACT)), name=AREA)
    return _AREAS[AREA]


def union_rows() -> tuple[list[list[Any]], list[OsmPoi]]:
    """The sheet's data rows (GCJ-02 coordinates) and the OSM places they came from."""
    places = _places()
    rows = []
    for i, poi in enumerate(places, start=1):
        lon, lat = (float(v) for v in wgs84_to_gcj02(poi.lon, poi.lat))
        if i == FAR_ROW:  # a station typed with a Shanghai position: off the area
            lon, lat = 121.4737, 31.2304
        hours = HOURS[i % len(HOURS)][0] if i != UNREADABLE_ROW else "看情况，一般上午开"
        services = SERVICES[i % len(SERVICES)][0] + ("、空调" if i == UNKNOWN_ROW else "")
        rows.append(
            [
                i,
                f"{poi.name}暖心驿站",
                f"北京市海淀区{poi.tags.get('addr:street', '中关村')}",
                round(lon, 8),
                round(lat, 8),
                hours,
                services,
                13800138000 + i,
                "海淀街道" if i % 2 else "中关村街道",
            ]
        )
    return rows, places


def write_csv(path: Path, rows: list[list[Any]]) -> Path:
    """As Excel's "CSV UTF-8" saves it: BOM, CRLF."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    """A workbook with a title row above the header, numbers stored as numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "驿站名单"
    sheet.append(["海淀区户外劳动者暖心驿站名单（2024年）"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.create_sheet("说明").append(["坐标来自高德地图"])
    book.save(path)
    return path


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    return result


def _import(path: Path, store: Path, *extra: str) -> Any:
    return run(
        "stations",
        "import",
        str(path),
        "--area",
        AREA,
        "--store",
        str(store),
        "--kind",
        "warm_station",
        *extra,
    )


@pytest.fixture(scope="module")
def sheet() -> tuple[list[list[Any]], list[OsmPoi]]:
    return union_rows()


def _check_store(store_path: Path, rows: list[list[Any]], places: list[OsmPoi]) -> list[Station]:
    with GeoPackageStore(store_path) as store:
        stations = {s.id: s for s in store.all()}
    assert sorted(stations, key=int) == [str(r[0]) for r in rows]
    for row, poi in zip(rows, places, strict=True):
        s = stations[str(row[0])]
        i = int(row[0])
        assert s.kind == "warm_station" and s.name == f"{poi.name}暖心驿站"
        if i != FAR_ROW:
            assert GEOD.inv(poi.lon, poi.lat, s.lon, s.lat)[2] <= 1.0  # back on the OSM spot
        want_hours = None if i == UNREADABLE_ROW else HOURS[i % len(HOURS)][1]
        assert s.opening_hours == want_hours
        assert s.amenities == SERVICES[i % len(SERVICES)][1]
        assert s.contact == str(13800138000 + i)
        assert s.address is not None and s.address.startswith("北京市海淀区")
        assert s.notes is not None and f"所属街道: {row[8]}" in s.notes
    assert "opening hours as given: 看情况，一般上午开" in (
        stations[str(UNREADABLE_ROW)].notes or ""
    )
    assert "空调" in (stations[str(UNKNOWN_ROW)].notes or "")
    return list(stations.values())


def test_union_csv_imports_in_one_command(tmp_path: Path, sheet: Any) -> None:
    """Chinese headers, GCJ-02 points, Chinese hours and services: one command, right positions
    (<= 1 m of the OSM originals), right fields, and a per-row report of what needs a look."""
    rows, places = sheet
    src = write_csv(tmp_path / "驿站名单.csv", rows)
    result = _import(src, tmp_path / "s.gpkg", "--crs", "gcj02")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "序号 -> id, 驿站名称 -> name, 地址 -> address, 经度 -> lon, 纬度 -> lat" in text
    assert "开放时间 -> opening_hours, 服务设施 -> amenities, 联系电话 -> contact" in text
    assert "所属街道 -> notes" in text
    assert "read    opening_hours '周一至周五 8:00-18:00' as 'Mo-Fr 08:00-18:00'" in text
    assert f"warning row {UNREADABLE_ROW}, opening_hours: could not read" in text
    assert f"warning row {UNKNOWN_ROW}, amenities: unknown words 空调" in text
    assert f"warning row {FAR_ROW}, lon: station '{FAR_ROW}' lies outside the area" in text
    _check_store(tmp_path / "s.gpkg", rows, places)


def test_union_xlsx_imports_the_same(tmp_path: Path, sheet: Any) -> None:
    """The same list as an .xlsx workbook (title row, numbers as numbers, two sheets) gives the
    same stations."""
    rows, places = sheet
    write_csv(tmp_path / "a.csv", rows)
    assert _import(tmp_path / "a.csv", tmp_path / "a.gpkg", "--crs", "gcj02").exit_code == 0
    book = write_xlsx(tmp_path / "驿站名单.xlsx", rows)
    result = _import(book, tmp_path / "b.gpkg", "--crs", "gcj02", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "xlsx" and report["added"] == len(rows)
    assert any("skipped 1 title row" in w["problem"] for w in report["warnings"])
    from_xlsx = _check_store(tmp_path / "b.gpkg", rows, places)
    with GeoPackageStore(tmp_path / "a.gpkg") as store:
        from_csv = {s.id: s.replace(source=None, updated_at=None) for s in store.all()}
    assert {s.id: s.replace(source=None, updated_at=None) for s in from_xlsx} == from_csv
    by_number = _import(book, tmp_path / "c.gpkg", "--crs", "gcj02", "--sheet", "2")
    assert by_number.exit_code == 1 and "Expected columns for name, lon, lat" in by_number.stdout


def test_undeclared_gcj02_sheet_is_refused_with_the_evidence(tmp_path: Path, sheet: Any) -> None:
    """Without --crs the GCJ-02 list is refused: distances as given vs shifted, the --crs to use."""
    rows, _ = sheet
    src = write_csv(tmp_path / "s.csv", rows)
    result = _import(src, tmp_path / "s.gpkg")
    assert result.exit_code == 1
    assert "error   file, crs: Expected WGS-84 coordinates (no --crs given)" in result.stdout
    assert "median distance to the street network" in result.stdout
    assert "declare the system with --crs gcj02" in result.stdout
    assert "nothing was written" in result.stderr
    assert not (tmp_path / "s.gpkg").exists() or len(GeoPackageStore(tmp_path / "s.gpkg")) == 0
    # declaring it WGS-84 is the user's call: a warning, not a refusal
    forced = _import(src, tmp_path / "t.gpkg", "--crs", "wgs84")
    assert forced.exit_code == 0 and "fit the map much better read as GCJ-02" in forced.output


def test_dry_run_checks_what_the_import_checks(tmp_path: Path, sheet: Any) -> None:
    """--dry-run reports ids already in the store (the import would fail on them) and writes
    nothing; on an empty store it passes and the store stays empty."""
    rows, _ = sheet
    src = write_csv(tmp_path / "s.csv", rows)
    store = tmp_path / "s.gpkg"
    clean = _import(src, store, "--crs", "gcj02", "--dry-run", "--json")
    assert clean.exit_code == 0 and json.loads(clean.stdout)["problems"] == []
    assert not store.exists() or len(GeoPackageStore(store)) == 0
    assert _import(src, store, "--crs", "gcj02").exit_code == 0
    again = _import(src, store, "--crs", "gcj02", "--dry-run")
    assert again.exit_code == 1
    assert "row 1, id: Expected a new id, got '1' already in the store" in again.stdout
    assert "the import would be refused" in again.stderr
    assert _import(src, store, "--crs", "gcj02", "--dry-run", "--replace").exit_code == 0


def test_strict_refuses_the_rows_that_need_a_look(tmp_path: Path, sheet: Any) -> None:
    """--strict turns the per-row warnings (hours, words, off-area) into refusals."""
    rows, _ = sheet
    src = write_csv(tmp_path / "s.csv", rows)
    result = _import(src, tmp_path / "s.gpkg", "--crs", "gcj02", "--strict", "--json")
    assert result.exit_code == 1
    problems = {(p["row"], p["field"]) for p in json.loads(result.stdout)["problems"]}
    assert problems == {
        (UNREADABLE_ROW, "opening_hours"),
        (UNKNOWN_ROW, "amenities"),
        (FAR_ROW, "lon"),
    }


def test_bad_rows_are_refused_row_by_row(tmp_path: Path, sheet: Any) -> None:
    """A missing latitude and a swapped pair refuse the import, each on its own row with a hint."""
    rows, _ = sheet
    bad = [list(r) for r in rows[:6]]
    bad[1][4] = ""
    bad[2][3], bad[2][4] = bad[2][4], bad[2][3]
    result = _import(write_csv(tmp_path / "s.csv", bad), tmp_path / "s.gpkg", "--crs", "gcj02")
    assert result.exit_code == 1
    assert "error   row 2, lat: Expected a latitude, got an empty cell" in result.stdout
    assert "error   row 3, lat: Expected latitude in [-90, 90]" in result.stdout
    assert "(are longitude and latitude swapped? longitude comes first)" in result.stdout


def test_excel_exports_read_back_equal_the_store(tmp_path: Path, sheet: Any) -> None:
    """`stations export --excel` writes a BOM CSV that a BOM-aware reader reads back equal to the
    store; `.xlsx` writes a workbook that reads back the same."""
    rows, _ = sheet
    store_path = tmp_path / "s.gpkg"
    assert _import(write_csv(tmp_path / "s.csv", rows), store_path, "--crs", "gcj02").exit_code == 0
    with GeoPackageStore(store_path) as store:
        stored = {s.id: s for s in store.all()}
    out = tmp_path / "导出.csv"
    result = run(
        "stations", "export", str(out), "--area", AREA, "--store", str(store_path), "--excel"
    )
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as fh:
        records = list(csv.DictReader(fh))
    book_path = tmp_path / "导出.xlsx"
    result = run("stations", "export", str(book_path), "--area", AREA, "--store", str(store_path))
    assert result.exit_code == 0, result.output
    sheet_rows = list(
        load_workbook(book_path, read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    header = sheet_rows[0]
    book = [
        dict(zip(header, r + (None,) * (len(header) - len(r)), strict=True)) for r in sheet_rows[1:]
    ]
    for found in (records, book):
        assert len(found) == len(stored)
        for rec in found:
            s = stored[str(rec["id"])]
            assert rec["name"] == s.name and rec["kind"] == s.kind
            assert np.isclose(float(rec["lon"]), s.lon, atol=1e-7)
            assert np.isclose(float(rec["lat"]), s.lat, atol=1e-7)
            assert set(filter(None, str(rec["amenities"] or "").split(";"))) == s.amenities
            assert (rec["opening_hours"] or None) == s.opening_hours
            assert (rec["notes"] or None) == s.notes and str(rec["contact"]) == s.contact
    back = tmp_path / "back.gpkg"
    assert run("stations", "import", str(out), "--area", AREA, "--store", str(back)).exit_code == 0

    def same(s: Station) -> Station:  # the export keeps 7 decimals (~1 cm)
        return s.replace(source=None, lon=round(s.lon, 7), lat=round(s.lat, 7))

    with GeoPackageStore(back) as again:
        assert {s.id: same(s) for s in again.all()} == {i: same(s) for i, s in stored.items()}


def test_out_of_the_box_a_new_user_is_told_once_what_to_add(tmp_path: Path, sheet: Any) -> None:
    """No options at all: the issue's sheet is refused with one line per missing decision
    (the kind for the file, the coordinate system), not one complaint per row."""
    rows, _ = sheet
    src = write_csv(tmp_path / "s.csv", rows)
    result = run(
        "stations", "import", str(src), "--area", AREA, "--store", str(tmp_path / "s.gpkg")
    )
    assert result.exit_code == 1
    errors = [line for line in result.stdout.splitlines() if line.startswith("  error")]
    assert len(errors) == 2, errors
    assert "file, crs:" in errors[0] and "--crs gcj02" in errors[0]
    assert (
        "file, kind:" in errors[1] and "--kind warm_station|nursing_room|shuttle_stop" in errors[1]
    )
    assert "2 problems of the whole file" in result.stderr
