"""Real points of interest read straight from an OSM XML extract, independent of warmheart.

Tests and benchmarks of the import checks need real places as an independent reference: this
reads the raw ``.osm`` / ``.osm.bz2`` file with the standard library (no osmnx, no warmheart
code) and returns every node tagged ``amenity``/``shop``/``office``/``tourism``/``leisure``/
``healthcare``/``craft``/``public_transport`` and every closed way with one of the first five
(at the mean of its nodes). Data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import bz2
import gzip
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import IO

#: Tag keys that make a node a POI, in order of precedence (the first one present is its group).
POI_KEYS = (
    "amenity",
    "shop",
    "office",
    "tourism",
    "leisure",
    "healthcare",
    "craft",
    "public_transport",
)
#: Groups of :attr:`OsmPoi.group` that are places a station could be hosted in (not stops).
PLACE_GROUPS = ("amenity", "shop", "other", "way_amenity", "way_other")


@dataclass(frozen=True)
class OsmPoi:
    """One OSM POI: where (WGS-84, as mapped), what (tags) and which group it counts in."""

    osm_type: str
    osm_id: int
    lon: float
    lat: float
    tags: dict[str, str]
    group: str

    @property
    def name(self) -> str | None:
        """``name`` tag, else ``name:zh``."""
        return self.tags.get("name") or self.tags.get("name:zh")


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".bz2":
        return bz2.open(path)
    if path.suffix == ".gz":
        return gzip.open(path)
    return path.open("rb")


def _group(key: str, *, way: bool) -> str:
    base = key if key in ("amenity", "shop", "public_transport") else "other"
    return f"way_{'amenity' if key == 'amenity' else 'other'}" if way else base


def read_osm_pois(path: Path) -> list[OsmPoi]:
    """Every POI node and POI way (by :data:`POI_KEYS`) of an OSM XML file, in file order."""
    nodes: dict[str, tuple[float, float]] = {}
    out: list[OsmPoi] = []
    with _open(path) as fh:
        for _, el in ET.iterparse(fh):
            if el.tag == "node":
                lon, lat = float(el.get("lon", "nan")), float(el.get("lat", "nan"))
                nodes[el.get("id", "")] = (lon, lat)
                tags = {t.get("k", ""): t.get("v", "") for t in el.findall("tag")}
                key = next((k for k in POI_KEYS if k in tags), None)
                if key is not None:
                    group = _group(key, way=False)
                    out.append(OsmPoi("node", int(el.get("id", "0")), lon, lat, tags, group))
                el.clear()
            elif el.tag == "way":
                tags = {t.get("k", ""): t.get("v", "") for t in el.findall("tag")}
                key = next((k for k in POI_KEYS[:5] if k in tags), None)
                refs = [n.get("ref", "") for n in el.findall("nd")]
                pts = [nodes[r] for r in refs[:-1] if r in nodes]
                if key is not None and tags.get("amenity") != "parking" and pts:
                    lon = sum(p[0] for p in pts) / len(pts)
                    lat = sum(p[1] for p in pts) / len(pts)
                    group = _group(key, way=True)
                    out.append(OsmPoi("way", int(el.get("id", "0")), lon, lat, tags, group))
                el.clear()
            elif el.tag == "relation":
                el.clear()
    return out


def inside(pois: list[OsmPoi], bounds: tuple[float, float, float, float]) -> list[OsmPoi]:
    """The POIs within ``(min_lon, min_lat, max_lon, max_lat)``, duplicates (same spot) once."""
    x0, y0, x1, y1 = bounds
    seen: set[tuple[float, float]] = set()
    kept = []
    for p in pois:
        spot = (round(p.lon, 6), round(p.lat, 6))
        if x0 <= p.lon <= x1 and y0 <= p.lat <= y1 and spot not in seen:
            seen.add(spot)
            kept.append(p)
    return kept
