"""Residential districts and candidate stops on an Area.

Districts come from the Area's residential land use (``landuse=residential`` polygons): a
rider belongs to the polygon containing their home, else to the nearest one within half a
``district_cell_m``, else to a square grid cell of ``district_cell_m`` (so riders outside
mapped land use are grouped, not dropped). A rider's own ``district`` field wins.

Candidate stops are the Area's bus stops plus one *access point* per district: the drive-graph
node nearest to its riders' mean position. Which of them a rider can use is decided on the
walk graph (see :func:`routing.shuttle.matrix.walk_distances`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import shapely

from .model import CandidateStop, District, Rider

if TYPE_CHECKING:
    from routing.area import Area

    from .settings import ShuttleSettings

__all__ = ["build_districts", "candidate_stops"]

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
            names.setdefault(str(r.district), str(r.district))
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
                names.setdefault(did, labels[g_pos] or did)
                if did not in polys:
                    poly = geoms_lonlat[g_pos]
                    polys[did] = poly if isinstance(poly, shapely.Polygon) else None
                assigned[i] = True

    cell = settings.district_cell_m
    for i in np.flatnonzero(~assigned).tolist():
        cx, cy = int(np.floor(x[i] / cell)), int(np.floor(y[i] / cell))
        did = f"cell-{cx}_{cy}"
        district_of[riders[i].id] = did
        names.setdefault(did, did)

    members: dict[str, list[int]] = {}
    for i, r in enumerate(riders):
        members.setdefault(district_of[r.id], []).append(i)
    districts = []
    for did in sorted(members):
        idx = members[did]
        districts.append(
            District(
                id=did,
                name=names.get(did, did),
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
    """The Area's bus stops plus one drive-graph access point per district.

    A bus stop farther than ``max_stop_snap_m`` from the drive graph is kept with
    ``node=-1``: riders near it learn it is ``unreachable`` rather than silently losing it.
    Access points that fall on a node already used by another access point are merged.
    """
    stops: list[CandidateStop] = []
    layer = area.pois.get("bus_stops")
    if layer is not None and len(layer):
        pts = [g.representative_point() if g.geom_type != "Point" else g for g in layer.geometry]
        lon = np.array([p.x for p in pts])
        lat = np.array([p.y for p in pts])
        snap = area.snap(lon, lat, network="drive", max_distance=settings.max_stop_snap_m)
        names = list(layer["name"]) if "name" in layer.columns else [""] * len(layer)
        osm = list(layer["osm_id"]) if "osm_id" in layer.columns else list(range(len(layer)))
        seen: set[str] = set()
        for k in range(len(layer)):
            sid = f"bus-{osm[k]}"
            if sid in seen:
                sid = f"bus-{osm[k]}-{k}"
            seen.add(sid)
            name = names[k] if isinstance(names[k], str) else ""
            stops.append(
                CandidateStop(
                    sid,
                    float(lon[k]),
                    float(lat[k]),
                    int(snap.node[k]) if snap.ok[k] else -1,
                    "bus_stop",
                    name,
                )
            )
    if districts:
        c = np.array([d.centroid for d in districts])
        snap = area.snap(c[:, 0], c[:, 1], network="drive", max_distance=np.inf)
        arrays = area.arrays("drive")
        used: set[int] = set()
        for d, idx, node in zip(districts, snap.index, snap.node, strict=True):
            if int(node) in used:
                continue
            used.add(int(node))
            stops.append(
                CandidateStop(
                    f"acc-{d.id}",
                    float(arrays.lon[idx]),
                    float(arrays.lat[idx]),
                    int(node),
                    "district_access",
                    d.name,
                )
            )
    return stops
