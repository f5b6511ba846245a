"""Deterministic sample stations made from an Area's real OSM POIs.

Clearly marked as sample data: ``source="sample"``, ids start with ``sample-`` and ``notes``
say the record is invented. Positions and host names are real (OSM); which POIs host a station,
its amenities, hours, capacity and rating are drawn from a seeded generator, so the same Area
and seed always give the same stations (independent of row order in the POI layers).

* Warm-heart stations at real host businesses (``hosts``: banks, supermarkets, fuel stations,
  estate agents), about ``warm_share`` of them.
* Nursing rooms at offices / company premises (``offices``), access for the company's
  employees, each with the standard fridge, steriliser, sofa and private room; ratings follow
  the Dalian proportions (~29% city level, ~2% city model room, ~1.5% provincial). If the
  Area has no offices, hosts not already used for warm stations stand in.
* Shuttle stops at real bus stops (``bus_stops``), with commuter service hours.

Works on any Area, including ones with empty layers (fewer or no stations of that kind).
"""

from __future__ import annotations

import logging
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import OpeningHoursError, StationValueError
from .hours import parse_opening_hours
from .io import export_stations
from .model import KINDS, LANGUAGES, SEVEN_HAVE, Station

if TYPE_CHECKING:
    import geopandas as gpd

    from routing.area import Area

__all__ = ["SAMPLE_NOTE", "make_sample_stations", "write_sample_stations"]

logger = logging.getLogger(__name__)

SAMPLE_NOTE = "Sample data made by warmheart from OpenStreetMap POIs; not a real station."
SAMPLE_UPDATED_AT = datetime(2024, 1, 1, tzinfo=UTC)

_HOURS_BY_HOST = {
    "bank": ["Mo-Fr 09:00-17:00", "Mo-Fr 09:00-17:00; Sa 10:00-16:00", "Mo-Su 09:00-17:00"],
    "supermarket": ["Mo-Su 08:00-22:00", "Mo-Su 07:00-23:00", "24/7"],
    "fuel": ["24/7", "Mo-Su 06:00-23:00"],
    "estate_agent": ["Mo-Su 09:00-21:00", "Mo-Su 08:30-20:30"],
}
_TOILET_P = {"bank": 0.5, "supermarket": 0.8, "fuel": 0.9, "estate_agent": 0.4}
_NAMES = {
    "warm_station": {
        "zh": "{name}暖心驿站",
        "en": "Warm-heart station at {name}",
        "ja": "{name} 暖心ステーション",
        "ko": "{name} 따뜻한 쉼터",
    },
    "nursing_room": {
        "zh": "{name}母婴小屋",
        "en": "Nursing room at {name}",
        "ja": "{name} 授乳室",
        "ko": "{name} 수유실",
    },
    "shuttle_stop": {
        "zh": "{name}（工会通勤班车站）",
        "en": "Union shuttle stop {name}",
        "ja": "{name}（組合通勤バス停）",
        "ko": "{name} (노조 통근버스 정류장)",
    },
}


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value).strip()
    return None if not text or text in ("<NA>", "nan", "None") else text


def _ordered(layer: gpd.GeoDataFrame | None) -> list[dict[str, Any]]:
    """POIs as dicts with a point, sorted by a key independent of row order."""
    if layer is None or len(layer) == 0:
        return []
    if layer.crs is not None and layer.crs.to_epsg() != 4326:
        layer = layer.to_crs("EPSG:4326")
    out: list[dict[str, Any]] = []
    for _, rec in layer.iterrows():
        geom = rec.geometry
        if geom is None or geom.is_empty:
            continue
        point = geom if geom.geom_type == "Point" else geom.representative_point()
        osm_type = (_text(rec.get("osm_type")) or "n")[0]
        osm_id = _text(rec.get("osm_id"))
        if osm_id and osm_id.endswith(".0"):
            osm_id = osm_id[:-2]
        key = f"{osm_type}{osm_id}" if osm_id else f"p{point.x:.6f}_{point.y:.6f}"
        names = {lang: _text(rec.get(f"name_{lang}")) for lang in LANGUAGES}
        out.append(
            {
                "key": key,
                "lon": float(point.x),
                "lat": float(point.y),
                "name": _text(rec.get("name")) or names.get("zh") or names.get("en"),
                "names": {k: v for k, v in names.items() if v},
                "host_type": _text(rec.get("host_type")),
                "office": _text(rec.get("office")),
                "opening_hours": _text(rec.get("opening_hours")),
            }
        )
    out.sort(key=lambda p: p["key"])
    unique: dict[str, dict[str, Any]] = {}
    for p in out:
        unique.setdefault(p["key"], p)
    return list(unique.values())


def _pick(rng: np.random.Generator, items: list[Any], share: float, cap: int | None) -> list[Any]:
    if not items:
        return []
    n = max(1, round(share * len(items)))
    if cap is not None:
        n = min(n, cap)
    chosen = np.sort(rng.choice(len(items), size=min(n, len(items)), replace=False))
    return [items[i] for i in chosen]


def _hours(rng: np.random.Generator, poi: dict[str, Any], choices: list[str]) -> str:
    tagged = poi.get("opening_hours")
    if tagged:
        try:
            parse_opening_hours(tagged)
        except OpeningHoursError:
            pass
        else:
            return str(tagged)
    return choices[int(rng.integers(len(choices)))]


def _names(kind: str, poi: dict[str, Any], fallback: str) -> tuple[str, dict[str, str]]:
    """Display name (Chinese form for CJK host names, else English) and the four variants."""
    base = poi["name"] or f"{fallback} {poi['key']}"
    local = poi["names"]
    names = {
        lang: template.format(name=local.get(lang) or base)
        for lang, template in _NAMES[kind].items()
    }
    cjk = any("\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in base)
    return (names["zh"] if cjk else names["en"]), names


def _seven_have(rng: np.random.Generator, full: float) -> list[str]:
    if rng.random() < full:
        return list(SEVEN_HAVE)
    return [item for item in SEVEN_HAVE if rng.random() < 0.7]


def make_sample_stations(
    area: Area,
    *,
    seed: int = 20240101,
    warm_share: float = 0.6,
    nursing_share: float = 0.15,
    shuttle_share: float = 0.3,
    max_per_kind: int | None = 2000,
) -> list[Station]:
    """Sample warm stations, nursing rooms and shuttle stops at the Area's real POIs.

    Parameters
    ----------
    area
        Any Area (uses its ``hosts``, ``offices`` and ``bus_stops`` layers).
    seed
        Random seed; the same Area and seed give identical stations.
    warm_share, nursing_share, shuttle_share
        Share of hosts / offices / bus stops that get a station (at least one when the layer
        is not empty).
    max_per_kind
        Upper bound per kind (regional Areas have thousands of POIs).

    Returns
    -------
    list of Station
        Ordered by id; every record has ``source="sample"`` and a note saying so.
    """
    for name, share in (
        ("warm_share", warm_share),
        ("nursing_share", nursing_share),
        ("shuttle_share", shuttle_share),
    ):
        if not 0.0 <= share <= 1.0:
            msg = f"Expected {name} in [0, 1], got {share!r}"
            raise StationValueError(msg, field=name)
    rng = np.random.default_rng(seed)
    hosts = _ordered(area.pois.get("hosts"))
    offices = _ordered(area.pois.get("offices"))
    stops = _ordered(area.pois.get("bus_stops"))
    stations: list[Station] = []

    warm = _pick(rng, hosts, warm_share, max_per_kind)
    for poi in warm:
        host = poi["host_type"] if poi["host_type"] in _HOURS_BY_HOST else "other"
        amenities = {"drinking_water", "rest_seats", "phone_charging"}
        for amenity, p in (
            ("microwave", 0.85),
            ("shelter", 0.9),
            ("sewing_kit", 0.6),
            ("first_aid_kit", 0.75),
            ("hot_meal", 0.15),
            ("toilet", _TOILET_P.get(host, 0.5)),
        ):
            if rng.random() < p:
                amenities.add(amenity)
        name, names = _names("warm_station", poi, host.replace("_", " ").capitalize())
        r = rng.random()
        stations.append(
            Station(
                id=f"sample-ws-{poi['key']}",
                kind="warm_station",
                name=name,
                names=names,
                lon=poi["lon"],
                lat=poi["lat"],
                host_type=host,
                amenities=frozenset(amenities),
                opening_hours=_hours(rng, poi, _HOURS_BY_HOST.get(host, ["Mo-Fr 09:00-18:00"])),
                capacity=int(rng.integers(4, 16)),
                certification="city" if r < 0.1 else ("district" if r < 0.3 else None),
                seven_have=frozenset(_seven_have(rng, 0.8)),
                contact=None,
                notes=SAMPLE_NOTE,
                source="sample",
                updated_at=SAMPLE_UPDATED_AT,
            )
        )

    used = {p["key"] for p in warm}
    room_sites = offices or [p for p in hosts if p["key"] not in used]
    for poi in _pick(rng, room_sites, nursing_share if offices else 0.5, max_per_kind):
        government = poi.get("office") == "government"
        amenities = {"fridge", "steriliser", "sofa", "private_room"}
        for amenity, p in (("drinking_water", 0.7), ("toilet", 0.5), ("phone_charging", 0.4)):
            if rng.random() < p:
                amenities.add(amenity)
        name, names = _names("nursing_room", poi, "Office")
        r = rng.random()
        rating = (
            "provincial"
            if r < 0.015
            else "city_model"
            if r < 0.035
            else "city"
            if r < 0.32
            else None
        )
        stations.append(
            Station(
                id=f"sample-nr-{poi['key']}",
                kind="nursing_room",
                name=name,
                names=names,
                lon=poi["lon"],
                lat=poi["lat"],
                host_type="government" if government else "enterprise",
                amenities=frozenset(amenities),
                opening_hours=["Mo-Fr 08:30-17:30", "Mo-Fr 08:00-18:00", "Mo-Sa 08:00-20:00"][
                    int(rng.integers(3))
                ],
                access="public" if government or rng.random() < 0.2 else "employees",
                capacity=int(rng.integers(1, 4)),
                certification=rating,
                seven_have=frozenset(_seven_have(rng, 0.6)),
                notes=SAMPLE_NOTE,
                source="sample",
                updated_at=SAMPLE_UPDATED_AT,
            )
        )

    for poi in _pick(rng, stops, shuttle_share, max_per_kind):
        amenities = {"shelter", "rest_seats"} if rng.random() < 0.6 else set()
        name, names = _names("shuttle_stop", poi, "Bus stop")
        stations.append(
            Station(
                id=f"sample-ss-{poi['key']}",
                kind="shuttle_stop",
                name=name,
                names=names,
                lon=poi["lon"],
                lat=poi["lat"],
                host_type="public_transport",
                amenities=frozenset(amenities),
                opening_hours="Mo-Fr 06:30-09:30,16:30-19:30; PH off",
                capacity=None,
                notes=SAMPLE_NOTE,
                source="sample",
                updated_at=SAMPLE_UPDATED_AT,
            )
        )
    stations.sort(key=lambda s: s.id)
    counts = [sum(s.kind == k for s in stations) for k in KINDS]
    logger.info("Sample stations for %s: %s", getattr(area, "name", "?"), counts)
    return stations


def write_sample_stations(area: Area, path: str | os.PathLike[str], *, seed: int = 20240101) -> int:
    """Make the sample stations and write them to ``path`` (``.gpkg``/``.geojson``/``.csv``)."""
    return export_stations(make_sample_stations(area, seed=seed), Path(path))
