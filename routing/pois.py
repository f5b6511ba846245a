"""POI layers of an Area: candidate hosts, bus stops, residential land use and buildings, offices,
worker hotspots.

Readers (pyrosm, osmnx XML, Overpass) each produce one GeoDataFrame of OSM features with a
column per tag; :func:`split_layers` turns it into the layers named in
:data:`routing.area.POI_LAYERS`, all in EPSG:4326 with the same base columns:

``osm_type`` (node/way/relation), ``osm_id``, ``name`` (original script), ``name_zh``,
``name_en``, ``name_ja``, ``name_ko`` (where tagged), then layer columns (``host_type`` in
``hosts``). Point layers (hosts, bus stops, offices) hold points: a mapped building or area
is represented by a point inside it. Residential layers and ``buildings`` (every mapped
building outline, whatever its use) hold polygons.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .area import POI_LAYERS
from .languages import LANGUAGES

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "FEATURE_TAGS",
    "HOST_TYPES",
    "HOTSPOT_TAGS",
    "NAME_LANGUAGES",
    "RESIDENTIAL_BUILDINGS",
    "empty_layers",
    "split_layers",
]

logger = logging.getLogger(__name__)

HOST_TYPES = ("bank", "supermarket", "fuel", "estate_agent")
NAME_LANGUAGES = LANGUAGES
RESIDENTIAL_BUILDINGS = (
    "residential",
    "apartments",
    "house",
    "detached",
    "semidetached_house",
    "terrace",
    "dormitory",
    "bungalow",
)
#: Worker hotspots (where couriers, delivery riders and market workers gather): OSM
#: ``(key, value)`` -> ``hotspot_type``. Restaurants and fast food are single points; their
#: clusters (where delivery riders wait) show when coverage and gaps are aggregated.
HOTSPOT_TAGS: dict[tuple[str, str], str] = {
    ("amenity", "post_depot"): "courier_depot",
    ("office", "courier"): "courier_depot",
    ("amenity", "parcel_locker"): "parcel_locker",
    ("amenity", "marketplace"): "marketplace",
    ("shop", "mall"): "mall",
    ("shop", "department_store"): "mall",
    ("amenity", "food_court"): "food",
    ("amenity", "restaurant"): "food",
    ("amenity", "fast_food"): "food",
}
#: The OSM tags whose features feed the POI layers (osmnx ``tags=`` form).
FEATURE_TAGS: dict[str, bool | str | list[str]] = {
    "amenity": [
        "bank",
        "fuel",
        *sorted({v for (k, v) in HOTSPOT_TAGS if k == "amenity"}),
    ],
    "shop": ["supermarket", "estate_agent", *sorted({v for (k, v) in HOTSPOT_TAGS if k == "shop"})],
    "office": True,
    "highway": "bus_stop",
    "public_transport": ["platform", "stop_position"],
    "landuse": "residential",
    "building": True,
}
#: Tags copied into the layers besides names (column name = tag with ``:`` -> ``_``).
EXTRA_TAGS = ("opening_hours", "brand", "operator", "building:levels")
NAME_COLUMNS = ("name", *(f"name_{lang}" for lang in NAME_LANGUAGES))
_POINT_LAYERS = ("hosts", "bus_stops", "offices", "hotspots")
_LAYER_COLUMNS: dict[str, tuple[str, ...]] = {
    "hosts": ("host_type", "opening_hours", "brand", "operator"),
    "bus_stops": ("stop_kind",),
    "residential_areas": (),
    "residential_buildings": ("building", "building_levels"),
    "offices": ("office", "opening_hours"),
    "buildings": ("building",),
    "hotspots": ("hotspot_type", "opening_hours"),
}


def _base_columns(layer: str) -> list[str]:
    return ["osm_type", "osm_id", *NAME_COLUMNS, *_LAYER_COLUMNS[layer]]


def empty_layers() -> dict[str, gpd.GeoDataFrame]:
    """Every POI layer, empty but with its columns and CRS."""
    return {
        layer: gpd.GeoDataFrame(
            {c: pd.Series(dtype=object) for c in _base_columns(layer)},
            geometry=gpd.GeoSeries([], crs="EPSG:4326"),
            crs="EPSG:4326",
        )
        for layer in POI_LAYERS
    }


def _column(df: pd.DataFrame, key: str) -> pd.Series:
    if key in df.columns:
        return df[key]
    return pd.Series(pd.NA, index=df.index, dtype=object)


def _is(df: pd.DataFrame, key: str, values: str | tuple[str, ...]) -> pd.Series:
    wanted = (values,) if isinstance(values, str) else values
    return _column(df, key).isin(wanted).fillna(False).astype(bool)


def split_layers(
    features: gpd.GeoDataFrame, *, bounds: tuple[float, float, float, float] | None = None
) -> dict[str, gpd.GeoDataFrame]:
    """Split one frame of OSM features into the POI layers.

    Parameters
    ----------
    features
        One row per OSM element, in EPSG:4326, with columns ``osm_type``, ``osm_id``,
        ``geometry`` and one column per OSM tag key (``amenity``, ``shop``, ``name:zh``, ...).
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)``: drop features whose point lies outside (XML
        exports carry whole ways that run past their box).

    Returns
    -------
    dict
        Layer name to GeoDataFrame (see module docstring).
    """
    if features is None or len(features) == 0:
        return empty_layers()
    df = features.to_crs("EPSG:4326") if features.crs is not None else features.set_crs("EPSG:4326")
    df = df[df.geometry.notna() & ~df.geometry.is_empty].reset_index(drop=True)
    if bounds is not None and len(df):
        pts = df.geometry.representative_point()
        inside = pts.within(_box(bounds))
        df = df[inside.to_numpy()]

    amenity_bank = _is(df, "amenity", "bank")
    shop_super = _is(df, "shop", "supermarket")
    amenity_fuel = _is(df, "amenity", "fuel")
    estate = _is(df, "shop", "estate_agent") | _is(df, "office", "estate_agent")
    host_type = pd.Series(pd.NA, index=df.index, dtype=object)
    # Later assignments win: a bank inside a supermarket row is rare; order by specificity.
    host_type[estate] = "estate_agent"
    host_type[amenity_fuel] = "fuel"
    host_type[shop_super] = "supermarket"
    host_type[amenity_bank] = "bank"

    bus_yes = _is(df, "bus", ("yes", "designated"))
    stop_kind = pd.Series(pd.NA, index=df.index, dtype=object)
    stop_kind[_is(df, "public_transport", "stop_position") & bus_yes] = "stop_position"
    stop_kind[_is(df, "public_transport", "platform") & bus_yes] = "platform"
    stop_kind[_is(df, "highway", "bus_stop")] = "bus_stop"
    stop_kind[_stop_positions_near_stops(df, stop_kind)] = pd.NA
    hotspot_type = pd.Series(pd.NA, index=df.index, dtype=object)
    for (key, value), label in HOTSPOT_TAGS.items():
        hotspot_type[_is(df, key, value) & hotspot_type.isna()] = label
    masks: Mapping[str, pd.Series] = {
        "hosts": host_type.notna(),
        "bus_stops": stop_kind.notna(),
        "residential_areas": _is(df, "landuse", "residential"),
        "residential_buildings": _is(df, "building", RESIDENTIAL_BUILDINGS),
        "offices": _column(df, "office").notna() & ~_is(df, "office", ("no", "vacant")),
        "buildings": _column(df, "building").notna() & ~_is(df, "building", "no"),
        "hotspots": hotspot_type.notna(),
    }
    layers: dict[str, gpd.GeoDataFrame] = {}
    for layer in POI_LAYERS:
        mask = masks[layer].to_numpy()
        if layer not in _POINT_LAYERS:
            mask = mask & df.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
        sub = df[mask]
        out: dict[str, Any] = {
            "osm_type": sub["osm_type"].astype(str).to_numpy(),
            "osm_id": pd.to_numeric(sub["osm_id"]).astype("int64").to_numpy(),
            "name": _column(sub, "name").to_numpy(),
        }
        for lang in NAME_LANGUAGES:
            out[f"name_{lang}"] = _column(sub, f"name:{lang}").to_numpy()
        if layer == "hosts":
            out["host_type"] = host_type[mask].to_numpy()
        if layer == "bus_stops":
            out["stop_kind"] = stop_kind[mask].to_numpy()
        if layer == "hotspots":
            out["hotspot_type"] = hotspot_type[mask].to_numpy()
        for col in _LAYER_COLUMNS[layer]:
            if col not in out:
                out[col] = _column(
                    sub, col.replace("building_levels", "building:levels")
                ).to_numpy()
        geom = sub.geometry
        if layer in _POINT_LAYERS:
            geom = geom.where(geom.geom_type == "Point", geom.representative_point())
        frame = gpd.GeoDataFrame(out, geometry=geom.to_numpy(), crs="EPSG:4326")
        frame = frame.drop_duplicates(subset=["osm_type", "osm_id"]).reset_index(drop=True)
        for col in frame.columns:
            if col != "geometry" and frame[col].dtype == object:
                frame[col] = frame[col].where(frame[col].notna(), None)
        layers[layer] = frame
    return layers


#: A bus ``stop_position`` this close (m) to a mapped bus stop or platform is the same stop.
STOP_POSITION_MERGE_M = 30.0


def _stop_positions_near_stops(df: gpd.GeoDataFrame, stop_kind: pd.Series) -> pd.Series:
    """Stop positions (on the road) that duplicate a nearby mapped stop or platform.

    Many areas map only ``public_transport=stop_position`` + ``bus=yes`` (Shanghai exports,
    for one): those count as bus stops, except within :data:`STOP_POSITION_MERGE_M` of a
    ``highway=bus_stop`` / platform, which already stands for the stop.
    """
    from scipy.spatial import cKDTree

    is_pos = (stop_kind == "stop_position").fillna(False).astype(bool).to_numpy()
    is_stop = stop_kind.isin(["bus_stop", "platform"]).fillna(False).astype(bool).to_numpy()
    near = pd.Series(False, index=df.index)
    if not is_pos.any() or not is_stop.any():
        return near
    pts = df.geometry.representative_point()
    lat0 = float(np.nanmean(pts.y.to_numpy()))
    scale = np.array([111_320.0 * np.cos(np.radians(lat0)), 110_540.0])
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]) * scale
    dist, _ = cKDTree(xy[is_stop]).query(xy[is_pos])
    near[is_pos] = dist <= STOP_POSITION_MERGE_M
    return near


def _box(bounds: tuple[float, float, float, float]) -> Any:
    from shapely.geometry import box

    return box(*bounds)
