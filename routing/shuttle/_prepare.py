"""The planner's inputs from an Area: homes on walk edges, districts, usable stops on drive
edges, who walks to work, and the exact drive matrix among stops and workplaces.

Every place is a point on its street (:mod:`routing.shuttle.roads`): homes on walk edges,
stops and workplaces on drive edges where the bus stops and on walk edges where riders walk
to. Riders within ``max_walk_m`` of their workplace on foot walk (``walks_to_work``, both
ways) and are not bussed; candidate stops within ``max_walk_m`` of a workplace on foot are
dropped (no stop at the workplace itself: whoever could board there could walk).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from routing._errors import CoordinateError
from routing.lonlat import valid_lonlat

from ._waves import workplace_id
from .districts import build_districts, candidate_stops
from .matrix import UNREACHABLE, StopMatrix
from .model import CandidateStop, District, Rider, Unserved, unserved_both_ways
from .names import name_stops
from .roads import Located, locate_points

if TYPE_CHECKING:
    from routing.area import Area

    from .settings import ShuttleSettings

__all__ = [
    "Prepared",
    "locate_homes",
    "locate_workplaces",
    "place_stops",
    "prepare_area_inputs",
    "split_walkers",
    "valid_homes",
    "walk_options",
]

logger = logging.getLogger(__name__)

LonLat = tuple[float, float]


@dataclass
class Prepared:
    """What :func:`prepare_area_inputs` derives from an Area for the optimiser.

    ``drive`` holds the usable stops and then the workplaces as points on the drive graph, in
    the order of ``matrix``.
    """

    bus_riders: list[Rider]
    unserved: list[Unserved]
    districts: list[District]
    district_of: dict[str, str]
    stops: list[CandidateStop]
    options: dict[str, list[tuple[int, float]]]
    matrix: StopMatrix
    drive: Located
    workplaces: list[LonLat]
    candidate_count: int

    def workplace_points(self) -> dict[LonLat, int]:
        """Each workplace's point index in :attr:`drive`."""
        return {w: len(self.stops) + k for k, w in enumerate(self.workplaces)}


def valid_homes(riders: Sequence[Rider]) -> np.ndarray:
    """Whether each rider's home is a finite lon/lat in range (``routing.lonlat``)."""
    return valid_lonlat([r.lon for r in riders], [r.lat for r in riders])


def locate_homes(
    area: Area, riders: Sequence[Rider], *, settings: ShuttleSettings
) -> tuple[list[Rider], list[Unserved]]:
    """Riders whose home is on the map (within ``max_home_snap_m`` of a walk edge), and the
    others unserved ``off_map`` in every direction they ride, with the distance or why."""
    valid = valid_homes(riders)
    homes = locate_points(
        area,
        [r.lon if v else 0.0 for r, v in zip(riders, valid.tolist(), strict=True)],
        [r.lat if v else 0.0 for r, v in zip(riders, valid.tolist(), strict=True)],
        network="walk",
        max_distance=settings.max_home_snap_m,
    )
    placed: list[Rider] = []
    unserved: list[Unserved] = []
    for i, (r, ok) in enumerate(zip(riders, (valid & homes.ok).tolist(), strict=True)):
        if ok:
            placed.append(r)
            continue
        why = (
            "invalid coordinates"
            if not valid[i]
            else f"more than {settings.max_home_snap_m:.0f} m from any walkable street "
            f"({homes.points.distance[i]:.0f} m)"
        )
        unserved.extend(
            unserved_both_ways(r, "off_map", f"home ({r.lon}, {r.lat}): {why}", settings=settings)
        )
    return placed, unserved


def split_walkers(
    riders: Sequence[Rider], walk_to_work: Mapping[str, float], *, settings: ShuttleSettings
) -> tuple[list[Rider], list[Unserved]]:
    """Riders who need a bus, and those who can walk to work (``walks_to_work``, both ways)."""
    bus: list[Rider] = []
    walkers: list[Unserved] = []
    for r in riders:
        w = float(walk_to_work.get(r.id, np.inf))
        if w <= settings.max_walk_m:
            walkers.extend(
                unserved_both_ways(
                    r,
                    "walks_to_work",
                    f"lives {w:.0f} m from work on foot (max walk {settings.max_walk_m:.0f} m)",
                    settings=settings,
                )
            )
        else:
            bus.append(r)
    return bus, walkers


def locate_workplaces(
    area: Area, workplaces: Sequence[LonLat], settings: ShuttleSettings
) -> Located:
    """Workplaces on drive edges (a :class:`CoordinateError` when one is off the map)."""
    at = locate_points(
        area,
        [w[0] for w in workplaces],
        [w[1] for w in workplaces],
        network="drive",
        max_distance=settings.max_home_snap_m,
    )
    if not at.ok.all():
        k = int(np.flatnonzero(~at.ok)[0])
        msg = (
            f"Expected the workplace within {settings.max_home_snap_m:.0f} m of the drive "
            f"graph of {area.name!r}, got {workplaces[k]} ({at.points.distance[k]:.0f} m away)"
        )
        raise CoordinateError(msg)
    return at


def walk_options(
    area: Area,
    homes: Sequence[Rider],
    stops: Sequence[CandidateStop],
    workplaces: Sequence[LonLat],
    *,
    settings: ShuttleSettings,
) -> tuple[list[list[tuple[int, float]]], np.ndarray, np.ndarray]:
    """Walks on the walk graph: each home's stops within ``max_walk_m`` and walks to work.

    Returns ``(options, home_to_work, stop_to_work)``: per home the ``(stop index, metres)``
    within the maximum walk, and the walk metres (``inf`` beyond it) from each home and each
    stop to each workplace. Homes, stops and workplaces are located on the walk graph in one
    call; stops farther than the maximum walk from a walkable street reach nothing.
    """
    n_h, n_s = len(homes), len(stops)
    lon = [r.lon for r in homes] + [s.lon for s in stops] + [w[0] for w in workplaces]
    lat = [r.lat for r in homes] + [s.lat for s in stops] + [w[1] for w in workplaces]
    walk = locate_points(area, lon, lat, network="walk", max_distance=np.inf)
    limit = settings.max_walk_m
    h = np.arange(n_h)
    st = n_h + np.arange(n_s)
    wp = n_h + n_s + np.arange(len(workplaces))
    to_stop = walk.walks(h, st, limit=limit).tocsr()
    to_work = walk.walks(np.concatenate([h, st]), wp, limit=limit).toarray()
    to_work = np.where(to_work > 0, to_work, np.inf)
    options: list[list[tuple[int, float]]] = []
    for i in range(n_h):
        lo, hi = int(to_stop.indptr[i]), int(to_stop.indptr[i + 1])
        options.append(
            [
                (int(j), float(w))
                for j, w in zip(to_stop.indices[lo:hi], to_stop.data[lo:hi], strict=True)
            ]
        )
    return options, to_work[:n_h], to_work[n_h:]


def prepare_area_inputs(
    area: Area,
    riders: Sequence[Rider],
    workplace: LonLat,
    *,
    settings: ShuttleSettings,
    stops: Sequence[CandidateStop] | None = None,
) -> Prepared:
    """Locate, group and measure everything the optimiser needs on ``area``.

    Riders off the map are unserved (``off_map``) and riders who can walk to work are
    unserved ``walks_to_work``, both in every direction they ride; the others are
    ``bus_riders``. ``stops`` replaces the Area's candidate stops (they are placed on the
    drive graph where they are not already).
    """
    placed, unserved = locate_homes(area, riders, settings=settings)
    wps = sorted({r.workplace or workplace for r in riders})
    work = locate_workplaces(area, wps, settings)
    wcol = {w: k for k, w in enumerate(wps)}

    # Who walks to work; the others' districts and candidate stops.
    _, home_work, _ = walk_options(area, placed, [], wps, settings=settings)
    walk_of = {
        r.id: float(home_work[i, wcol[r.workplace or workplace]]) for i, r in enumerate(placed)
    }
    bus_riders, walkers = split_walkers(placed, walk_of, settings=settings)
    unserved.extend(walkers)
    districts, district_of = build_districts(area, bus_riders, settings=settings)
    all_stops = (
        place_stops(area, stops, settings=settings)
        if stops is not None
        else candidate_stops(area, districts, settings=settings)
    )
    options_list, _, stop_work = walk_options(area, bus_riders, all_stops, wps, settings=settings)
    near_work = np.isfinite(stop_work).any(axis=1) if len(all_stops) else np.zeros(0, bool)
    reached = np.zeros(len(all_stops), dtype=bool)
    for opts in options_list:
        for j, _ in opts:
            reached[j] = True
    usable = reached & ~near_work
    if (reached & near_work).any():
        logger.info(
            "%d candidate stops within walking distance of work dropped",
            int((reached & near_work).sum()),
        )
    new_index = np.cumsum(usable) - 1
    kept = [s for s, u in zip(all_stops, usable.tolist(), strict=True) if u]
    options = {
        r.id: [(int(new_index[j]), w) for j, w in opts if usable[j]]
        for r, opts in zip(bus_riders, options_list, strict=True)
    }

    ids = [s.id for s in kept] + [workplace_id(w) for w in wps]
    drive = locate_points(
        area,
        [s.lon for s in kept] + [float(work.points.lon[k]) for k in range(len(wps))],
        [s.lat for s in kept] + [float(work.points.lat[k]) for k in range(len(wps))],
        network="drive",
        max_distance=settings.max_stop_snap_m,
    )
    on_drive = np.array([s.edge >= 0 for s in kept] + [True] * len(wps), dtype=bool)
    matrix = drive.drive_matrix(ids)
    off = np.flatnonzero(~on_drive)
    if off.size:
        matrix.duration[off, :] = matrix.duration[:, off] = UNREACHABLE
        matrix.distance[off, :] = matrix.distance[:, off] = UNREACHABLE
        matrix.duration[off, off] = matrix.distance[off, off] = 0
    logger.info(
        "%d bus riders, %d districts, %d usable stops, matrix %d x %d",
        len(bus_riders),
        len(districts),
        len(kept),
        len(ids),
        len(ids),
    )
    return Prepared(
        bus_riders=bus_riders,
        unserved=unserved,
        districts=districts,
        district_of=district_of,
        stops=kept,
        options=options,
        matrix=matrix,
        drive=drive,
        workplaces=wps,
        candidate_count=len(all_stops),
    )


def place_stops(
    area: Area, stops: Sequence[CandidateStop], *, settings: ShuttleSettings
) -> list[CandidateStop]:
    """Given stops placed where the bus stops: on the nearest drive edge within
    ``max_stop_snap_m`` (``edge=-1`` and their own position otherwise), named."""
    if not stops:
        return []
    at = area.locate(
        [s.lon for s in stops],
        [s.lat for s in stops],
        network="drive",
        max_distance=settings.max_stop_snap_m,
    )
    placed = [
        replace(
            s, lon=round(float(at.lon[k]), 7), lat=round(float(at.lat[k]), 7), edge=int(at.edge[k])
        )
        if at.ok[k]
        else replace(s, edge=-1)
        for k, s in enumerate(stops)
    ]
    return name_stops(area, placed)
