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
    """7,000 riders (5% with a 30-minute limit) get lines that pass the checker."""
    area = load_area(shared_osm("liechtenstein.osm.pbf"))
    riders = sample_riders(area, 7000, seed=1)
    fleet = Fleet((BusType("bus30", 30, 140, 450, 3, 100), BusType("bus50", 50, 120, 600, 4, 120)))
    plan = plan_shuttles(
        area, riders, fleet, sample_workplace(area), settings=ShuttleSettings(time_limit_s=15)
    )
    assert check_plan(plan, area) == []
    k = plan.kpis
    assert k["riders"] == 7000
    # Everyone who can walk to a stop is served; the rest are reported with a reason.
    assert set(k["unserved_by_reason"]) <= {"too_far_to_walk", "unreachable", "off_map"}
    assert k["riders_served"] > 6500
    assert 100 <= k["lines"] <= 260
