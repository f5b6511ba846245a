"""Property tests: random instances planned, then checked independently — never a violation."""

from __future__ import annotations

import warnings

import numpy as np
from _synthetic import make_instance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.shuttle import (
    BusType,
    Fleet,
    Rider,
    ShuttleSettings,
    ShuttleWarning,
    check_plan,
    plan_shuttles,
    sample_workplace,
)

fleets = st.builds(
    lambda a, b, s1, s2: Fleet(
        (BusType("small", s1, a, 200, 2, 50), BusType("big", s2, b, 350, 3, 70))
    ),
    st.integers(0, 3),
    st.integers(0, 2),
    st.integers(1, 30),
    st.integers(20, 60),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_riders=st.integers(1, 40),
    n_stops=st.integers(1, 6),
    unreachable=st.integers(0, 1),
    seed=st.integers(0, 10_000),
    fleet=fleets,
    dwell=st.integers(0, 60),
    boarding=st.integers(0, 10),
    deadline_min=st.integers(5 * 60 + 10, 9 * 60),
    limits=st.lists(st.one_of(st.none(), st.integers(60, 3600)), min_size=1, max_size=3),
    margin=st.integers(0, 300),
    shifts=st.lists(st.integers(0, 90), min_size=1, max_size=3),
    evening=st.lists(st.one_of(st.none(), st.integers(16 * 60, 19 * 60)), min_size=1, max_size=3),
    max_lines=st.integers(0, 3),
    turnaround=st.integers(0, 900),
)
def test_random_synthetic_plans_pass_the_checker(
    n_riders: int,
    n_stops: int,
    unreachable: int,
    seed: int,
    fleet: Fleet,
    dwell: int,
    boarding: int,
    deadline_min: int,
    limits: list[int | None],
    margin: int,
    shifts: list[int],
    evening: list[int | None],
    max_lines: int,
    turnaround: int,
) -> None:
    """Every rider served once per direction or reported, seats, deadlines, ride limits,
    walks, timetables, every bus's chained trips, caps: with several shift starts, rides home
    for some riders and sometimes a line cap."""
    inst = make_instance(
        n_riders,
        n_stops,
        seed=seed,
        limits_s=limits,
        unreachable_stops=min(unreachable, n_stops),
        shifts=[deadline_min * 60 - 60 * k for k in shifts],
        evening=[e * 60 if e is not None else None for e in evening],
    )
    s = ShuttleSettings(
        time_limit_s=0.1,
        max_walk_m=500,
        dwell_s=dwell,
        boarding_s=boarding,
        deadline=f"{deadline_min // 60:02d}:{deadline_min % 60:02d}",
        arrival_margin_s=margin,
        seed=seed % 7,
        max_lines=max_lines,
        turnaround_s=turnaround,
        earliest_departure="03:00",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShuttleWarning)
        plan = inst.plan(fleet, s)
    assert inst.check(plan) == []
    needed = sum(1 + (r.evening_departure is not None) for r in inst.riders)
    assert len(plan.assignments) + len(plan.unserved) == needed
    assert plan.kpis["buses"] <= fleet.total_buses


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 60),
    seed=st.integers(0, 10_000),
    fleet=fleets,
    walk=st.integers(150, 700),
    short_share=st.floats(0, 0.5),
)
def test_random_helsinki_plans_pass_the_checker(
    helsinki_area,
    n: int,
    seed: int,
    fleet: Fleet,
    walk: int,
    short_share: float,  # type: ignore[no-untyped-def]
) -> None:
    """On the Helsinki graphs, with some homes off the map, plans keep every rule."""
    rng = np.random.default_rng(seed)
    lo0, la0, lo1, la1 = helsinki_area.bounds
    pad = 0.004
    lon = rng.uniform(lo0 - pad, lo1 + pad, n)
    lat = rng.uniform(la0 - pad, la1 + pad, n)
    riders = [
        Rider(
            f"h{i}",
            float(lon[i]),
            float(lat[i]),
            max_ride_s=int(rng.integers(120, 900)) if rng.random() < short_share else None,
        )
        for i in range(n)
    ]
    s = ShuttleSettings(time_limit_s=0.2, max_walk_m=walk, seed=seed % 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ShuttleWarning)
        plan = plan_shuttles(
            helsinki_area, riders, fleet, sample_workplace(helsinki_area, riders=riders), settings=s
        )
    assert check_plan(plan, helsinki_area) == []
    assert len(plan.assignments) + len(plan.unserved) == n
