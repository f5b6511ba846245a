"""Base-map layers of an Area: named roads, water, parks and landmarks, from its own OSM data.

The web app draws its offline map tiles from these (:mod:`webmap.tiles`), so a map needs no
tile server: streets with their names (``name`` and ``name:zh/en/ja/ko``), rivers and lakes,
parks and green land, and a few landmarks (stations, hospitals, universities, museums,
places of worship, town halls, neighbourhood names). Each layer is a GeoDataFrame in
EPSG:4326 with the columns ``kind``, ``name``, ``name_zh``, ``name_en``, ``name_ja``,
``name_ko``; ``roads`` also has ``layer`` (bridges over tunnels).

Read from the same source as the graphs: for PBF in the pass that reads the POIs
(:mod:`routing._pbf_features`), osmnx ``features_from_xml`` for XML exports (clipped to the
export box), osmnx Overpass for places and boxes. A source that
yields nothing (or fails) gives empty layers and a log line, never a failed build: the
graphs are what the Area is for. Areas cached before these layers existed load with none
(:func:`basemap_layers`), and the tiles then draw the walk graph's streets.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from .pois import NAME_LANGUAGES

if TYPE_CHECKING:
    from .area import Area

__all__ = ["BASEMAP_LAYERS", "BASEMAP_TAGS", "basemap_layers", "read_basemap", "split_basemap"]

logger = logging.getLogger(__name__)

BASEMAP_LAYERS = ("roads", "water", "parks", "landmarks")
_WATER = {
    "natural": ["water", "bay", "wetland"],
    "waterway": ["river", "riverbank", "canal", "stream", "dock"],
    "landuse": ["reservoir", "basin"],
}
_PARKS = {
    "leisure": ["park", "garden", "nature_reserve", "pitch", "golf_course", "playground"],
    "landuse": [
        "grass",
        "forest",
        "meadow",
        "recreation_ground",
        "cemetery",
        "village_green",
        "allotments",
    ],
    "natural": ["wood", "scrub", "grassland"],
}
_LANDMARKS = {
    "railway": ["station"],
    "public_transport": ["station"],
    "amenity": [
        "hospital",
        "university",
        "college",
        "townhall",
        "library",
        "place_of_worship",
        "marketplace",
        "police",
    ],
    "tourism": ["museum", "attraction", "zoo", "gallery"],
    "place": ["suburb", "neighbourhood", "quarter", "village", "town", "island", "square"],
}
#: Everything the base map reads besides roads (osmnx ``tags=`` form).
BASEMAP_TAGS: dict[str, list[str]] = {}
for _group in (_WATER, _PARKS, _LANDMARKS):
    for _key, _values in _group.items():
        BASEMAP_TAGS.setdefault(_key, [])
        BASEMAP_TAGS[_key] += [v for v in _values if v not in BASEMAP_TAGS[_key]]
_NAME_TAGS = ["name", *(f"name:{lang}" for lang in NAME_LANGUAGES)]
_COLUMNS = ["kind", "name", *(f"name_{lang}" for lang in NAME_LANGUAGES)]


def basemap_layers(area: Area) -> dict[str, gpd.GeoDataFrame]:
    """The Area's base-map layers (empty ones for Areas cached before they existed)."""
    layers = getattr(area, "basemap", None) or {}
    return {name: layers.get(name, _empty()) for name in BASEMAP_LAYERS}


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {c: pd.Series(dtype=object) for c in [*_COLUMNS, "layer"]},
        geometry=gpd.GeoSeries([], crs="EPSG:4326"),
        crs="EPSG:4326",
    )


def _col(frame: pd.DataFrame, key: str) -> pd.Series:
    if key in frame.columns:
        return frame[key]
    return pd.Series(None, index=frame.index, dtype=object)


def _kind(frame: pd.DataFrame, groups: dict[str, list[str]]) -> pd.Series:
    kind = pd.Series(None, index=frame.index, dtype=object)
    for key, values in groups.items():
        col = _col(frame, key)
        hit = col.isin(values).fillna(False).astype(bool) & kind.isna()
        kind[hit] = col[hit]
    return kind


def _layer(
    frame: gpd.GeoDataFrame, kind: pd.Series, geom_types: tuple[str, ...]
) -> gpd.GeoDataFrame:
    mask = (kind.notna() & frame.geometry.geom_type.isin(geom_types)).to_numpy()
    sub = frame[mask]
    out: dict[str, Any] = {"kind": kind[mask].astype(str).to_numpy()}
    for tag, column in zip(_NAME_TAGS, _COLUMNS[1:], strict=True):
        values = _col(sub, tag)
        out[column] = values.where(values.notna(), None).to_numpy()
    layer = _col(sub, "layer")
    out["layer"] = (
        pd.to_numeric(layer, errors="coerce").fillna(0).clip(-5, 5).astype(int).to_numpy()
    )
    return gpd.GeoDataFrame(out, geometry=sub.geometry.to_numpy(), crs="EPSG:4326")


def split_basemap(features: gpd.GeoDataFrame | None) -> dict[str, gpd.GeoDataFrame]:
    """Split one frame of OSM features (a column per tag, EPSG:4326) into the layers."""
    if features is None or len(features) == 0:
        return {name: _empty() for name in BASEMAP_LAYERS}
    df = features if features.crs is not None else features.set_crs("EPSG:4326")
    df = df.to_crs("EPSG:4326")
    df = df[df.geometry.notna() & ~df.geometry.is_empty].reset_index(drop=True)
    lines = ("LineString", "MultiLineString")
    areas = ("Polygon", "MultiPolygon")
    highway = _col(df, "highway")
    road_kind = highway.where(highway.notna() & (_col(df, "area") != "yes"), None)
    landmark = _kind(df, _LANDMARKS)
    layers = {
        "roads": _layer(df, road_kind, lines),
        "water": _layer(df, _kind(df, _WATER), (*lines, *areas)),
        "parks": _layer(df, _kind(df, _PARKS), areas),
        "landmarks": _layer(df, landmark.where(_col(df, "name").notna(), None), ("Point", *areas)),
    }
    marks = layers["landmarks"]
    if len(marks):  # a landmark mapped as an area is drawn at a point inside it
        marks = marks.set_geometry(marks.geometry.representative_point())
        layers["landmarks"] = marks
    return layers


def read_basemap(
    kind: str,
    *,
    path: Any = None,
    bbox: Any = None,
    query: str | None = None,
    bounds: tuple[float, float, float, float] | None = None,
    features: gpd.GeoDataFrame | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Base-map layers of a source (``kind`` ``pbf``, ``xml``, ``bbox`` or ``place``).

    ``features`` are the source's base-map features when they were read already (a PBF's,
    in the pass that read its POIs); otherwise they are read here.
    """
    try:
        if features is not None:
            pass
        elif kind == "pbf":
            features = _read_pbf(path)
        elif kind == "xml":
            features = _read_osmnx(lambda ox, tags: ox.features_from_xml(path, tags=tags))
        elif kind == "bbox":
            features = _read_osmnx(lambda ox, tags: ox.features_from_bbox(bbox, tags=tags))
        else:
            features = _read_osmnx(lambda ox, tags: ox.features_from_place(query, tags=tags))
    except Exception as exc:  # a base map is a nicety: the build goes on without it
        logger.warning("No base-map layers from this source (%s): %s", kind, exc)
        return {name: _empty() for name in BASEMAP_LAYERS}
    try:
        if bounds is not None and features is not None and len(features):
            from shapely.geometry import box

            features = features[features.geometry.intersects(box(*bounds))]
            features = features.set_geometry(features.geometry.intersection(box(*bounds)))
        return split_basemap(features)
    except Exception as exc:  # a base map is a nicety: the build goes on without it
        logger.warning("No base-map layers from this source (%s): %s", kind, exc)
        return {name: _empty() for name in BASEMAP_LAYERS}


def _read_pbf(path: Any) -> gpd.GeoDataFrame:
    from ._pbf_features import BASEMAP_READS, concat_frames, read_pbf_features

    return concat_frames(read_pbf_features(path, BASEMAP_READS))


def _read_osmnx(read: Any) -> gpd.GeoDataFrame:
    import osmnx as ox

    tags: dict[str, Any] = {"highway": True, **BASEMAP_TAGS}
    frame = read(ox, tags)
    return frame.reset_index(drop=True)
