"""Plans for the export, GTFS and redesign tests: synthetic ones from the model classes, and
one solved on the sample area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shapely.geometry import LineString

from routing.shuttle.model import (
    Assignment,
    BusType,
    Fleet,
    Line,
    Plan,
    Rider,
    StopVisit,
    Unserved,
)
from routing.shuttle.settings import ShuttleSettings

if TYPE_CHECKING:
    from routing.area import Area

WORK = (121.5201, 38.8803)
DEADLINE = 8 * 3600 + 30 * 60


def make_fleet() -> Fleet:
    """Two bus types, 30 and 50 seats."""
    return Fleet(
        (
            BusType("bus30", 30, 4, fixed_cost=450.0, cost_per_km=3.0, cost_per_hour=100.0),
            BusType("bus50", 50, 2, fixed_cost=600.0, cost_per_km=4.0, cost_per_hour=120.0),
        )
    )


def make_plan(*, late_arrival: int = 0, with_path: bool = True) -> Plan:
    """Two lines (one with a driven path, one without), six riders served, two unserved.

    Stop names use Chinese script so UTF-8 handling is exercised.
    """
    settings = ShuttleSettings()
    fleet = make_fleet()
    arrival = DEADLINE + late_arrival
    a = (
        StopVisit("S1", 121.4801, 38.8601, arrival - 1500, arrival - 1458, 2, 2, "黄浦路站"),
        StopVisit("S2", 121.4902, 38.8655, arrival - 1100, arrival - 1054, 2, 4, "七贤岭"),
    )
    b = (StopVisit("S3", 121.5502, 38.9001, arrival - 900, arrival - 862, 2, 2, ""),)
    path = (
        LineString([(121.4801, 38.8601), (121.4850, 38.8630), (121.4902, 38.8655), WORK])
        if with_path
        else None
    )
    lines = (
        Line(
            "L001",
            "bus30",
            a,
            9800.0,
            1500,
            WORK,
            arrival,
            DEADLINE,
            cost=fleet["bus30"].trip_cost(9800.0, 1500),
            path=path,
        ),
        Line(
            "L002",
            "bus50",
            b,
            6100.5,
            900,
            WORK,
            arrival,
            DEADLINE,
            cost=fleet["bus50"].trip_cost(6100.5, 900),
        ),
    )
    assignments = (
        Assignment("r1", "L001", "S1", 120.5, arrival - 1500, arrival),
        Assignment("r2", "L001", "S1", 300.0, arrival - 1500, arrival),
        Assignment("r3", "L001", "S2", 80.0, arrival - 1100, arrival),
        Assignment("r4", "L001", "S2", 410.2, arrival - 1100, arrival),
        Assignment("r5", "L002", "S3", 15.0, arrival - 900, arrival),
        Assignment("r6", "L002", "S3", 550.0, arrival - 900, arrival),
    )
    unserved = (
        Unserved("r7", "too_far_to_walk", "no candidate stop within 600 m walk of the home"),
        Unserved("r8", "fleet_too_small"),
    )
    riders = tuple(Rider(f"r{i}", 121.48 + 0.01 * i, 38.86 + 0.004 * i) for i in range(1, 9))
    from routing.shuttle.kpi import compute_kpis

    kpis = compute_kpis(lines, assignments, unserved, fleet)
    return Plan(
        lines=lines,
        assignments=assignments,
        unserved=unserved,
        kpis=kpis,
        settings=settings,
        workplace=WORK,
        deadline=DEADLINE,
        riders=riders,
        fleet=fleet,
        area="synthetic",
        meta={"solver": "synthetic", "runtime_s": 0.0},
    )


def solve_sample_plan(area: Area, *, seed: int, evening: str = "") -> Plan:
    """A real plan: 40 sample riders of ``area`` solved for half a second (``evening``: the
    departure home, for a plan of both directions)."""
    from routing.shuttle.plan import plan_shuttles
    from routing.shuttle.sample import sample_fleet, sample_riders, sample_workplace

    riders = sample_riders(area, 40, seed=seed)
    return plan_shuttles(
        area,
        riders,
        sample_fleet(40),
        sample_workplace(area, riders=riders),
        settings=ShuttleSettings(time_limit_s=0.5, evening_departure=evening),
    )
