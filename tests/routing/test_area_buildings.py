"""The ``buildings`` POI layer: every mapped building outline, whatever its use."""

from __future__ import annotations

import bz2
import warnings
import xml.etree.ElementTree as ET

from routing import load_area
from tests.conftest import shared_osm


def test_buildings_layer_holds_every_building_outline() -> None:
    """Zhongguancun: the layer has the extract's building ways (raw XML as the reference)."""
    path = shared_osm("beijing_haidian_zhongguancun.osm.bz2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        area = load_area(str(path))
    nodes: dict[str, tuple[float, float]] = {}
    raw: dict[int, str] = {}
    x0, y0, x1, y1 = area.bounds
    with bz2.open(path) as fh:
        for _, el in ET.iterparse(fh):
            if el.tag == "node":
                nodes[el.get("id", "")] = (float(el.get("lon", 0)), float(el.get("lat", 0)))
            elif el.tag == "way":
                tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
                refs = [n.get("ref", "") for n in el.findall("nd")]
                pts = [nodes[r] for r in refs[:-1] if r in nodes]
                closed = len(refs) >= 4 and refs[0] == refs[-1]
                if tags.get("building", "no") != "no" and closed and pts:
                    lon = sum(p[0] for p in pts) / len(pts)
                    lat = sum(p[1] for p in pts) / len(pts)
                    if x0 <= lon <= x1 and y0 <= lat <= y1:
                        raw[int(el.get("id", 0))] = str(tags["building"])
                el.clear()
    layer = area.pois["buildings"]
    ways = layer[layer["osm_type"] == "way"]
    assert set(layer.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
    found = set(ways["osm_id"]) & set(raw)
    assert len(found) >= 0.95 * len(raw)
    kinds = set(ways["building"])
    assert len(kinds) > 3 and not kinds <= {"residential", "apartments", "house", "dormitory"}
    assert len(layer) > len(area.pois["residential_buildings"])
