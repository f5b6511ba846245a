"""The `warmheart stations` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from routing import Area
from stations import GeoPackageStore
from webmap.cli import main

CSV = (
    "id,kind,name,name_en,lon,lat,amenities,opening_hours\n"
    "a,warm_station,站一,One,24.941,60.170,microwave,Mo-Su 08:00-20:00\n"
    "b,nursing_room,室二,Two,24.945,60.172,fridge;sofa,\n"
)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_lists_commands(runner: CliRunner) -> None:
    """`warmheart stations --help` lists import, export, sample and info."""
    result = runner.invoke(main, ["stations", "--help"])
    assert result.exit_code == 0
    for command in ("import", "export", "sample", "info"):
        assert command in result.output


def test_import_export_round_trip(runner: CliRunner, tmp_path: Path) -> None:
    """Import a CSV into a store (--json), then export it as GeoJSON filtered by kind."""
    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    store = tmp_path / "s.gpkg"
    args = ["stations", "import", str(src), "--area", "x", "--store", str(store)]
    result = runner.invoke(main, [*args, "--no-check", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["added"] == 2 and data["store_total"] == 2 and data["ok"]
    out = tmp_path / "out.geojson"
    args = ["stations", "export", str(out), "--area", "x", "--store", str(store)]
    result = runner.invoke(main, [*args, "--kind", "nursing_room"])
    assert result.exit_code == 0 and "Wrote 1 stations" in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert [f["properties"]["name"] for f in doc["features"]] == ["室二"]


def test_bad_import_exits_1_and_writes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    """A file with a bad row exits 1 with the row-by-row report; the store stays empty."""
    src = tmp_path / "in.csv"
    src.write_text(CSV + "c,cafe,bad,,24.9,60.1,,\n", encoding="utf-8")
    store = tmp_path / "s.gpkg"
    args = ["stations", "import", str(src), "--area", "x", "--store", str(store), "--no-check"]
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["problems"][0]["row"] == 3 and report["problems"][0]["field"] == "kind"
    with GeoPackageStore(store) as s:
        assert len(s) == 0


def test_not_a_feature_collection_is_a_clean_error(runner: CliRunner, tmp_path: Path) -> None:
    """A GeoJSON file that is not a FeatureCollection gives a one-line error, exit 1."""
    src = tmp_path / "in.geojson"
    src.write_text('{"type": "Point", "coordinates": [1, 2]}', encoding="utf-8")
    args = ["stations", "import", str(src), "--area", "x", "--store", str(tmp_path / "s.gpkg")]
    result = runner.invoke(main, [*args, "--no-check"])
    assert result.exit_code == 1 and "Expected a GeoJSON FeatureCollection" in result.output


def test_sample_and_osm_import_on_helsinki(
    runner: CliRunner, helsinki_area: Area, tmp_path: Path
) -> None:
    """`stations sample` fills the store; `import osm:bus_stops` adds OSM stops; info counts."""
    store = ["--area", "helsinki", "--store", str(tmp_path / "h.gpkg"), "--json"]
    result = runner.invoke(main, ["stations", "sample", *store])
    assert result.exit_code == 0, result.output
    total = json.loads(result.stdout)["store_total"]
    again = runner.invoke(main, ["stations", "sample", *store])
    assert json.loads(again.stdout)["store_total"] == total  # replaced, not duplicated
    result = runner.invoke(main, ["stations", "import", "osm:bus_stops", *store])
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)["added"]
    info = runner.invoke(main, ["stations", "info", *store])
    data = json.loads(info.stdout)
    assert sum(data["counts"].values()) == total + added > total


def test_unknown_area_skips_check_but_refuses_osm(runner: CliRunner, tmp_path: Path) -> None:
    """An unbuilt area name skips the network check for files and is an error for osm:."""
    src = tmp_path / "in.csv"
    src.write_text(CSV, encoding="utf-8")
    store = ["--store", str(tmp_path / "s.gpkg")]
    result = runner.invoke(main, ["stations", "import", str(src), "--area", "nowhere", *store])
    assert result.exit_code == 0 and "skipping the road-network check" in result.output
    result = runner.invoke(main, ["stations", "import", "osm:hosts", "--area", "nowhere", *store])
    assert result.exit_code == 1 and "Expected a built area named 'nowhere'" in result.output


def test_export_without_store_says_how_to_make_one(runner: CliRunner, tmp_path: Path) -> None:
    """Exporting from a store that does not exist is an error that creates nothing."""
    store = tmp_path / "none.gpkg"
    args = ["stations", "export", str(tmp_path / "o.csv"), "--area", "x", "--store", str(store)]
    result = runner.invoke(main, args)
    assert result.exit_code == 1 and "stations sample --area x" in result.output
    assert not store.exists()
