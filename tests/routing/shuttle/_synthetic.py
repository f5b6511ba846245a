"""Synthetic shuttle instances (no graph): stops on a plane, drive times from distances."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.shuttle import (
    BusType,
    CandidateStop,
    Fleet,
    Plan,
    Rider,
    ShuttleSettings,
    StopMatrix,
    check_plan,
    plan_from_matrix,
    workplace_id,
)
from routing.shuttle.check import Violation

ORIGIN = (121.50, 38.85)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Metres east/north of ORIGIN to lon/lat (good enough for a test plane)."""
    return (round(ORIGIN[0] + x / 86_700.0, 7), round(ORIGIN[1] + y / 111_000.0, 7))


@dataclass
class Instance:
    riders: list[Rider]
    stops: list[CandidateStop]
    matrix: StopMatrix
    walk: dict[tuple[str, str], float]
    workplace: tuple[float, float]
    district_of: dict[str, str]

    def plan(self, fleet: Fleet, settings: ShuttleSettings) -> Plan:
        return plan_from_matrix(
            self.riders,
            self.stops,
            self.matrix,
            self.walk,
            fleet,
            workplace=self.workplace,
            settings=settings,
            district_of=self.district_of,
        )

    def check(self, plan: Plan) -> list[Violation]:
        wps = {self.workplace: workplace_id(self.workplace)}
        for r in self.riders:
            if r.workplace:
                wps[r.workplace] = workplace_id(r.workplace)
        return check_plan(plan, matrix=self.matrix, walk=self.walk, workplace_ids=wps)


def make_instance(
    n_riders: int,
    n_stops: int,
    *,
    seed: int = 0,
    size_m: float = 10_000.0,
    speed_mps: float = 8.0,
    walk_m: float = 500.0,
    limits_s: list[int | None] | None = None,
    unreachable_stops: int = 0,
    deadline: int | None = None,
    shifts: list[int] | None = None,
    evening: list[int | None] | None = None,
    walk_to_work: float | None = None,
) -> Instance:
    """Stops uniformly in a square, riders within ``walk_m`` of a random stop, work south.

    The last ``unreachable_stops`` stops cannot be reached by road. Rider ``i`` gets the
    deadline ``shifts[i % len(shifts)]`` (else ``deadline``) and the evening departure
    ``evening[i % len(evening)]``; with ``walk_to_work`` every rider's walk to work is that
    distance times 1.2 times their straight distance (in metres) to the workplace.
    """
    rng = np.random.default_rng(seed)
    sxy = rng.uniform(0, size_m, size=(n_stops, 2))
    wxy = np.array([size_m / 2, -2000.0])
    stops = [
        CandidateStop(f"S{k}", *lonlat(*sxy[k]), edge=-1, source="given") for k in range(n_stops)
    ]
    workplace = lonlat(*wxy)
    pts = np.vstack([sxy, wxy[None, :]])
    d = np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(-1)) * 1.3
    dist = np.rint(d).astype(np.int64)
    dur = np.rint(d / speed_mps).astype(np.int64)
    from routing.shuttle.matrix import UNREACHABLE

    for k in range(n_stops - unreachable_stops, n_stops):
        dur[k, :] = dur[:, k] = UNREACHABLE
        dist[k, :] = dist[:, k] = UNREACHABLE
        dur[k, k] = dist[k, k] = 0
    ids = (*(s.id for s in stops), workplace_id(workplace))
    matrix = StopMatrix(ids, dur, dist)
    riders: list[Rider] = []
    walk: dict[tuple[str, str], float] = {}
    district_of: dict[str, str] = {}
    for i in range(n_riders):
        home_stop = int(rng.integers(n_stops))
        ang = rng.uniform(0, 2 * np.pi)
        rad = rng.uniform(0, walk_m * 0.6)
        hxy = sxy[home_stop] + rad * np.array([np.cos(ang), np.sin(ang)])
        lim = limits_s[i % len(limits_s)] if limits_s else None
        r = Rider(
            f"R{i}",
            *lonlat(*hxy),
            max_ride_s=lim,
            deadline=shifts[i % len(shifts)] if shifts else deadline,
            evening_departure=evening[i % len(evening)] if evening else None,
        )
        riders.append(r)
        district_of[r.id] = f"D{home_stop}"
        if walk_to_work is not None:
            walk[(r.id, workplace_id(workplace))] = walk_to_work * float(np.hypot(*(hxy - wxy)))
        for k in range(n_stops):
            w = float(np.hypot(*(hxy - sxy[k]))) * 1.2
            if w <= walk_m:
                walk[(r.id, stops[k].id)] = round(w, 1)
    return Instance(riders, stops, matrix, walk, workplace, district_of)


def fleet(n30: int = 5, n50: int = 5) -> Fleet:
    """30- and 50-seat buses."""
    return Fleet(
        (
            BusType("bus30", 30, n30, fixed_cost=300.0, cost_per_km=3.0, cost_per_hour=60.0),
            BusType("bus50", 50, n50, fixed_cost=400.0, cost_per_km=4.0, cost_per_hour=70.0),
        )
    )
