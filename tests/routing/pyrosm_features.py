"""The POI and base-map features as pyrosm reads them: the reference of the PBF feature reader.

This is the code that read them before :mod:`routing._pbf_features` (pyrosm's ``get_pois``,
``get_landuse``, ``get_buildings``, ``get_network("all")`` and
``get_data_by_custom_criteria``, with the tags of the layers lifted from pyrosm's JSON
``tags`` column), kept here so the tests hold the new reader to it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from routing.basemap import BASEMAP_TAGS
from routing.pois import EXTRA_TAGS, FEATURE_TAGS, NAME_LANGUAGES

if TYPE_CHECKING:
    from pathlib import Path

_NAMES = [f"name:{lang}" for lang in NAME_LANGUAGES]
_EXTRA = [*_NAMES, *EXTRA_TAGS, "bus", "office"]


def _osm(path: Path) -> Any:
    import pyrosm

    return pyrosm.OSM(str(path), keep_metadata=False, progress=False)


def pyrosm_features(path: Path) -> gpd.GeoDataFrame:
    """The features of the POI layers, one row per element, as pyrosm read them."""
    osm = _osm(path)
    pois = osm.get_pois(
        custom_filter={
            "amenity": FEATURE_TAGS["amenity"],
            "shop": FEATURE_TAGS["shop"],
            "office": True,
            "highway": ["bus_stop"],
            "public_transport": ["platform", "stop_position"],
        },
        extra_attributes=_EXTRA,
    )
    landuse = osm.get_landuse(custom_filter={"landuse": ["residential"]}, extra_attributes=_EXTRA)
    buildings = osm.get_buildings(extra_attributes=_EXTRA)
    frames = [_lifted(f) for f in (pois, landuse, buildings) if f is not None and len(f)]
    out = pd.concat(frames, ignore_index=True).drop_duplicates(subset=["osm_type", "osm_id"])
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def pyrosm_basemap_features(path: Path) -> gpd.GeoDataFrame:
    """Every street and the water, parks and landmarks, as pyrosm read them."""
    osm = _osm(path)
    roads = osm.get_network("all", extra_attributes=[*_NAMES, "layer", "area"])
    other = osm.get_data_by_custom_criteria(
        custom_filter=BASEMAP_TAGS,
        filter_type="keep",
        keep_nodes=True,
        keep_ways=True,
        keep_relations=True,
        extra_attributes=_NAMES,
    )
    frames = [f for f in (roads, other) if f is not None and len(f)]
    out = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def _lifted(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``frame`` with ``osm_id`` and the extra tags pyrosm left in its JSON ``tags`` column."""
    frame = frame.rename(columns={"id": "osm_id"})
    if "osm_type" not in frame.columns:
        frame["osm_type"] = "node"
    if "tags" in frame.columns:
        rows = [_tag_dict(t) for t in frame["tags"]]
        for key in (k for k in _EXTRA if k not in frame.columns):
            frame[key] = pd.Series([r.get(key) for r in rows], index=frame.index, dtype=object)
    return frame


def _tag_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    return json.loads(value) if isinstance(value, str) and value else {}
