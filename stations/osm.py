"""Stations from the OSM POI layers of an Area.

Mapping (documented choice)
---------------------------
* ``hosts`` (banks, supermarkets, fuel stations, estate agents) -> ``warm_station`` with
  ``host_type`` from the layer, public access.
* ``offices`` (``office=*``: company premises) -> ``nursing_room`` hosted by an
  ``enterprise`` (``government`` for ``office=government``), access ``employees``: rooms
  inside company premises are usually for that company's staff.
* ``bus_stops`` -> ``shuttle_stop`` (``host_type=public_transport``).
* Tags, where the layer carries them as columns, become amenities: ``toilets=yes`` ->
  toilet, ``drinking_water=yes`` -> drinking_water, ``microwave=yes`` -> microwave,
  ``bench=yes`` -> rest_seats, ``shelter=yes`` -> shelter, ``changing_table=yes`` on a
  nursing room -> private_room is *not* inferred (a changing table is not a private room).
* Stand-alone ``amenity=drinking_water`` / ``amenity=toilets`` features are facilities, not
  stations: they are skipped (counted in the report's warnings), never imported as stations.
* An ``opening_hours`` tag is kept when it parses; messy ones are dropped with a per-row
  warning (OSM data is not the user's to fix on import).

OSM ids become station ids ``osm-<kind prefix>-<n|w|r><id>`` so re-importing updates rather
than duplicates (use ``replace=True``). Names keep their script; ``name:zh``/``en``/``ja``/``ko``
become name variants.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._errors import StationValueError
from ._readers import Problem, RawRow
from .io import ImportReport, stations_from_records
from .model import LANGUAGES

if TYPE_CHECKING:
    import geopandas as gpd

    from routing.area import Area

__all__ = ["LAYER_KINDS", "stations_from_pois"]

logger = logging.getLogger(__name__)

#: Default kind for each POI layer of an Area.
LAYER_KINDS = {"hosts": "warm_station", "offices": "nursing_room", "bus_stops": "shuttle_stop"}
_PREFIX = {"warm_station": "ws", "nursing_room": "nr", "shuttle_stop": "ss"}
_TAG_AMENITIES = {
    "toilets": "toilet",
    "drinking_water": "drinking_water",
    "microwave": "microwave",
    "bench": "rest_seats",
    "shelter": "shelter",
    "first_aid_kit": "first_aid_kit",
}
_FACILITIES = ("drinking_water", "toilets")
_FALLBACK_NAME = {
    "warm_station": "Warm station",
    "nursing_room": "Nursing room",
    "shuttle_stop": "Shuttle stop",
}


def _text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return text or None


def _yes(value: Any) -> bool:
    text = _text(value)
    return text is not None and text.lower() in ("yes", "designated", "customers", "true", "1")


def pois_to_records(
    pois: gpd.GeoDataFrame, *, kind: str, source: str = "osm"
) -> tuple[list[RawRow], list[Problem]]:
    """Rows (as raw records) for ``pois``, and warnings for skipped facility features."""
    warnings: list[Problem] = []
    if pois.crs is not None and pois.crs.to_epsg() != 4326:
        pois = pois.to_crs("EPSG:4326")
    rows: list[RawRow] = []
    skipped = 0
    for i, (_, rec) in enumerate(pois.iterrows(), start=1):
        amenity_tag = _text(rec.get("amenity"))
        if amenity_tag in _FACILITIES and _text(rec.get("shop")) is None:
            skipped += 1
            continue
        geom = rec.geometry
        raw = RawRow(i, {})
        if geom is None or geom.is_empty:
            raw.problems.append(Problem(i, "geometry", "Expected a geometry, got none"))
            rows.append(raw)
            continue
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        osm_type = (_text(rec.get("osm_type")) or "n")[0]
        osm_id = _text(rec.get("osm_id"))
        if osm_id is not None and osm_id.endswith(".0"):
            osm_id = osm_id[:-2]
        values: dict[str, Any] = {
            "kind": kind,
            "lon": point.x,
            "lat": point.y,
            "source": source,
        }
        if osm_id is not None:
            values["id"] = f"osm-{_PREFIX[kind]}-{osm_type}{osm_id}"
        names = {}
        for lang in LANGUAGES:
            text = _text(rec.get(f"name_{lang}")) or _text(rec.get(f"name:{lang}"))
            if text:
                names[lang] = text
        name = _text(rec.get("name")) or names.get("zh") or names.get("en")
        if name is None:
            name = f"{_FALLBACK_NAME[kind]} {osm_type}{osm_id or i}"
        values["name"] = name
        values["names"] = names
        values["host_type"] = _host_type(kind, rec)
        if kind == "nursing_room":
            values["access"] = "public" if values["host_type"] == "government" else "employees"
        hours = _text(rec.get("opening_hours"))
        if hours:
            values["opening_hours"] = hours
        amenities = {a for tag, a in _TAG_AMENITIES.items() if _yes(rec.get(tag))}
        if amenities:
            values["amenities"] = sorted(amenities)
        address = " ".join(
            t for t in (_text(rec.get("addr:street")), _text(rec.get("addr:housenumber"))) if t
        )
        if address:
            values["address"] = address
        raw.values = values
        rows.append(raw)
    if skipped:
        warnings.append(
            Problem(
                None,
                "kind",
                f"skipped {skipped} stand-alone drinking-water/toilet features: "
                "facilities, not stations",
            )
        )
    return rows, warnings


def _host_type(kind: str, rec: Any) -> str | None:
    if kind == "warm_station":
        host = _text(rec.get("host_type"))
        known = ("bank", "supermarket", "fuel", "estate_agent")
        return host if host in known else "other"
    if kind == "nursing_room":
        return "government" if _text(rec.get("office")) == "government" else "enterprise"
    return "public_transport"


def stations_from_pois(
    area: Area | None = None,
    layer: str = "hosts",
    *,
    pois: gpd.GeoDataFrame | None = None,
    kind: str | None = None,
    check: bool = True,
) -> ImportReport:
    """Stations (validated, not yet stored) from an Area's POI layer or any OSM GeoDataFrame.

    Parameters
    ----------
    area
        The Area whose ``area.pois[layer]`` to use (and to check positions against).
    layer
        ``hosts``, ``offices`` or ``bus_stops`` (see the module docstring for the mapping).
    pois
        Use this GeoDataFrame (EPSG:4326, OSM tag columns) instead of ``area.pois[layer]``.
    kind
        Override the layer's default kind.
    check
        Check positions against the Area (points outside its bounds are warned about).

    Returns
    -------
    ImportReport
        Pass it to :func:`stations.io.import_stations` to write it (all or nothing).
    """
    if pois is None:
        if area is None:
            msg = "Expected an Area or a POI GeoDataFrame, got neither"
            raise StationValueError(msg, field="area")
        if layer not in area.pois:
            msg = f"Expected a POI layer from {', '.join(area.pois)}; got {layer!r}"
            raise StationValueError(msg, field="layer")
        pois = area.pois[layer]
    kind = kind or LAYER_KINDS.get(layer)
    if kind not in _PREFIX:
        msg = (
            f"Expected kind from {', '.join(_PREFIX)} (or layer from {', '.join(LAYER_KINDS)}); "
            f"got kind {kind!r} for layer {layer!r}"
        )
        raise StationValueError(msg, field="kind")
    rows, skipped = pois_to_records(pois, kind=kind)
    report = stations_from_records(
        rows,
        crs="wgs84",
        source=f"osm:{layer}",
        format="osm",
        area=area if check else None,
    )
    report.rows = len(pois)
    report.warnings[:0] = skipped
    return report
