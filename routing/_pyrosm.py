"""Read an ``.osm.pbf`` file: walk/drive graphs (pyrosm, unprojected), POI and base-map features
(:mod:`routing._pbf_features`, one pyosmium pass)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._errors import AreaBuildError
from ._pbf_features import read_features
from .network import count_edges

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import geopandas as gpd
    import networkx as nx

__all__ = ["read_pbf"]

logger = logging.getLogger(__name__)

_PYROSM_NETWORK = {"walk": "walking", "drive": "driving"}


def open_pbf(path: Path) -> Any:
    """A ``pyrosm.OSM`` reader, or :class:`AreaBuildError` if the file is not a readable PBF."""
    import pyrosm

    try:
        return pyrosm.OSM(str(path), keep_metadata=False, progress=False)
    except Exception as exc:  # pyrosm raises assorted types for corrupt input
        msg = f"Expected a readable OSM PBF file, got {path} which pyrosm cannot open: {exc}"
        raise AreaBuildError(msg) from exc


def read_network(osm: Any, network: str, path: Path) -> nx.MultiDiGraph:
    """The ``"walk"`` or ``"drive"`` graph of a PBF as an osmnx-style graph in EPSG:4326.

    Every connected piece is kept (``retain_all``): the caller reduces to the largest strongly
    connected component and reports what was dropped.
    """
    try:
        # get_graph is to_graph(*get_network(nodes=True)) without the table of every street
        # segment and node: the same graph for about half the peak memory on a city
        G = osm.get_graph(
            _PYROSM_NETWORK[network], graph_type="networkx", retain_all=True, osmnx_compatible=True
        )
    except Exception as exc:
        msg = f"Expected a readable OSM PBF file, got {path} which fails while reading roads: {exc}"
        raise AreaBuildError(msg) from exc
    if G is None or count_edges(G) == 0:
        msg = f"Expected roads for the {network} network in {path}, got none"
        raise AreaBuildError(msg)
    G.graph["crs"] = "EPSG:4326"
    for _, data in G.nodes(data=True):  # keep the node table light: drop pyrosm bookkeeping
        for key in ("visible", "version", "timestamp", "changeset", "geometry"):
            data.pop(key, None)
    for _, _, data in G.edges(data=True):
        for key in ("visible", "version", "timestamp", "tags"):
            data.pop(key, None)
    return G


def read_pbf(
    path: Path, *, on_step: Callable[[str], None] | None = None
) -> tuple[nx.MultiDiGraph, nx.MultiDiGraph, gpd.GeoDataFrame, Any, gpd.GeoDataFrame]:
    """Walk graph, drive graph (EPSG:4326, osmnx-style), POI and base-map features of a PBF.

    Returns
    -------
    tuple
        ``(walk, drive, features, bounds, basemap_features)``: ``features`` feed
        :func:`routing.pois.split_layers`, ``basemap_features``
        :func:`routing.basemap.split_basemap`; ``bounds`` is ``None`` (PBF extracts are cut
        cleanly by their producers).
    """
    step = on_step or (lambda _text: None)
    step("reading walk roads (pyrosm)")
    osm = open_pbf(path)
    walk = read_network(osm, "walk", path)
    step("reading drive roads (pyrosm)")
    drive = read_network(osm, "drive", path)
    step("reading POIs and base-map features (pyosmium)")
    features, basemap = read_features(path)
    return walk, drive, features, None, basemap
