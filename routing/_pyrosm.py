"""Read an ``.osm.pbf`` file: walk/drive graphs (unprojected, :mod:`routing._pbf_roads`, one
pass), POI and base-map features (:mod:`routing._pbf_features`, one pyosmium pass).

pyrosm no longer reads anything here; it is the tests' reference for both readers."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ._pbf_features import read_features

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import geopandas as gpd
    import networkx as nx

__all__ = ["READING_FEATURES", "READING_ROADS", "read_pbf"]

logger = logging.getLogger(__name__)

#: The build stage of the one pass over a PBF that reads the walk and drive roads.
READING_ROADS = "reading walk and drive roads (one pass: highway ways, node locations)"
#: The build stage of the pass that reads the POI and base-map features.
READING_FEATURES = "reading POIs and base-map features (pyosmium)"


def read_pbf(
    path: Path, *, on_step: Callable[[str], None] | None = None
) -> tuple[dict[str, nx.MultiDiGraph], Callable[[], tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]]]:
    """Walk and drive graphs (EPSG:4326, osmnx-style) of a PBF, and its features on request.

    Returns
    -------
    tuple
        ``(graphs, read_features)``: ``graphs`` maps ``"walk"`` and ``"drive"`` to their
        graphs; ``read_features()`` reads the POI features (for
        :func:`routing.pois.split_layers`) and the base-map features (for
        :func:`routing.basemap.split_basemap`) in one more pass. A build calls it once the
        graphs are written out, so the features never share memory with the graphs.
    """
    from ._pbf_roads import read_networks

    step = on_step or (lambda _text: None)
    step(READING_ROADS)
    graphs = read_networks(path, on_step=step)

    def features() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        step(READING_FEATURES)
        return read_features(path)

    return graphs, features
