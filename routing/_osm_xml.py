"""Read an OSM XML export (``.osm``, ``.osm.bz2``, ``.osm.gz``) into walk/drive graphs and POIs.

osmnx ``graph_from_xml`` turns *every* way of the file into edges: land use, buildings and
rivers included, which then breaks ``add_edge_travel_times`` on null speeds (osmnx #1270).
So the file is parsed here first, the ways of each network type are selected with the same
rules as osmnx's Overpass filters (:data:`NETWORK_FILTERS`), written to a temporary XML file
and only that is handed to ``graph_from_xml``. Exports from openstreetmap.org also contain
whole ways that run far past the export box; graphs and POIs are clipped to its ``<bounds>``.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import re
import tempfile
import xml.etree.ElementTree as ET
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from ._errors import AreaBuildError
from .lonlat import lonlat_problem

if TYPE_CHECKING:
    from collections.abc import Callable

    import geopandas as gpd
    import networkx as nx

__all__ = ["NETWORK_FILTERS", "read_xml", "way_in_network"]

logger = logging.getLogger(__name__)

# (key, regex) pairs: the way is excluded when the tag's value matches (Overpass ``!~``,
# a regex *search*), as in osmnx ``_overpass._get_network_filter`` (osmnx 2.x).
_ACCESS = (("access", "private"),)
NETWORK_FILTERS: dict[str, tuple[tuple[str, str], ...]] = {
    "walk": (
        ("area", "yes"),
        *_ACCESS,
        (
            "highway",
            "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
            "raceway|razed|rest_area|services",
        ),
        ("foot", "no"),
        ("service", "private"),
        ("sidewalk", "separate"),
        ("sidewalk:both", "separate"),
        ("sidewalk:left", "separate"),
        ("sidewalk:right", "separate"),
    ),
    "drive": (
        ("area", "yes"),
        *_ACCESS,
        (
            "highway",
            "abandoned|bridleway|bus_guideway|construction|corridor|cycleway|elevator|"
            "escalator|footway|no|path|pedestrian|planned|platform|proposed|raceway|razed|"
            "rest_area|service|services|steps|track",
        ),
        ("motor_vehicle", "no"),
        ("motorcar", "no"),
        ("service", "alley|driveway|emergency_access|parking|parking_aisle|private"),
    ),
}
_COMPILED = {
    net: tuple((key, re.compile(pattern)) for key, pattern in rules)
    for net, rules in NETWORK_FILTERS.items()
}


def way_in_network(tags: dict[str, str], network: str) -> bool:
    """Whether a way with ``tags`` belongs to the ``"walk"`` or ``"drive"`` network."""
    if network not in _COMPILED:
        msg = f"Expected network type 'walk' or 'drive', got {network!r}"
        raise ValueError(msg)
    if "highway" not in tags:
        return False
    return not any(key in tags and rx.search(tags[key]) for key, rx in _COMPILED[network])


@dataclass
class OsmXml:
    """The parts of an OSM XML file the graph build needs."""

    bounds: tuple[float, float, float, float] | None = None
    nodes: dict[int, tuple[str, str, list[tuple[str, str]]]] = field(default_factory=dict)
    ways: list[tuple[int, list[int], dict[str, str]]] = field(default_factory=list)


def _open(path: Path) -> IO[bytes]:
    name = path.name.lower()
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    if name.endswith(".gz"):
        return cast("IO[bytes]", gzip.open(path, "rb"))
    return path.open("rb")


def parse_osm_xml(path: Path) -> OsmXml:
    """Parse nodes, ways and ``<bounds>`` of an OSM XML file.

    Raises
    ------
    AreaBuildError
        The file is not (complete, well-formed) OSM XML.
    """
    out = OsmXml()
    root_tag: str | None = None
    try:
        with _open(path) as fh:
            # ElementTree resolves no external entities and the bundled expat (>= 2.4.1)
            # limits entity expansion, so a hostile file cannot read files or blow up memory.
            for event, elem in ET.iterparse(fh, events=("start", "end")):  # noqa: S314
                if event == "start":
                    if root_tag is None:
                        root_tag = elem.tag
                        if root_tag != "osm":
                            msg = f"Expected OSM XML (root <osm>), got <{root_tag}> in {path}"
                            raise AreaBuildError(msg)
                    continue
                tag = elem.tag
                if tag == "node":
                    tags = [(t.get("k", ""), t.get("v", "")) for t in elem.iter("tag")]
                    out.nodes[int(elem.get("id", "0"))] = (
                        elem.get("lat", ""),
                        elem.get("lon", ""),
                        tags,
                    )
                    elem.clear()
                elif tag == "way":
                    refs = [int(nd.get("ref", "0")) for nd in elem.iter("nd")]
                    way_tags = {t.get("k", ""): t.get("v", "") for t in elem.iter("tag")}
                    out.ways.append((int(elem.get("id", "0")), refs, way_tags))
                    elem.clear()
                elif tag == "relation":
                    elem.clear()
                elif tag == "bounds":
                    out.bounds = (
                        float(elem.get("minlon", "nan")),
                        float(elem.get("minlat", "nan")),
                        float(elem.get("maxlon", "nan")),
                        float(elem.get("maxlat", "nan")),
                    )
    except AreaBuildError:
        raise
    except ET.ParseError as exc:
        msg = f"Expected well-formed OSM XML, got {path} which is truncated or malformed: {exc}"
        raise AreaBuildError(msg) from exc
    except (EOFError, OSError, zlib.error, UnicodeDecodeError, ValueError) as exc:
        msg = f"Expected a readable OSM XML file, got {path} which cannot be read: {exc}"
        raise AreaBuildError(msg) from exc
    if root_tag is None:
        msg = f"Expected OSM XML, got an empty file: {path}"
        raise AreaBuildError(msg)
    if out.bounds is not None:
        x0, y0, x1, y1 = out.bounds
        if lonlat_problem(x0, y0) or lonlat_problem(x1, y1):  # a malformed <bounds>: ignored
            out.bounds = None
    return out


def _write_network_xml(data: OsmXml, network: str, target: Path) -> int:
    """Write the nodes and ways of one network to ``target``; return the number of ways."""
    root = ET.Element("osm", version="0.6", generator="warmheart")
    ways = [w for w in data.ways if way_in_network(w[2], network)]
    used: set[int] = set()
    for _, refs, _ in ways:
        used.update(refs)
    for node_id in sorted(used):
        if node_id not in data.nodes:
            continue
        lat, lon, node_tags = data.nodes[node_id]
        el = ET.SubElement(root, "node", id=str(node_id), lat=lat, lon=lon)
        for k, v in node_tags:
            ET.SubElement(el, "tag", k=k, v=v)
    written = 0
    for way_id, refs, tags in ways:
        present = [r for r in refs if r in data.nodes]
        if len(present) < 2:
            continue
        el = ET.SubElement(root, "way", id=str(way_id))
        for r in present:
            ET.SubElement(el, "nd", ref=str(r))
        for k, v in tags.items():
            ET.SubElement(el, "tag", k=k, v=v)
        written += 1
    ET.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)
    return written


def _graph(data: OsmXml, network: str, folder: Path, *, clip: bool) -> nx.MultiDiGraph:
    import osmnx as ox
    from shapely.geometry import box

    target = folder / f"{network}.osm"
    if _write_network_xml(data, network, target) == 0:
        msg = f"Expected roads for the {network} network, got no matching highway ways"
        raise AreaBuildError(msg)
    G = ox.graph_from_xml(target, bidirectional=network == "walk", simplify=False, retain_all=True)
    if clip and data.bounds is not None:
        try:
            G = ox.truncate.truncate_graph_polygon(G, box(*data.bounds), truncate_by_edge=False)
        except ValueError as exc:
            msg = f"Expected roads for the {network} network inside the export box, got none"
            raise AreaBuildError(msg) from exc
        if G.number_of_edges() == 0:
            msg = f"Expected roads for the {network} network inside the export box, got none"
            raise AreaBuildError(msg)
    G = ox.simplification.simplify_graph(G)
    G.graph["crs"] = "EPSG:4326"
    return G


def read_features_xml(path: Path) -> gpd.GeoDataFrame:
    """POI features of an XML file (osmnx ``features_from_xml``) in the common frame."""
    import geopandas as gpd
    import osmnx as ox

    from .overpass import features_to_frame
    from .pois import FEATURE_TAGS

    try:
        features = ox.features_from_xml(path, tags=FEATURE_TAGS)
    except ox._errors.InsufficientResponseError:
        return gpd.GeoDataFrame({"osm_type": [], "osm_id": []}, geometry=[], crs="EPSG:4326")
    return features_to_frame(features)


def read_xml(
    path: Path, *, clip: bool = True, on_step: Callable[[str], None] | None = None
) -> tuple[nx.MultiDiGraph, nx.MultiDiGraph, gpd.GeoDataFrame, Any]:
    """Walk graph, drive graph (EPSG:4326, simplified) and POI features of an XML export.

    Parameters
    ----------
    path
        ``.osm`` / ``.osm.bz2`` / ``.osm.gz`` file.
    clip
        Clip graphs (and, through the returned bounds, POIs) to the file's ``<bounds>``.
    on_step
        Called with a short text after each stage.

    Returns
    -------
    tuple
        ``(walk, drive, features, bounds)``; ``bounds`` is the export box when clipping.
    """
    step = on_step or (lambda _text: None)
    step("reading roads (XML)")
    data = parse_osm_xml(path)
    if not data.ways:
        msg = f"Expected roads in {path}, got no ways at all"
        raise AreaBuildError(msg)
    with tempfile.TemporaryDirectory(prefix="warmheart-xml-") as tmp:
        walk = _graph(data, "walk", Path(tmp), clip=clip)
        drive = _graph(data, "drive", Path(tmp), clip=clip)
    step("reading POIs (XML)")
    features = read_features_xml(path)
    return walk, drive, features, data.bounds if clip else None
