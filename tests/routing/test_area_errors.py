"""Bad sources give clear errors naming the problem and leave no cache entry behind."""

from __future__ import annotations

import bz2
import time
from pathlib import Path

import pytest

from routing import AreaBuildError, OfflineError, build_area, load_area
from routing.build import resolve_source
from routing.overpass import check_overpass_reachable, parse_bbox
from routing.presets import helsinki_pbf
from tests.conftest import TEST_DATA

TINY = TEST_DATA / "tiny_beijing.osm"

ROAD_FREE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6">
 <bounds minlat="39.90" minlon="116.40" maxlat="39.91" maxlon="116.41"/>
 <node id="1" lat="39.901" lon="116.401"/><node id="2" lat="39.901" lon="116.402"/>
 <node id="3" lat="39.902" lon="116.402"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
  <tag k="landuse" v="residential"/></way>
</osm>
"""
OUTSIDE_XML = ROAD_FREE_XML.replace('k="landuse" v="residential"', 'k="highway" v="primary"')
OUTSIDE_XML = OUTSIDE_XML.replace('maxlat="39.91"', 'maxlat="39.9005"').replace(
    'maxlon="116.41"', 'maxlon="116.4005"'
)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty WARMHEART_HOME."""
    folder = tmp_path / "home"
    monkeypatch.setenv("WARMHEART_HOME", str(folder))
    return folder


def _entries(home: Path) -> list[Path]:
    areas = home / "areas"
    return sorted(p for p in areas.iterdir() if p.suffix != ".lock") if areas.is_dir() else []


def _write(path: Path, data: bytes | str) -> Path:
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


@pytest.mark.parametrize("name", ["missing.osm.pbf", "missing.osm", "missing.osm.bz2"])
def test_missing_file(home: Path, tmp_path: Path, name: str) -> None:
    """A missing file is named in the error; nothing is cached."""
    with pytest.raises(AreaBuildError, match=r"does not exist"):
        load_area(tmp_path / name)
    assert _entries(home) == []


def test_truncated_pbf(home: Path, tmp_path: Path) -> None:
    """A PBF cut in half is reported as unreadable; nothing is cached."""
    data = helsinki_pbf().read_bytes()
    path = _write(tmp_path / "cut.osm.pbf", data[: len(data) // 2])
    with pytest.raises(AreaBuildError, match=r"Expected a readable OSM PBF file, got .*cut"):
        load_area(path)
    assert _entries(home) == []


@pytest.mark.parametrize("content", [b"", b"not a pbf at all" * 100])
def test_unreadable_pbf(home: Path, tmp_path: Path, content: bytes) -> None:
    """Empty or garbage PBF files are reported as unreadable."""
    path = _write(tmp_path / "bad.osm.pbf", content)
    with pytest.raises(AreaBuildError, match=r"Expected a readable OSM PBF file"):
        build_area(path)
    assert _entries(home) == []


def test_truncated_xml(home: Path, tmp_path: Path) -> None:
    """An XML export cut mid-way is reported as truncated or malformed."""
    text = TINY.read_text(encoding="utf-8")
    path = _write(tmp_path / "cut.osm", text[: len(text) // 2])
    with pytest.raises(AreaBuildError, match=r"truncated or malformed"):
        load_area(path)
    assert _entries(home) == []


def test_truncated_bz2(home: Path, tmp_path: Path) -> None:
    """A cut .osm.bz2 is reported as unreadable, not as a bz2 traceback."""
    packed = bz2.compress(TINY.read_bytes())
    path = _write(tmp_path / "cut.osm.bz2", packed[: len(packed) // 2])
    with pytest.raises(AreaBuildError, match=r"Expected (a readable|well-formed) OSM XML"):
        load_area(path)
    assert _entries(home) == []


@pytest.mark.parametrize(
    ("content", "match"),
    [
        ("", "empty file|truncated or malformed"),
        ("<html><body>hi</body></html>", r"root <osm>.*got <html>"),
        ("\x00\x01binary", "truncated or malformed"),
    ],
)
def test_not_osm_xml(home: Path, tmp_path: Path, content: str, match: str) -> None:
    """Files that are not OSM XML get an error saying what was found."""
    path = _write(tmp_path / "x.osm", content)
    with pytest.raises(AreaBuildError, match=match):
        build_area(path)
    assert _entries(home) == []


def test_area_without_roads(home: Path, tmp_path: Path) -> None:
    """An export with only land use (no highway ways) says it has no roads."""
    path = _write(tmp_path / "noroads.osm", ROAD_FREE_XML)
    with pytest.raises(AreaBuildError, match=r"Expected roads for the walk network"):
        load_area(path)
    assert _entries(home) == []


def test_roads_only_outside_the_box(home: Path, tmp_path: Path) -> None:
    """Roads that all lie outside the export box leave no roads after clipping."""
    path = _write(tmp_path / "outside.osm", OUTSIDE_XML)
    with pytest.raises(AreaBuildError, match=r"inside the export box"):
        load_area(path)
    assert _entries(home) == []


def test_unknown_suffix(home: Path, tmp_path: Path) -> None:
    """An existing file with an unknown suffix is rejected by name."""
    path = _write(tmp_path / "city.geojson", "{}")
    with pytest.raises(AreaBuildError, match=r"unknown suffix.*city.geojson|city.geojson.*unknown"):
        load_area(path)


def test_directory_is_not_a_source(home: Path, tmp_path: Path) -> None:
    """A directory is not an OSM file."""
    folder = tmp_path / "dir.osm"
    folder.mkdir()
    with pytest.raises(AreaBuildError, match=r"not a regular file"):
        build_area(folder)


@pytest.mark.parametrize(
    ("bbox", "match"),
    [
        (
            "38.85,121.45,38.92,121.60",
            r"min_lat \(latitude\) in \[-90, 90\], got 121.45 \(lat/lon swapped",
        ),
        ("121.45,38.85,121.60,95", r"max_lat \(latitude\) in \[-90, 90\], got 95"),
        ("200,38.85,201,38.92", r"min_lon \(longitude\) in \[-180, 180\], got 200"),
        ("121.60,38.85,121.45,38.92", r"min_lon < max_lon"),
        ("121.45,38.92,121.60,38.85", r"min_lat < max_lat"),
        ("100,20,110,30", r"at most 1.0 square degrees"),
        ("1,2,3", r"4 finite numbers"),
        ("a,b,c,d", r"numbers"),
    ],
)
def test_bad_bbox(bbox: str, match: str) -> None:
    """Swapped, out-of-range, inverted, huge or malformed boxes are rejected."""
    with pytest.raises(AreaBuildError, match=match):
        parse_bbox(bbox)


def test_bad_bbox_through_load_area(home: Path) -> None:
    """A swapped bbox string given as a source fails before any network access."""
    with pytest.raises(AreaBuildError, match=r"lat/lon swapped"):
        load_area("38.85,121.45,38.92,121.60")


def test_good_bbox_and_place_resolve() -> None:
    """Valid boxes and place names resolve to Overpass sources."""
    src = resolve_source("121.45, 38.85, 121.60, 38.92")
    assert (src.kind, src.bbox) == ("bbox", (121.45, 38.85, 121.60, 38.92))
    src = resolve_source("Ganjingzi District, Dalian, China")
    assert (src.kind, src.query) == ("place", "Ganjingzi District, Dalian, China")
    assert resolve_source("dalian-hightech").bbox == (121.45, 38.85, 121.60, 38.92)
    assert resolve_source("helsinki").kind == "pbf"
    assert resolve_source("Washington,D.C.").kind == "place"  # a dot is not a file suffix


def test_missing_file_with_other_suffix(home: Path) -> None:
    """A missing file with a non-OSM suffix is reported as missing, not sent to Overpass."""
    with pytest.raises(AreaBuildError, match=r"'city.geojson' which does not exist"):
        load_area("city.geojson")


def test_offline_fails_fast(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreachable Overpass endpoint gives OfflineError within seconds, suggesting a file."""
    import osmnx as ox

    monkeypatch.setattr(ox.settings, "overpass_url", "https://overpass.invalid/api")
    start = time.perf_counter()
    with pytest.raises(OfflineError, match=r"No network.*\.osm\.pbf"):
        load_area("121.45,38.85,121.60,38.92")
    assert time.perf_counter() - start < 15
    assert _entries(home) == []


def test_probe_refused_port_is_offline() -> None:
    """A closed local port counts as offline too."""
    with pytest.raises(OfflineError, match="No network"):
        check_overpass_reachable("http://127.0.0.1:9/api", timeout=1.0)


def test_unknown_network_type() -> None:
    """Asking for a network other than walk/drive is a clear error."""
    import networkx as nx

    from routing import AreaSettings
    from routing.speeds import add_travel_times

    with pytest.raises(ValueError, match=r"Expected network 'walk' or 'drive', got 'bike'"):
        add_travel_times(nx.MultiDiGraph(), network="bike", settings=AreaSettings())


def test_bad_name(home: Path) -> None:
    """Area names must be simple file-safe words."""
    with pytest.raises(ValueError, match=r"Expected an area name"):
        build_area(TINY, name="../evil")
    assert _entries(home) == []
