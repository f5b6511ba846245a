"""Which column is which field, and values written in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stations import FileFormatError
from stations._columns import map_columns, parse_column_map
from stations._words import amenities_from_text, choice_from_text
from stations.io import read_stations


def test_chinese_and_english_headers_are_recognised() -> None:
    """The issue's headers and common variants land on their fields; the rest go to notes."""
    headers = ["序号", "驿站名称", "地址", "经度", "纬度", "开放时间", "服务设施", "类型"]
    found = map_columns([*headers, "联系电话", "所属街道", "name:en", "备注"]).report
    assert found == {
        "序号": "id",
        "驿站名称": "name",
        "地址": "address",
        "经度": "lon",
        "纬度": "lat",
        "开放时间": "opening_hours",
        "服务设施": "amenities",
        "类型": "kind",
        "联系电话": "contact",
        "所属街道": "notes",
        "name:en": "name_en",
        "备注": "notes",
    }
    other = map_columns(["站点名称", "Longitude (GCJ-02)", "LAT", "营业时间", "设施", "编号"])
    assert other.report == {
        "站点名称": "name",
        "Longitude (GCJ-02)": "lon",
        "LAT": "lat",
        "营业时间": "opening_hours",
        "设施": "amenities",
        "编号": "id",
    }


def test_two_columns_for_one_field_is_a_file_problem() -> None:
    """名称 and 驿站名称 both mean name: say so and how to choose."""
    problems = map_columns(["名称", "驿站名称", "经度", "纬度"]).problems
    assert len(problems) == 1 and problems[0].field == "name"
    assert "--columns '驿站名称=-'" in problems[0].problem


def test_explicit_maps_from_text_and_files(tmp_path: Path) -> None:
    """--columns pairs and .toml/.json/.txt files give the same map; bad ones say why."""
    want = {"站点": "name", "X坐标": "lon", "Y坐标": "lat", "序号": "-"}
    assert parse_column_map("站点=name, X坐标=lon，Y坐标=lat,序号=-") == want
    toml = tmp_path / "m.toml"
    toml.write_text(
        '[columns]\n"站点" = "name"\n"X坐标" = "lon"\n"Y坐标" = "lat"\n"序号" = "-"\n',
        encoding="utf-8",
    )
    js = tmp_path / "m.json"
    js.write_text(json.dumps(want, ensure_ascii=False), encoding="utf-8")
    txt = tmp_path / "m.txt"
    txt.write_text("站点=name\nX坐标=lon\nY坐标=lat\n序号=-\n", encoding="utf-8")
    assert (
        parse_column_map(str(toml))
        == parse_column_map(str(js))
        == parse_column_map(str(txt))
        == want
    )
    with pytest.raises(FileFormatError, match="Expected HEADER=FIELD pairs"):
        parse_column_map("站点:name")
    with pytest.raises(FileFormatError, match="Expected a station field for column '站点'"):
        parse_column_map("站点=title")
    m = map_columns(["站点", "X坐标", "Y坐标", "序号"], explicit=want)
    assert m.report == {"站点": "name", "X坐标": "lon", "Y坐标": "lat", "序号": "-"}
    missing = map_columns(["站点"], explicit={"门店": "name"})
    assert "Expected a column '门店' (named in --columns)" in missing.problems[0].problem


def test_import_with_a_column_map_and_one_kind(tmp_path: Path) -> None:
    """Unrecognised headers import through --columns; --kind fills the kind; ids are derived
    and reported."""
    path = tmp_path / "s.csv"
    path.write_text("站点,X坐标,Y坐标\n母婴室甲,121.52,38.88\n", encoding="utf-8")
    refused = read_stations(path)
    assert "Expected columns for name, lon, lat" in refused.problems[0].problem
    report = read_stations(path, columns="站点=name,X坐标=lon,Y坐标=lat", kind="nursing_room")
    assert report.ok, report
    s = report.stations[0]
    assert (s.name, s.kind, s.lon, s.lat) == ("母婴室甲", "nursing_room", 121.52, 38.88)
    assert report.derived_ids == [(1, s.id)] and s.id.startswith("nr-")
    assert "1 row had no id" in str(report)
    with pytest.raises(FileFormatError, match=r"Expected a column map file at 'nope\.toml'"):
        read_stations(path, columns="nope.toml")
    path.write_text("站点,X坐标,Y坐标\n", encoding="utf-8")
    empty = read_stations(path, columns="站点=name,X坐标=lon,Y坐标=lat", kind="nursing_room")
    assert [p.problem for p in empty.problems] == [
        "Expected station rows under the header of s.csv, got none"
    ]


@pytest.mark.parametrize(
    ("cell", "amenities", "unknown"),
    [
        ("微波炉/热饭", ["microwave"], []),
        ("饮水、热水", ["drinking_water"], []),
        ("休息，座椅", ["rest_seats"], []),
        ("卫生间;厕所", ["toilet"], []),
        ("手机充电", ["phone_charging"], []),
        ("医药箱 急救", ["first_aid_kit"], []),
        ("针线包", ["sewing_kit"], []),
        ("雨具|避雨", ["shelter"], []),
        ("冰箱、消毒柜、沙发、母婴", ["fridge", "steriliser", "sofa", "private_room"], []),
        ("microwave;toilet", ["microwave", "toilet"], []),
        ("无卫生间、空调、免费WiFi", [], ["无卫生间", "空调", "免费WiFi"]),
        ("restroom, first aid", ["toilet", "first_aid_kit"], []),
    ],
)
def test_amenity_words(cell: str, amenities: list[str], unknown: list[str]) -> None:
    """Every word of the issue maps to the vocabulary; unknown and negated words are returned."""
    assert amenities_from_text(cell) == (amenities, unknown)


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("kind", "暖心驿站", "warm_station"),
        ("kind", "母婴室", "nursing_room"),
        ("kind", "班车站", "shuttle_stop"),
        ("host_type", "中国工商银行", "bank"),
        ("host_type", "链家地产门店", "estate_agent"),
        ("access", "本单位职工", "employees"),
        ("certification", "市级示范", "city_model"),
        ("certification", "省级", "provincial"),
        ("kind", "咖啡馆", "咖啡馆"),  # unknown: unchanged, for validation to reject
    ],
)
def test_one_word_fields(field: str, text: str, value: str) -> None:
    """Kinds, hosts, access and ratings in words become vocabulary names (or stay as given)."""
    assert choice_from_text(field, text) == value
