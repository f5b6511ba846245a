"""Key figures of a plan: buses and trips, vehicle-km and -hours, rides, walks, seats, cost;
and :func:`assemble_plan`, which puts a plan together with its KPIs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .model import (
    DIRECTIONS,
    Assignment,
    CandidateStop,
    District,
    Fleet,
    Line,
    Plan,
    Rider,
    Unserved,
    Vehicle,
    bus_types_of,
)
from .settings import ShuttleSettings

__all__ = ["assemble_plan", "compute_kpis"]


def _stats(values: Sequence[float], scale: float = 1.0, digits: int = 1) -> dict[str, Any]:
    if not values:
        return {"mean": None, "p95": None, "max": None}
    a = np.asarray(values, dtype=float) / scale
    return {
        "mean": round(float(a.mean()), digits),
        "p95": round(float(np.percentile(a, 95)), digits),
        "max": round(float(a.max()), digits),
    }


def _count(items: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for k in items:
        out[k] = out.get(k, 0) + 1
    return dict(sorted(out.items()))


def compute_kpis(
    lines: Sequence[Line],
    assignments: Sequence[Assignment],
    unserved: Sequence[Unserved],
    fleet: Fleet | None = None,
    vehicles: Sequence[Vehicle] = (),
) -> dict[str, Any]:
    """KPIs of a set of trips (planned or evaluated), JSON-friendly.

    Buses and trips: ``buses`` (vehicles; each trip is its own bus when ``vehicles`` is
    empty), ``buses_by_type``, ``trips`` (= ``lines``), ``trips_by_type``, ``trips_per_bus``;
    ``vehicle_km`` and ``vehicle_hours`` (trips plus empty runs between them),
    ``deadhead_km``, ``deadhead_hours``. Rides count per rider and direction (a rider going
    to work and home counts twice): ``riders`` (rides asked for), ``riders_served``,
    ``riders_unserved`` (walkers included), ``walkers`` (riders who walk to work),
    ``share_served`` (of the rides that need a bus), ``unserved_by_reason``, ``people``
    (distinct riders); ``ride_min`` and ``walk_m`` (each ``mean`` / ``p95`` / ``max``);
    ``by_direction`` gives trips, rides and ride times per direction. ``seats`` and
    ``seat_utilisation`` (rides over the seats of the trips), ``max_load_factor``;
    ``total_cost`` (a fixed cost per bus plus the running cost of all driving, needs
    ``fleet``; otherwise the lines' own costs) and ``cost_per_rider`` (per ride).
    """
    seats_of = {t.name: t for t in fleet} if fleet is not None else {}
    seats = 0
    max_lf = 0.0
    running = 0.0
    for ln in lines:
        bus = seats_of.get(ln.bus_type)
        if bus is not None:
            seats += bus.seats
            running += bus.running_cost(ln.distance_m, ln.duration_s)
            peak = max((v.load_after for v in ln.stops), default=0)
            if not ln.to_work:
                peak = ln.riders
            if bus.seats:
                max_lf = max(max_lf, peak / bus.seats)
        else:
            running += ln.cost
    deadhead_m = sum(sum(v.deadhead_m) for v in vehicles)
    deadhead_s = sum(sum(v.deadhead_s) for v in vehicles)
    fixed = 0.0
    for v in vehicles:
        bus = seats_of.get(v.bus_type)
        if bus is not None:
            running += bus.running_cost(sum(v.deadhead_m), sum(v.deadhead_s))
    bus_types = bus_types_of(lines, vehicles)
    for name in bus_types:
        bus = seats_of.get(name)
        fixed += bus.fixed_cost if bus is not None else 0.0
    served = len(assignments)
    total = served + len(unserved)
    walkers = sum(1 for u in unserved if u.reason == "walks_to_work")
    by_direction: dict[str, Any] = {}
    for d in DIRECTIONS:
        d_lines = [ln for ln in lines if ln.direction == d]
        d_asg = [a for a in assignments if a.direction == d]
        d_un = [u for u in unserved if u.direction == d]
        if not (d_lines or d_asg or d_un):
            continue
        by_direction[d] = {
            "trips": len(d_lines),
            "riders": len(d_asg) + len(d_un),
            "riders_served": len(d_asg),
            "riders_unserved": len(d_un),
            "unserved_by_reason": _count([u.reason for u in d_un]),
            "ride_min": _stats([a.ride_s for a in d_asg], 60.0),
            "vehicle_km": round(sum(ln.distance_m for ln in d_lines) / 1000.0, 2),
        }
    cost = fixed + running
    n_buses = len(bus_types)
    return {
        "lines": len(lines),
        "trips": len(lines),
        "buses": n_buses,
        "buses_by_type": _count(bus_types),
        "trips_by_type": _count([ln.bus_type for ln in lines]),
        "trips_per_bus": round(len(lines) / n_buses, 2) if n_buses else None,
        "vehicle_km": round((sum(ln.distance_m for ln in lines) + deadhead_m) / 1000.0, 2),
        "vehicle_hours": round((sum(ln.duration_s for ln in lines) + deadhead_s) / 3600.0, 2),
        "deadhead_km": round(deadhead_m / 1000.0, 2),
        "deadhead_hours": round(deadhead_s / 3600.0, 2),
        "riders": total,
        "people": len({a.rider_id for a in assignments} | {u.rider_id for u in unserved}),
        "riders_served": served,
        "riders_unserved": len(unserved),
        "walkers": walkers,
        "share_served": round(served / (total - walkers), 4) if total > walkers else None,
        "unserved_by_reason": _count([u.reason for u in unserved]),
        "by_direction": by_direction,
        "stops_served": len({v.stop_id for ln in lines for v in ln.stops}),
        "ride_min": _stats([a.ride_s for a in assignments], 60.0),
        "walk_m": _stats([a.walk_m for a in assignments], 1.0, 0),
        "seats": seats,
        "seat_utilisation": round(served / seats, 4) if seats else None,
        "max_load_factor": round(max_lf, 4),
        "fixed_cost": round(fixed, 2),
        "running_cost": round(running, 2),
        "total_cost": round(cost, 2),
        "cost_per_rider": round(cost / served, 2) if served else None,
    }


def assemble_plan(
    lines: Sequence[Line],
    assignments: Sequence[Assignment],
    unserved: Sequence[Unserved],
    *,
    riders: Sequence[Rider],
    fleet: Fleet,
    settings: ShuttleSettings,
    workplace: tuple[float, float],
    stops: Sequence[CandidateStop],
    vehicles: Sequence[Vehicle] = (),
    area: str = "",
    meta: dict[str, Any] | None = None,
    districts: Sequence[District] = (),
) -> Plan:
    """A :class:`Plan` with its KPIs, assignments and unserved riders in rider order (to work
    before home)."""
    order = {r.id: i for i, r in enumerate(riders)}
    rank = {d: i for i, d in enumerate(DIRECTIONS)}
    asg = sorted(assignments, key=lambda a: (order[a.rider_id], rank[a.direction]))
    left = sorted(unserved, key=lambda u: (order[u.rider_id], rank[u.direction]))
    return Plan(
        lines=tuple(lines),
        vehicles=tuple(vehicles),
        assignments=tuple(asg),
        unserved=tuple(left),
        kpis=compute_kpis(lines, asg, left, fleet, vehicles),
        settings=settings,
        workplace=workplace,
        deadline=settings.deadline_s,
        riders=tuple(riders),
        fleet=fleet,
        stops=tuple(stops),
        area=area,
        meta=dict(meta or {}),
        districts=tuple(districts),
    )
