"""Import (all or nothing, row-by-row reports, CRS conversion) and export round trips."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyogrio
import pytest
from pyproj import Geod

from routing import Area
from stations import (
    FileFormatError,
    GeoPackageStore,
    MemoryStore,
    Station,
    StationImportError,
)
from stations.coords import gcj02_to_bd09, wgs84_to_gcj02
from stations.io import export_stations, import_stations, read_stations

GEOD = Geod(ellps="WGS84")
HEADER = "id,kind,name,name_en,lon,lat,amenities,opening_hours,capacity\n"
GOOD_ROWS = [
    "ws-1,warm_station,甘露园南路暖心驿站,Ganluyuan South Rd,116.4901,39.9301,microwave;toilet,"
    "Mo-Su 07:00-21:00,8\n",
    "nr-1,nursing_room,高新区母婴小屋,High-tech Zone room,121.5201,38.8801,"
    "fridge;steriliser;sofa;private_room,Mo-Fr 08:30-17:30,2\n",
    "ss-1,shuttle_stop,黄浦路站,,121.5301,38.8901,shelter,,\n",
]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def stations_zh() -> list[Station]:
    return [
        Station(
            id="ws-甘露园",
            kind="warm_station",
            name="甘露园南路暖心驿站",
            names={"zh": "甘露园南路暖心驿站", "en": "Ganluyuan", "ja": "甘露園", "ko": "간루위안"},
            address="北京市朝阳区甘露园南路 3 号",
            lon=116.4901234,
            lat=39.9301234,
            host_type="bank",
            amenities={"microwave", "drinking_water"},
            opening_hours="Mo-Fr 09:00-17:00; PH off",
            capacity=6,
            certification="city",
            seven_have={"site", "sign"},
            contact="010-8888 0000",
            notes="“引号”, commas, and\nnew lines",
            source="test",
            updated_at="2024-05-01T12:00:00Z",
        ),
        Station(id="nr-1", kind="nursing_room", name="母婴小屋", lon=121.52, lat=38.88, source="t"),
    ]


# --- import: the good path --------------------------------------------------------------------


def test_csv_import_writes_all_rows(tmp_path: Path) -> None:
    """A clean CSV imports every row with names, amenities, hours and capacity."""
    store = MemoryStore()
    report = import_stations(write(tmp_path / "s.csv", HEADER + "".join(GOOD_ROWS)), store)
    assert report.ok and report.added == 3 and len(store) == 3
    s = store.get("ws-1")
    assert s.name == "甘露园南路暖心驿站" and s.names["en"] == "Ganluyuan South Rd"
    assert s.amenities == {"microwave", "toilet"} and s.capacity == 8
    assert s.source == "s.csv"


def test_csv_aliases_bom_and_generated_ids(tmp_path: Path) -> None:
    """lng/latitude aliases, an Excel BOM and rows without id (stable derived ids) work."""
    text = "\ufeffkind,name,lng,latitude\nwarm_station,驿站,116.49,39.93\n"
    path = write(tmp_path / "s.csv", text)
    first = read_stations(path)
    second = read_stations(path)
    assert first.ok and first.stations[0].id.startswith("ws-")
    assert first.stations[0].id == second.stations[0].id
    assert first.stations[0].lon == 116.49


def test_gb18030_csv_is_read_with_a_warning(tmp_path: Path) -> None:
    """A CSV saved as GB18030 (Chinese Excel) is read, with a warning in the report."""
    path = tmp_path / "gbk.csv"
    path.write_bytes((HEADER + GOOD_ROWS[0]).encode("gb18030"))
    report = read_stations(path)
    assert report.ok and report.stations[0].name == "甘露园南路暖心驿站"
    assert any("gb18030" in w.problem for w in report.warnings)


# --- import: bad input, store untouched ----------------------------------------------------------


def test_one_bad_row_changes_nothing(tmp_path: Path) -> None:
    """An import with one bad row raises with a report naming row and field; store unchanged."""
    store = MemoryStore([Station(id="old", kind="warm_station", name="x", lon=1, lat=1)])
    revision = store.revision
    bad = "ws-2,warm_station,坏行,,116.5,123.4,microwave,,\n"
    path = write(tmp_path / "s.csv", HEADER + GOOD_ROWS[0] + bad + GOOD_ROWS[1])
    with pytest.raises(StationImportError, match="nothing written") as info:
        import_stations(path, store)
    problems = info.value.report.problems
    assert [(p.row, p.field) for p in problems] == [(2, "lat")]
    assert "Expected latitude in [-90, 90], got '123.4'" in problems[0].problem
    assert [s.id for s in store.all()] == ["old"] and store.revision == revision


def test_swapped_coordinates_get_a_hint(tmp_path: Path) -> None:
    """A latitude of 116 with a longitude of 39 is reported with a 'swapped?' hint."""
    report = read_stations(
        write(tmp_path / "s.csv", "kind,name,lon,lat\nwarm_station,a,39.9,116.4\n")
    )
    assert "are longitude and latitude swapped?" in report.problems[0].problem


def test_every_problem_of_every_row_is_reported(tmp_path: Path) -> None:
    """The report lists each bad field of each row, not just the first problem."""
    rows = [
        "a,warm_station,ok,,116.49,39.93,,,\n",
        "b,cafe,bad kind,,116.49,39.93,wifi;microwave,,\n",
        "c,warm_station,bad hours,,nan,39.93,,Mo-Fr 25:00-26:00,\n",
        "a,warm_station,duplicate,,116.49,39.93,,,\n",
    ]
    path = write(tmp_path / "s.csv", HEADER + "".join(rows))
    report = read_stations(path)
    found = {(p.row, p.field) for p in report.problems}
    assert found == {(2, "kind"), (3, "lon"), (4, "id")}
    # unreadable hours and unknown amenity words are kept in notes and reported per row...
    assert {(p.row, p.field) for p in report.warnings} == {(2, "amenities"), (3, "opening_hours")}
    kind = next(p for p in report.problems if p.field == "kind")
    assert "warm_station, nursing_room, shuttle_stop; got 'cafe'" in kind.problem
    hours = next(p for p in report.warnings if p.field == "opening_hours")
    assert "column 7" in hours.problem and "kept in notes" in hours.problem
    dup = next(p for p in report.problems if p.field == "id")
    assert "first on row 1" in dup.problem
    # ... and refuse the import when strict
    strict = read_stations(path, strict=True)
    assert {(p.row, p.field) for p in strict.problems} == found | {
        (2, "amenities"),
        (3, "opening_hours"),
    }


def test_csv_missing_columns(tmp_path: Path) -> None:
    """A CSV without lon/lat columns is refused once, naming the missing columns and what to do;
    store untouched."""
    store = MemoryStore()
    path = write(tmp_path / "s.csv", "id,kind,name,x_coord\na,warm_station,n,1\n")
    with pytest.raises(StationImportError) as info:
        import_stations(path, store)
    report = info.value.report
    assert len(report.problems) == 1 and report.problems[0].row is None
    text = report.problems[0].problem
    assert "Expected columns for lon, lat" in text and "got id, kind, name, x_coord" in text
    assert "--columns 'x_coord=lon,HEADER=lat'" in text
    assert len(store) == 0


def test_ids_already_stored_are_row_problems(tmp_path: Path) -> None:
    """Importing an id that is already stored is a problem of its row unless replace=True."""
    path = write(tmp_path / "s.csv", HEADER + "".join(GOOD_ROWS))
    store = MemoryStore()
    import_stations(path, store)
    with pytest.raises(StationImportError) as info:
        import_stations(path, store)
    assert [(p.row, p.field) for p in info.value.report.problems] == [
        (1, "id"),
        (2, "id"),
        (3, "id"),
    ]
    report = import_stations(path, store, replace=True)
    assert (report.added, report.updated) == (0, 3) and len(store) == 3


@pytest.mark.parametrize(
    ("doc", "pattern"),
    [
        ({"type": "Feature", "geometry": None, "properties": {}}, "got 'Feature'"),
        ([1, 2, 3], "got 'list'"),
        (
            {
                "type": "FeatureCollection",
                "features": [],
                "crs": {"properties": {"name": "EPSG:3857"}},
            },
            "RFC 7946",
        ),
    ],
)
def test_geojson_must_be_a_feature_collection(tmp_path: Path, doc: object, pattern: str) -> None:
    """GeoJSON that is not a FeatureCollection (or not WGS-84) is a FileFormatError."""
    path = write(tmp_path / "s.geojson", json.dumps(doc))
    store = MemoryStore()
    with pytest.raises(FileFormatError, match=pattern):
        import_stations(path, store)
    assert len(store) == 0


def test_geojson_non_point_features_are_row_problems(tmp_path: Path) -> None:
    """Features that are not Points are reported by row; nothing is imported."""
    good = stations_zh()[0].to_feature()
    line = {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": [[116, 39], [116.1, 39.1]]},
        "properties": {"kind": "warm_station", "name": "line"},
    }
    doc = {"type": "FeatureCollection", "features": [good, line, "junk"]}
    store = MemoryStore()
    with pytest.raises(StationImportError) as info:
        import_stations(write(tmp_path / "s.geojson", json.dumps(doc)), store)
    problems = info.value.report.problems
    assert [(p.row, p.field) for p in problems] == [(2, "geometry"), (3, "geometry")]
    assert "Expected a Point geometry, got 'LineString'" in problems[0].problem
    assert len(store) == 0


def test_unknown_suffix_and_missing_file(tmp_path: Path) -> None:
    """Unsupported suffixes and missing files are clear FileFormatErrors."""
    with pytest.raises(FileFormatError, match=r"\.csv, \.xlsx, \.geojson/\.json or \.gpkg"):
        read_stations(write(tmp_path / "s.pdf", "x"))
    with pytest.raises(FileFormatError, match=r"save it as \.xlsx"):
        read_stations(write(tmp_path / "s.xls", "x"))
    with pytest.raises(FileFormatError, match="cannot be opened"):
        read_stations(write(tmp_path / "s.xlsx", "not a workbook"))
    with pytest.raises(FileFormatError, match="not found"):
        read_stations(tmp_path / "nope.csv")


# --- coordinate systems ---------------------------------------------------------------------


def test_declared_gcj02_and_bd09_are_converted(tmp_path: Path) -> None:
    """Points declared GCJ-02 or BD-09 land back on their WGS-84 position (< 1 m)."""
    true_lon, true_lat = 116.4901, 39.9301
    glon, glat = wgs84_to_gcj02(true_lon, true_lat)
    blon, blat = gcj02_to_bd09(glon, glat)
    for crs, (lon, lat) in {"gcj02": (glon, glat), "bd09": (blon, blat)}.items():
        text = f"kind,name,lon,lat\nwarm_station,驿站,{float(lon):.9f},{float(lat):.9f}\n"
        s = read_stations(write(tmp_path / f"{crs}.csv", text), crs=crs).stations[0]
        assert GEOD.inv(true_lon, true_lat, s.lon, s.lat)[2] < 1.0


# --- export and round trips -----------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".geojson", ".gpkg"])
def test_round_trip_preserves_everything(tmp_path: Path, suffix: str) -> None:
    """Export then import gives the same stations, Chinese names and all (UTF-8)."""
    original = stations_zh()
    path = tmp_path / f"out{suffix}"
    assert export_stations(original, path) == 2
    report = read_stations(path)
    assert report.ok, str(report)
    back = {s.id: s for s in report.stations}
    for s in original:
        assert back[s.id] == s
    assert back["ws-甘露园"].names["ko"] == "간루위안"


def test_geojson_export_is_rfc7946(tmp_path: Path) -> None:
    """GeoJSON export: FeatureCollection, lon/lat order, no crs member, 7 decimals, UTF-8."""
    path = tmp_path / "out.geojson"
    export_stations(stations_zh(), path, precision=6)
    text = path.read_text(encoding="utf-8")
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert doc["features"][0]["geometry"]["coordinates"] == [116.490123, 39.930123]
    assert "甘露园南路暖心驿站" in text  # not \\u-escaped
    df = pyogrio.read_dataframe(path)
    assert df.crs.to_epsg() == 4326 and df.geometry.x.iloc[0] == pytest.approx(116.490123)


def test_csv_export_columns(tmp_path: Path) -> None:
    """CSV export has lon/lat columns, name_xx variants and ';'-joined amenities."""
    path = tmp_path / "out.csv"
    export_stations(stations_zh(), path)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows[0]["name_zh"] == "甘露园南路暖心驿站" and rows[0]["lon"] == "116.4901234"
    assert rows[0]["amenities"] == "drinking_water;microwave"


def test_store_export_and_gpkg_import(tmp_path: Path) -> None:
    """A store exports to a GeoPackage that imports into another store unchanged."""
    with GeoPackageStore(tmp_path / "a.gpkg") as a:
        a.add(stations_zh())
        export_stations(a, tmp_path / "copy.gpkg")
        with GeoPackageStore(tmp_path / "b.gpkg") as b:
            import_stations(tmp_path / "copy.gpkg", b)
            assert b.all() == a.all()


def test_export_refuses_to_overwrite_when_asked(tmp_path: Path) -> None:
    """overwrite=False keeps an existing file."""
    path = write(tmp_path / "out.csv", "keep me")
    with pytest.raises(FileExistsError):
        export_stations(stations_zh(), path, overwrite=False)
    assert path.read_text() == "keep me"


# --- OSM POI layers ---------------------------------------------------------------------------


def test_osm_pois_map_to_kinds_and_amenities() -> None:
    """OSM tags become kinds/amenities; facilities are skipped; messy hours are dropped."""
    import geopandas as gpd
    from shapely.geometry import Point, box

    from stations.osm import stations_from_pois

    hosts = gpd.GeoDataFrame(
        {
            "osm_type": ["node", "way", "node", "node"],
            "osm_id": [1, 2, 3, 4],
            "name": ["中国银行", None, "饮水点", "超市"],
            "name_en": ["Bank of China", None, None, None],
            "host_type": ["bank", "supermarket", None, "supermarket"],
            "amenity": ["bank", None, "drinking_water", None],
            "toilets": ["yes", None, None, "no"],
            "opening_hours": ["Mo-Fr 09:00-17:00", "8点到20点", None, "24/7"],
        },
        geometry=[
            Point(116.47, 39.99),
            box(116.471, 39.991, 116.472, 39.992),
            Point(116.473, 39.993),
            Point(116.474, 39.994),
        ],
        crs="EPSG:4326",
    )
    report = stations_from_pois(pois=hosts, layer="hosts")
    assert report.ok
    by_id = {s.id: s for s in report.stations}
    assert set(by_id) == {"osm-ws-n1", "osm-ws-w2", "osm-ws-n4"}  # drinking water skipped
    bank = by_id["osm-ws-n1"]
    assert bank.kind == "warm_station" and bank.host_type == "bank"
    assert bank.amenities == {"toilet"} and bank.names == {"en": "Bank of China"}
    unnamed = by_id["osm-ws-w2"]
    assert unnamed.opening_hours == "08:00-20:00" and unnamed.name.startswith("Warm station")
    assert report.changes == [(2, "opening_hours", "8点到20点", "08:00-20:00")]
    assert box(116.471, 39.991, 116.472, 39.992).contains(Point(unnamed.lon, unnamed.lat))
    assert [(w.row, w.field) for w in report.warnings if w.row] == []
    assert any("facilities, not stations" in w.problem for w in report.warnings)

    offices = hosts.iloc[[0]].assign(office=["company"])
    room = stations_from_pois(pois=offices, layer="offices").stations[0]
    assert room.kind == "nursing_room" and room.access == "employees"
    assert room.host_type == "enterprise"


def test_osm_layer_errors(helsinki_area: Area) -> None:
    """Unknown layers and layers without a station kind are refused with the valid choices."""
    from stations import StationValueError
    from stations.osm import stations_from_pois

    with pytest.raises(StationValueError, match=r"POI layer from hosts, .*; got 'cafes'"):
        stations_from_pois(helsinki_area, "cafes")
    with pytest.raises(StationValueError, match="Expected kind from warm_station"):
        stations_from_pois(helsinki_area, "residential_areas")
    with pytest.raises(StationValueError, match="got neither"):
        stations_from_pois(layer="hosts")
