"""Read an ``.osm.pbf`` file: walk/drive graphs (unprojected, :mod:`routing._pbf_roads`, one
pass), POI and base-map features (:mod:`routing._pbf_features`, one pyosmium pass).

pyrosm no longer reads anything here; it is the tests' reference for both readers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._pbf_features import read_features

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import geopandas as gpd
    import networkx as nx

__all__ = ["READING_ROADS", "read_pbf"]

logger = logging.getLogger(__name__)

#: The build stage of the one pass over a PBF that reads the walk and drive roads.
READING_ROADS = "reading walk and drive roads (one pass: highway ways, node locations)"


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
    from ._pbf_roads import read_networks

    step = on_step or (lambda _text: None)
    step(READING_ROADS)
    graphs = read_networks(path, on_step=step)
    step("reading POIs and base-map features (pyosmium)")
    features, basemap = read_features(path)
    return graphs["walk"], graphs["drive"], features, None, basemap
