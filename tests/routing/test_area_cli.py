"""``warmheart area build`` / ``warmheart area info``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import TEST_DATA
from webmap.cli import main

TINY = TEST_DATA / "tiny_beijing.osm"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner with its own WARMHEART_HOME."""
    monkeypatch.setenv("WARMHEART_HOME", str(tmp_path / "home"))
    return CliRunner()


@pytest.mark.parametrize("args", [["area"], ["area", "build"], ["area", "info"]])
def test_help(runner: CliRunner, args: list[str]) -> None:
    """Every area command has --help."""
    result = runner.invoke(main, [*args, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_build_then_info_json(runner: CliRunner) -> None:
    """build --name registers the area; info --json reports it with Chinese names intact."""
    built = runner.invoke(main, ["area", "build", str(TINY), "--name", "tiny", "--json"])
    assert built.exit_code == 0, built.output
    summary = json.loads(built.stdout)
    assert summary["name"] == "tiny"
    assert summary["pois"]["hosts"] == 3
    info = runner.invoke(main, ["area", "info", "tiny", "--json"])
    assert info.exit_code == 0, info.output
    data = json.loads(info.stdout)
    assert data["graphs"]["walk"]["nodes"] == summary["graphs"]["walk"]["nodes"]
    assert data["graphs"]["drive"]["dropped_nodes"] == 2
    assert data["crs"] == "EPSG:32650"
    assert Path(data["cache_path"]).is_dir() and data["cache_bytes"] > 0
    assert len(data["bounds"]) == 4


def test_info_text(runner: CliRunner) -> None:
    """The plain info output lists graphs, POIs and the cache file."""
    runner.invoke(main, ["area", "build", str(TINY), "--name", "tiny", "--no-progress"])
    result = runner.invoke(main, ["area", "info", "tiny"])
    assert result.exit_code == 0
    for word in ("walk", "drive", "hosts 3", "cache", "EPSG:32650"):
        assert word in result.output


def test_build_with_settings_file(runner: CliRunner, tmp_path: Path) -> None:
    """--settings reads a TOML file and the area records it."""
    toml = tmp_path / "s.toml"
    toml.write_text("walk_speed_kmh = 3.6\n", encoding="utf-8")
    result = runner.invoke(main, ["area", "build", str(TINY), "--settings", str(toml), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["settings"]["walk_speed_kmh"] == 3.6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["area", "build", "nope.osm.pbf"], "does not exist"),
        (["area", "build", "38.85,121.45,38.92,121.60"], "lat/lon swapped"),
        (["area", "info", "never-built"], "Expected a registered area name"),
        (["area", "build", str(TINY), "--name", "bad name!"], "Expected an area name"),
    ],
)
def test_errors_exit_nonzero_without_traceback(
    runner: CliRunner, args: list[str], message: str
) -> None:
    """Bad input prints one clear message, exits 1 and shows no traceback."""
    result = runner.invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_settings_file(runner: CliRunner, tmp_path: Path) -> None:
    """A settings file with an unknown key is reported."""
    toml = tmp_path / "s.toml"
    toml.write_text("speed = 3\n", encoding="utf-8")
    result = runner.invoke(main, ["area", "build", str(TINY), "--settings", str(toml)])
    assert result.exit_code == 1
    assert "unknown ['speed']" in result.output


def test_unexpected_failure_is_one_line(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unforeseen exception still exits 1 with one message and no traceback."""

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("geometry")

    monkeypatch.setattr("routing.build.build_area", broken)
    result = runner.invoke(main, ["area", "build", str(TINY)])
    assert result.exit_code == 1
    assert "unexpected KeyError" in result.output
    assert "Traceback" not in result.output


def test_list(runner: CliRunner) -> None:
    """area list shows registered areas (empty at first)."""
    empty = runner.invoke(main, ["area", "list"])
    assert empty.exit_code == 0 and "No areas" in empty.output
    runner.invoke(main, ["area", "build", str(TINY), "--name", "tiny", "--no-progress"])
    listed = runner.invoke(main, ["area", "list", "--json"])
    assert listed.exit_code == 0
    (row,) = json.loads(listed.stdout)
    assert row["name"] == "tiny" and row["cache_bytes"] > 0
    assert row["source"].endswith("tiny_beijing.osm")
