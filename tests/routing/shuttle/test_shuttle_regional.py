"""Regional scale: 7,000 riders across Liechtenstein, planned and checked independently."""

from __future__ import annotations

import pytest

from routing import load_area
from routing.shuttle import (
    BusType,
    Fleet,
    ShuttleSettings,
    check_plan,
    plan_shuttles,
    sample_riders,
    sample_workplace,
)
from tests.conftest import shared_osm


@pytest.mark.slow
def test_seven_thousand_riders_planned_and_checked() -> None:
    """7,000 riders (5% with a 30-minute limit) on two shifts, to work and home, get trips on
    buses that pass the checker; buses run several trips."""
    from dataclasses import replace

    area = load_area(shared_osm("liechtenstein.osm.pbf"))
    riders = [
        replace(r, deadline=(7 * 3600 + 30 * 60) if i % 2 else None)
        for i, r in enumerate(sample_riders(area, 7000, seed=1))
    ]
    fleet = Fleet((BusType("bus30", 30, 140, 450, 3, 100), BusType("bus50", 50, 120, 600, 4, 120)))
    wp = sample_workplace(area, riders=riders)
    settings = ShuttleSettings(time_limit_s=30, evening_departure="17:00")
    plan = plan_shuttles(area, riders, fleet, wp, settings=settings)
    assert check_plan(plan, area) == []
    k = plan.kpis
    assert k["riders"] == 14_000 and k["people"] == 7000
    # Everyone who can walk to a stop is served; the rest are reported with a reason.
    expected = {"too_far_to_walk", "unreachable", "off_map", "walks_to_work"}
    assert set(k["unserved_by_reason"]) <= expected
    assert k["riders_served"] > 12_000
    assert k["buses"] < k["trips"] and k["buses"] <= fleet.total_buses
