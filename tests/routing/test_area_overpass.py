"""The Overpass code path, with osmnx's download functions replaced by local data."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import networkx as nx
import osmnx as ox
import pytest

from routing import AreaBuildError, build_area, load_area
from routing import overpass as overpass_module
from routing._osm_xml import _graph, parse_osm_xml, read_features_xml
from tests.conftest import TEST_DATA

TINY = TEST_DATA / "tiny_beijing.osm"


@pytest.fixture
def fake_overpass(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[str, Any]]:
    """Serve osmnx graph/features requests from the tiny fixture; record the calls."""
    monkeypatch.setenv("WARMHEART_HOME", str(tmp_path / "home"))
    calls: list[tuple[str, Any]] = []
    data = parse_osm_xml(TINY)

    def graph(network_type: str) -> nx.MultiDiGraph:
        with tempfile.TemporaryDirectory() as tmp:
            return _graph(data, network_type, Path(tmp), clip=True)

    def graph_from_bbox(bbox: Any, *, network_type: str, retain_all: bool) -> nx.MultiDiGraph:
        calls.append(("graph_from_bbox", (tuple(bbox), network_type, retain_all)))
        return graph(network_type)

    def graph_from_place(query: str, *, network_type: str, retain_all: bool) -> nx.MultiDiGraph:
        calls.append(("graph_from_place", (query, network_type, retain_all)))
        return graph(network_type)

    def features(where: Any, *, tags: dict[str, Any]) -> Any:
        calls.append(("features", where))
        return ox.features_from_xml(TINY, tags=tags)

    monkeypatch.setattr(overpass_module, "check_overpass_reachable", lambda: None)
    monkeypatch.setattr(ox, "graph_from_bbox", graph_from_bbox)
    monkeypatch.setattr(ox, "graph_from_place", graph_from_place)
    monkeypatch.setattr(ox, "features_from_bbox", features)
    monkeypatch.setattr(ox, "features_from_place", features)
    return calls


def test_bbox_source_calls_osmnx_in_left_bottom_right_top_order(
    fake_overpass: list[tuple[str, Any]],
) -> None:
    """A bbox source asks osmnx for both networks with (left, bottom, right, top)."""
    area = build_area("116.40,39.90,116.41,39.91")
    box = (116.40, 39.90, 116.41, 39.91)
    assert ("graph_from_bbox", (box, "walk", True)) in fake_overpass
    assert ("graph_from_bbox", (box, "drive", True)) in fake_overpass
    assert ("features", box) in fake_overpass
    assert area.report["source_kind"] == "bbox"
    assert nx.is_strongly_connected(area.drive)
    assert "中国银行" in set(area.pois["hosts"]["name"])


def test_place_source_and_cache(fake_overpass: list[tuple[str, Any]]) -> None:
    """A place name goes to graph_from_place; the second load is served from the cache."""
    first = load_area("Dongcheng District, Beijing")
    n_calls = len(fake_overpass)
    second = load_area("dongcheng district, beijing ")  # same query, normalised
    assert len(fake_overpass) == n_calls
    assert ("graph_from_place", ("Dongcheng District, Beijing", "walk", True)) in fake_overpass
    assert second.walk.number_of_nodes() == first.walk.number_of_nodes()
    assert first.name == "dongcheng-district"


def test_place_not_found_is_a_build_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Geocoding failures surface as AreaBuildError naming the place."""
    monkeypatch.setenv("WARMHEART_HOME", str(tmp_path))
    monkeypatch.setattr(overpass_module, "check_overpass_reachable", lambda: None)

    def not_found(query: str, **kwargs: Any) -> None:
        raise ox._errors.InsufficientResponseError("Nominatim geocoder returned 0 results")

    monkeypatch.setattr(ox, "graph_from_place", not_found)
    with pytest.raises(AreaBuildError, match=r"Atlantis"):
        build_area("Atlantis")


def test_read_features_xml_common_frame() -> None:
    """osmnx features become the common osm_type/osm_id frame."""
    frame = read_features_xml(TINY)
    assert {"osm_type", "osm_id", "geometry", "amenity"} <= set(frame.columns)
    assert set(frame["osm_type"]) <= {"node", "way", "relation"}
