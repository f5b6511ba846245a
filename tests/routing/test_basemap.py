"""Base-map layers against the raw OSM XML of two Chinese extracts (read here with ElementTree)."""

from __future__ import annotations

import bz2
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from routing.basemap import BASEMAP_LAYERS, basemap_layers, read_basemap
from tests.conftest import shared_osm


def _raw_named_roads(path: Path) -> dict[str, str | None]:
    """``name -> name:en`` of every highway way in the file (the independent reference)."""
    out: dict[str, str | None] = {}
    with bz2.open(path) as fh:
        for _, elem in ET.iterparse(fh):
            if elem.tag == "way":
                tags = {t.get("k"): t.get("v") for t in elem.findall("tag")}
                if "highway" in tags and tags.get("name") and tags.get("area") != "yes":
                    out[tags["name"]] = tags.get("name:en") or out.get(tags["name"])
                elem.clear()
    return out


@pytest.mark.parametrize(
    "filename", ["beijing_chaoyang_wangjing.osm.bz2", "shanghai_baoshan_shu.osm.bz2"]
)
def test_roads_carry_every_name_and_translation(filename: str) -> None:
    """Every named highway of the export is a named road, with its name:en where tagged."""
    path = shared_osm(filename)
    layers = read_basemap("xml", path=path)
    roads = layers["roads"]
    raw = _raw_named_roads(path)
    assert raw, "the extract has named streets"
    ours = dict(zip(roads["name"], roads["name_en"], strict=True))
    missing = set(raw) - set(ours)
    assert not missing, sorted(missing)[:5]
    for name, english in raw.items():
        if english:
            assert english in set(roads.loc[roads["name"] == name, "name_en"]), name


def test_layers_have_their_shapes(helsinki_area) -> None:
    """Roads are lines, water lines or polygons, parks polygons, landmarks named points."""
    layers = basemap_layers(helsinki_area)
    assert set(layers) == set(BASEMAP_LAYERS)
    assert set(layers["roads"].geom_type) <= {"LineString", "MultiLineString"}
    assert set(layers["parks"].geom_type) <= {"Polygon", "MultiPolygon"}
    assert set(layers["landmarks"].geom_type) == {"Point"}
    assert layers["landmarks"]["name"].notna().all()
    assert len(layers["roads"]) > 1000 and len(layers["parks"]) > 10
    assert layers["roads"].crs.to_epsg() == 4326


def test_old_areas_without_layers_still_load(helsinki_area) -> None:
    """An Area pickled before the layers existed has no attribute: empty layers, no error."""
    import copy

    old = copy.copy(helsinki_area)
    del old.__dict__["basemap"]
    layers = basemap_layers(old)
    assert all(len(frame) == 0 for frame in layers.values())


def test_a_broken_source_gives_empty_layers(tmp_path: Path) -> None:
    """A base map is a nicety: an unreadable source yields empty layers, not a failed build."""
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><way", encoding="utf-8")
    layers = read_basemap("xml", path=bad)
    assert all(len(frame) == 0 for frame in layers.values())
