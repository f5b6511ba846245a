"""The optimiser on synthetic instances (drive matrix and walks given, no graph)."""

from __future__ import annotations

import pytest
from _synthetic import fleet, make_instance

from routing.shuttle import BusType, Fleet, ShuttleSettings, ShuttleWarning

FAST = ShuttleSettings(time_limit_s=0.5, max_walk_m=500)


def test_everyone_served_with_enough_buses() -> None:
    """With plenty of buses every rider is served and the independent checker finds nothing."""
    inst = make_instance(120, 12, seed=1)
    plan = inst.plan(fleet(), FAST)
    assert plan.kpis["riders_served"] == 120
    assert not plan.unserved
    assert inst.check(plan) == []


def test_plan_accounts_for_every_rider_once() -> None:
    """Assignments and unserved together list each rider exactly once, in input order."""
    inst = make_instance(60, 8, seed=2)
    plan = inst.plan(fleet(1, 0), FAST)
    ids = [a.rider_id for a in plan.assignments] + [u.rider_id for u in plan.unserved]
    assert sorted(ids) == sorted(r.id for r in inst.riders)
    assert inst.check(plan) == []


def test_fleet_too_small_reported() -> None:
    """One 30-seat bus for 80 riders: 30 at most served, the rest fleet_too_small."""
    inst = make_instance(80, 6, seed=3)
    plan = inst.plan(fleet(1, 0), FAST)
    assert plan.kpis["riders_served"] <= 30
    assert plan.kpis["riders_served"] > 0
    reasons = plan.unserved_by_reason()
    assert reasons == {"fleet_too_small": 80 - plan.kpis["riders_served"]}
    assert inst.check(plan) == []


def test_zero_buses_reports_everyone() -> None:
    """A fleet without buses warns and reports every rider fleet_too_small (no crash)."""
    inst = make_instance(10, 3, seed=4)
    with pytest.warns(ShuttleWarning, match="no buses"):
        plan = inst.plan(fleet(0, 0), FAST)
    assert plan.lines == ()
    assert plan.unserved_by_reason() == {"fleet_too_small": 10}


def test_demand_above_bus_size_is_split() -> None:
    """140 riders at one stop ride several buses, none over its seats."""
    inst = make_instance(140, 1, seed=5)
    plan = inst.plan(fleet(2, 3), FAST)
    assert plan.kpis["riders_served"] == 140
    assert len(plan.lines) >= 3
    assert inst.check(plan) == []


def test_ride_limit_shorter_than_direct_drive() -> None:
    """A rider whose limit is below the direct drive is reported with that reason."""
    inst = make_instance(6, 3, seed=6, limits_s=[60, None])
    plan = inst.plan(fleet(), FAST)
    reasons = {u.rider_id: u.reason for u in plan.unserved}
    for r in inst.riders:
        if r.max_ride_s == 60:
            assert reasons[r.id] == "ride_limit_shorter_than_direct_drive"
        else:
            assert r.id not in reasons
    assert inst.check(plan) == []


def test_short_ride_limits_are_kept_exactly() -> None:
    """Riders with a 20-minute limit ride at most 20 minutes; others at most 60."""
    inst = make_instance(90, 10, seed=7, limits_s=[20 * 60, None, None])
    plan = inst.plan(fleet(), FAST)
    limits = {r.id: r.max_ride_s or 3600 for r in inst.riders}
    for a in plan.assignments:
        assert a.ride_s <= limits[a.rider_id]
    assert inst.check(plan) == []


def test_deadline_too_early() -> None:
    """A deadline a minute after the earliest departure leaves riders deadline_too_early."""
    inst = make_instance(5, 2, seed=8, deadline=5 * 3600 + 60)
    plan = inst.plan(fleet(), FAST)
    assert plan.unserved_by_reason() == {"deadline_too_early": 5}


def test_unreachable_stop() -> None:
    """Riders who can only walk to a stop with no road to work are unreachable."""
    inst = make_instance(30, 3, seed=9, unreachable_stops=3)
    plan = inst.plan(fleet(), FAST)
    assert plan.unserved_by_reason() == {"unreachable": 30}


def test_too_far_to_walk() -> None:
    """A rider with no stop within the walking limit is reported too_far_to_walk."""
    inst = make_instance(10, 4, seed=10)
    inst.walk = {k: v for k, v in inst.walk.items() if k[0] != "R0"}
    plan = inst.plan(fleet(), FAST)
    assert [(u.rider_id, u.reason) for u in plan.unserved] == [("R0", "too_far_to_walk")]


def test_arrival_at_deadline_and_no_idling() -> None:
    """Buses arrive exactly at the deadline and never wait at a stop beyond dwell and boarding."""
    inst = make_instance(50, 6, seed=11)
    s = FAST.replace(arrival_margin_s=120)
    plan = inst.plan(fleet(), s)
    for ln in plan.lines:
        assert ln.arrival_s == s.deadline_s - 120
        for v in ln.stops:
            assert v.departure_s - v.arrival_s == s.dwell_s + s.boarding_s * v.boarding


def test_one_stop_per_district_catchment() -> None:
    """Riders of one district who can all walk to two stops are picked up at one of them."""
    inst = make_instance(1, 2, seed=12)
    # Put both stops next to each other and make every rider able to walk to both.
    riders = [
        inst.riders[0].__class__(f"R{i}", inst.riders[0].lon, inst.riders[0].lat) for i in range(8)
    ]
    inst.riders = riders
    inst.walk = {(r.id, s.id): 100.0 + 10 * k for r in riders for k, s in enumerate(inst.stops)}
    inst.district_of = {r.id: "D" for r in riders}
    plan = inst.plan(fleet(), FAST)
    assert plan.kpis["riders_served"] == 8
    assert len({a.stop_id for a in plan.assignments}) == 1
    assert inst.check(plan) == []


def test_waves_for_two_deadlines_share_the_fleet() -> None:
    """Riders with two deadlines form two waves; no bus type is used more than it has buses."""
    inst = make_instance(60, 6, seed=13)
    riders = [
        r.__class__(r.id, r.lon, r.lat, deadline=(8 if i % 2 else 9) * 3600)
        for i, r in enumerate(inst.riders)
    ]
    inst.riders = riders
    plan = inst.plan(fleet(2, 2), FAST)
    assert len(plan.meta["waves"]) == 2
    assert {ln.deadline_s for ln in plan.lines} <= {8 * 3600, 9 * 3600}
    assert inst.check(plan) == []


def test_same_seed_same_plan() -> None:
    """Equal inputs, seed and iteration cap give equal plans, however busy the machine."""
    inst = make_instance(150, 15, seed=14)
    settings = ShuttleSettings(time_limit_s=60, max_walk_m=500, seed=3, max_iterations=300)
    a = inst.plan(fleet(), settings)
    b = inst.plan(fleet(), settings)
    assert a.assignments == b.assignments
    assert a.lines == b.lines
    assert a.meta["waves"][0]["iterations"] <= 302


def test_bus_costs_prefer_cheaper_bus() -> None:
    """For 25 riders at one stop, a cheaper 30-seat bus is chosen over a dear 50-seat one."""
    inst = make_instance(25, 1, seed=15)
    f = Fleet((BusType("small", 30, 1, fixed_cost=100), BusType("big", 50, 1, fixed_cost=900)))
    plan = inst.plan(f, FAST)
    assert [ln.bus_type for ln in plan.lines] == ["small"]


def test_empty_rider_list_is_an_error() -> None:
    """Planning for nobody is a clear input error."""
    from routing.shuttle import ShuttleInputError

    inst = make_instance(1, 1, seed=16)
    inst.riders = []
    with pytest.raises(ShuttleInputError, match="at least one rider"):
        inst.plan(fleet(), FAST)


def test_slow_boarding_splits_groups_to_keep_ride_limits() -> None:
    """If boarding 40 riders would break their limit, they ride in smaller groups, all served."""
    inst = make_instance(40, 1, seed=17)
    travel = int(inst.matrix.duration[0, 1])
    s = FAST.replace(boarding_s=30, dwell_s=20)
    limit = travel + 20 + 12 * 30  # room for 12 boardings on a direct trip
    inst.riders = [r.__class__(r.id, r.lon, r.lat, max_ride_s=limit) for r in inst.riders]
    plan = inst.plan(fleet(10, 0), s)
    assert plan.kpis["riders_served"] == 40
    assert max(a.ride_s for a in plan.assignments) <= limit
    assert inst.check(plan) == []
