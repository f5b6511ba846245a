"""Residential districts and candidate stops on an Area.

Districts come from the Area's residential land use (``landuse=residential`` polygons): a
rider belongs to the polygon containing their home, else to the nearest one within half a
``district_cell_m``, else to a square grid cell of ``district_cell_m`` (so riders outside
mapped land use are grouped, not dropped). A rider's own ``district`` field wins.

Candidate stops are the Area's bus stops plus one *access point* per district: the point of the
drive graph's nearest street to its riders' mean position. Both are placed where the bus
stops, on a drive-graph edge, and get readable names (:mod:`routing.shuttle.names`). Which of
them a rider can use is decided on the walk graph (:meth:`routing.shuttle.roads.Located.walks`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from routing.pois import NAME_LANGUAGES

from .model import CandidateStop, District, Rider
from .names import name_stops

if TYPE_CHECKING:
    from routing.area import Area

    from .settings import ShuttleSettings

__all__ = ["MERGE_M", "build_districts", "candidate_stops"]

#: District access points closer than this (m) to one already placed are merged into it.
MERGE_M = 30.0

logger = logging.getLogger(__name__)


def build_districts(
    area: Area,
    riders: Sequence[Rider],
    *,
    settings: ShuttleSettings,
) -> tuple[list[District], dict[str, str]]:
    """Group riders into districts.

    Returns
    -------
    districts
        Districts that have riders, in a deterministic order.
    district_of
        Rider id to district id.
    """
    if not riders:
        return [], {}
    lon = np.array([r.lon for r in riders])
    lat = np.array([r.lat for r in riders])
    x, y = area.project(lon, lat)
    district_of: dict[str, str] = {}
    names: dict[str, str] = {}
    polys: dict[str, shapely.Polygon | None] = {}

    layer = area.pois.get("residential_areas")
    assigned = np.zeros(len(riders), dtype=bool)
    for i, r in enumerate(riders):
        if r.district:
            district_of[r.id] = str(r.district)
            names.setdefault(str(r.district), str(r.district))  # the user's own name for it
            assigned[i] = True

    if layer is not None and len(layer) and (~assigned).any():
        geoms = layer.to_crs(area.crs).geometry.to_numpy()
        areal = np.array(
            [g is not None and g.geom_type in ("Polygon", "MultiPolygon") for g in geoms]
        )
        geoms = geoms[areal]
        geoms_lonlat = layer.geometry.to_numpy()[areal]
        rows = layer[areal]
        ids = [
            f"res-{ot}{oid}" if "osm_id" in rows.columns else f"res-{k}"
            for k, (ot, oid) in enumerate(
                zip(
                    rows.get("osm_type", [""] * len(rows)),
                    rows.get("osm_id", range(len(rows))),
                    strict=True,
                )
            )
        ]
        labels = [
            str(n) if isinstance(n, str) and n else "" for n in rows.get("name", [""] * len(rows))
        ]
        if len(geoms):
            tree = shapely.STRtree(geoms)
            todo = np.flatnonzero(~assigned)
            pts = shapely.points(x[todo], y[todo])
            hit, dist = tree.query_nearest(
                pts,
                max_distance=settings.district_cell_m / 2,
                return_distance=True,
                all_matches=False,
            )
            # hit[0]: point positions, hit[1]: polygon positions (one nearest per point)
            for p_pos, g_pos, _ in zip(hit[0], hit[1], dist, strict=True):
                i = int(todo[p_pos])
                if assigned[i]:
                    continue
                did = ids[g_pos]
                district_of[riders[i].id] = did
                names.setdefault(did, labels[g_pos])
                if did not in polys:
                    poly = geoms_lonlat[g_pos]
                    polys[did] = poly if isinstance(poly, shapely.Polygon) else None
                assigned[i] = True

    cell = settings.district_cell_m
    for i in np.flatnonzero(~assigned).tolist():
        cx, cy = int(np.floor(x[i] / cell)), int(np.floor(y[i] / cell))
        did = f"cell-{cx}_{cy}"
        district_of[riders[i].id] = did
        names.setdefault(did, "")

    members: dict[str, list[int]] = {}
    for i, r in enumerate(riders):
        members.setdefault(district_of[r.id], []).append(i)
    districts = []
    for did in sorted(members):
        idx = members[did]
        districts.append(
            District(
                id=did,
                name=names.get(did, ""),
                centroid=(float(lon[idx].mean()), float(lat[idx].mean())),
                rider_ids=tuple(riders[i].id for i in idx),
                polygon=polys.get(did),
            )
        )
    return districts, district_of


def candidate_stops(
    area: Area,
    districts: Sequence[District],
    *,
    settings: ShuttleSettings,
) -> list[CandidateStop]:
    """The Area's bus stops plus one access point per district, on drive-graph edges, named.

    A stop is placed at its projection on the nearest drive edge. A bus stop farther than
    ``max_stop_snap_m`` from the drive graph keeps its own position with ``edge=-1``: riders
    near it learn it is ``unreachable`` rather than silently losing it. An access point within
    :data:`MERGE_M` of one already placed is merged into it.
    """
    stops: list[CandidateStop] = []
    layer = area.pois.get("bus_stops")
    if layer is not None and len(layer):
        pts = [g.representative_point() if g.geom_type != "Point" else g for g in layer.geometry]
        lon = np.array([p.x for p in pts])
        lat = np.array([p.y for p in pts])
        at = area.locate(lon, lat, network="drive", max_distance=settings.max_stop_snap_m)
        names = _column(layer, "name")
        per_lang = {lang: _column(layer, f"name_{lang}") for lang in NAME_LANGUAGES}
        osm = list(layer["osm_id"]) if "osm_id" in layer.columns else list(range(len(layer)))
        seen: set[str] = set()
        for k in range(len(layer)):
            sid = f"bus-{osm[k]}"
            if sid in seen:
                sid = f"bus-{osm[k]}-{k}"
            seen.add(sid)
            ok = bool(at.ok[k])
            stops.append(
                CandidateStop(
                    sid,
                    round(float(at.lon[k]), 7) if ok else float(lon[k]),
                    round(float(at.lat[k]), 7) if ok else float(lat[k]),
                    int(at.edge[k]) if ok else -1,
                    "bus_stop",
                    names[k],
                    {lang: v[k] for lang, v in per_lang.items() if v[k]},
                )
            )
    district_names: dict[str, str] = {}
    if districts:
        c = np.array([d.centroid for d in districts])
        at = area.locate(c[:, 0], c[:, 1], network="drive", max_distance=np.inf)
        placed: list[tuple[float, float]] = []
        for k, d in enumerate(districts):
            px, py = float(at.x[k]), float(at.y[k])
            if any(np.hypot(px - qx, py - qy) < MERGE_M for qx, qy in placed):
                continue
            placed.append((px, py))
            sid = f"acc-{d.id}"
            if d.name:
                district_names[sid] = d.name
            stops.append(
                CandidateStop(
                    sid,
                    round(float(at.lon[k]), 7),
                    round(float(at.lat[k]), 7),
                    int(at.edge[k]),
                    "district_access",
                )
            )
    return name_stops(area, stops, district_names=district_names)


def _column(layer: Any, name: str) -> list[str]:
    """String values of a POI column ("" where absent or not a string)."""
    values = list(layer[name]) if name in layer.columns else [""] * len(layer)
    return [v.strip() if isinstance(v, str) else "" for v in values]
