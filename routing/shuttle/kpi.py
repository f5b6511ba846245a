"""Key figures of a plan: buses, vehicle-km and -hours, ride and walk times, seats, cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .model import Assignment, Fleet, Line, Unserved

__all__ = ["compute_kpis"]


def _stats(values: Sequence[float], scale: float = 1.0, digits: int = 1) -> dict[str, Any]:
    if not values:
        return {"mean": None, "p95": None, "max": None}
    a = np.asarray(values, dtype=float) / scale
    return {
        "mean": round(float(a.mean()), digits),
        "p95": round(float(np.percentile(a, 95)), digits),
        "max": round(float(a.max()), digits),
    }


def compute_kpis(
    lines: Sequence[Line],
    assignments: Sequence[Assignment],
    unserved: Sequence[Unserved],
    fleet: Fleet | None = None,
) -> dict[str, Any]:
    """KPIs of a set of lines (planned or evaluated), JSON-friendly.

    Keys: ``lines``, ``buses_by_type``, ``vehicle_km``, ``vehicle_hours``, ``riders``,
    ``riders_served``, ``riders_unserved``, ``unserved_by_reason``, ``ride_min`` and
    ``walk_m`` (each ``mean`` / ``p95`` / ``max``), ``seats``, ``seat_utilisation`` (riders
    over seats of the buses used), ``max_load_factor``, ``total_cost`` and ``cost_per_rider``.
    Costs need ``fleet`` (otherwise taken from each line's ``cost``).
    """
    by_type: dict[str, int] = {}
    seats = 0
    max_lf = 0.0
    cost = 0.0
    for ln in lines:
        by_type[ln.bus_type] = by_type.get(ln.bus_type, 0) + 1
        bus_seats = 0
        if fleet is not None:
            try:
                bus = fleet[ln.bus_type]
            except KeyError:
                bus = None
            if bus is not None:
                bus_seats = bus.seats
                cost += bus.trip_cost(ln.distance_m, ln.duration_s)
            else:
                cost += ln.cost
        else:
            cost += ln.cost
        seats += bus_seats
        if bus_seats:
            peak = max((v.load_after for v in ln.stops), default=0)
            max_lf = max(max_lf, peak / bus_seats)
    reasons: dict[str, int] = {}
    for u in unserved:
        reasons[u.reason] = reasons.get(u.reason, 0) + 1
    served = len(assignments)
    total = served + len(unserved)
    return {
        "lines": len(lines),
        "buses_by_type": dict(sorted(by_type.items())),
        "vehicle_km": round(sum(ln.distance_m for ln in lines) / 1000.0, 2),
        "vehicle_hours": round(sum(ln.duration_s for ln in lines) / 3600.0, 2),
        "riders": total,
        "riders_served": served,
        "riders_unserved": len(unserved),
        "share_served": round(served / total, 4) if total else None,
        "unserved_by_reason": dict(sorted(reasons.items())),
        "stops_served": len({v.stop_id for ln in lines for v in ln.stops}),
        "ride_min": _stats([a.ride_s for a in assignments], 60.0),
        "walk_m": _stats([a.walk_m for a in assignments], 1.0, 0),
        "seats": seats,
        "seat_utilisation": round(served / seats, 4) if seats else None,
        "max_load_factor": round(max_lf, 4),
        "total_cost": round(cost, 2),
        "cost_per_rider": round(cost / served, 2) if served else None,
    }
