"""Warm start: planning from given lines (``initial_routes``) and re-optimising from a plan."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from _synthetic import Instance, fleet, make_instance

if TYPE_CHECKING:
    from routing import Area
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.shuttle import BusType, Fleet, Plan, ShuttleSettings, check_plan, plan_from_matrix
from routing.shuttle._clients import chunk_sizes, packing_piece
from routing.shuttle.plan import InitialRoute, plan_shuttles, routes_of_plan
from routing.shuttle.redesign import lines_from_plan, reoptimise
from routing.shuttle.sample import sample_riders, sample_workplace


def _replan(inst: Instance, plan: Plan, s: ShuttleSettings, routes: list[InitialRoute]) -> Plan:
    return plan_from_matrix(
        inst.riders,
        inst.stops,
        inst.matrix,
        inst.walk,
        plan.fleet or fleet(),
        workplace=inst.workplace,
        settings=s,
        district_of=inst.district_of,
        initial_routes=routes,
    )


def _objective(plan: Plan, s: ShuttleSettings) -> float:
    return float(plan.kpis["total_cost"]) + s.unserved_penalty * plan.kpis["riders_unserved"]


def test_routes_of_plan_lists_every_assignment_once_in_boarding_order() -> None:
    """routes_of_plan gives each served rider once, on their line and stop, by boarding time."""
    inst = make_instance(120, 15, seed=4, limits_s=[None, None, 1800])
    plan = inst.plan(fleet(), ShuttleSettings(max_iterations=200, time_limit_s=30))
    routes = routes_of_plan(plan)
    seen = [rid for _, visits, _ in routes for _, rids in visits for rid in rids]
    assert sorted(seen) == sorted(a.rider_id for a in plan.assignments)
    assert {d for *_, d in routes} == {"to_work"}
    board = {a.rider_id: a.board_time_s for a in plan.assignments}
    for _, visits, _ in routes:
        for _, rids in visits:
            assert [board[r] for r in rids] == sorted(board[r] for r in rids)
    first = plan.lines[0].id
    assert len(routes_of_plan(plan, skip_lines=[first])) == len(routes) - 1
    assert routes_of_plan(plan, riders=[]) == []


def test_warm_start_from_a_plan_with_no_search_reproduces_it() -> None:
    """With one iteration, starting from a plan gives back its lines, riders and cost."""
    inst = make_instance(150, 20, seed=7, limits_s=[None, 1800])
    s = ShuttleSettings(max_iterations=300, time_limit_s=30)
    plan = inst.plan(fleet(8, 8), s)
    again = _replan(inst, plan, replace(s, max_iterations=1), routes_of_plan(plan))
    assert inst.check(again) == []
    assert again.kpis["riders_served"] == plan.kpis["riders_served"]
    assert again.kpis["lines"] == plan.kpis["lines"]
    assert again.kpis["total_cost"] == pytest.approx(plan.kpis["total_cost"], abs=0.01)
    assert again.meta["waves"][0]["initial_feasible"] is True


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), iters=st.integers(1, 40))
def test_reoptimising_a_plan_from_itself_never_gets_worse(seed: int, iters: int) -> None:
    """From a feasible plan, a warm-started search ends at no higher cost and passes the checker."""
    inst = make_instance(90, 12, seed=seed, limits_s=[None, None, None, 1500])
    s = ShuttleSettings(max_iterations=20, time_limit_s=30, seed=seed)
    plan = inst.plan(fleet(6, 6), s)
    assert inst.check(plan) == []
    again = _replan(
        inst, plan, replace(s, max_iterations=iters, seed=seed + 1), routes_of_plan(plan)
    )
    assert inst.check(again) == []
    assert _objective(again, s) <= _objective(plan, s) + 0.01


def test_initial_routes_with_unknown_stops_and_bus_types_are_skipped() -> None:
    """Calls at unknown stops, unknown bus types and riders of no wave are ignored, not fatal."""
    inst = make_instance(60, 8, seed=2)
    s = ShuttleSettings(max_iterations=50, time_limit_s=30)
    plan = inst.plan(fleet(), s)
    routes = routes_of_plan(plan)
    junk: list[InitialRoute] = [
        ("no-such-bus", [(inst.stops[0].id, [inst.riders[0].id])]),
        (routes[0][0], [("no-such-stop", [inst.riders[1].id]), (inst.stops[1].id, ["ghost"])]),
    ]
    again = _replan(inst, plan, s, junk + routes)
    assert inst.check(again) == []
    assert again.kpis["riders_served"] + again.kpis["riders_unserved"] == len(inst.riders)


def test_more_initial_routes_than_buses_are_cut_to_the_fleet() -> None:
    """Initial routes beyond the buses of a type are left out and their riders planned afresh."""
    inst = make_instance(100, 12, seed=5)
    s = ShuttleSettings(max_iterations=100, time_limit_s=30)
    plan = inst.plan(fleet(10, 10), s)
    small = fleet(2, 10)
    again = plan_from_matrix(
        inst.riders,
        inst.stops,
        inst.matrix,
        inst.walk,
        small,
        workplace=inst.workplace,
        settings=s,
        district_of=inst.district_of,
        initial_routes=routes_of_plan(plan),
    )
    assert inst.check(again) == []
    assert again.kpis["buses_by_type"].get("bus30", 0) <= 2


@pytest.mark.parametrize(
    ("n", "cap", "piece", "whole", "expected"),
    [
        (0, 50, 10, 30, []),
        (7, 50, 10, 0, [7]),
        (37, 50, 10, 0, [10, 10, 10, 7]),
        (37, 50, 10, 30, [10, 10, 10, 7]),
        (30, 50, 10, 30, [30]),
        (30, 50, 10, 0, [10, 10, 10]),
        (130, 50, 10, 30, [50, 50, 10, 10, 10]),
        (100, 50, 10, 30, [50, 50]),
        (25, 20, 10, 30, [20, 5]),
        (90, 50, 100, 0, [45, 45]),
        (101, 40, 50, 0, [34, 34, 33]),
    ],
)
def test_chunk_sizes_fill_buses_then_pieces(
    n: int, cap: int, piece: int, whole: int, expected: list[int]
) -> None:
    """Whole busloads, then pieces; small groups stay whole; a piece >= cap gives equal chunks."""
    assert chunk_sizes(n, cap, piece=piece, whole=whole) == expected
    assert sum(expected) == n
    assert all(0 < size <= cap for size in expected)


def test_packing_piece_is_the_seats_common_divisor() -> None:
    """The piece is the seats' gcd (10 for 30/50 seats), never below 5."""
    assert packing_piece([30, 50]) == 10
    assert packing_piece([20, 40]) == 20
    assert packing_piece([33, 50]) == 5


def test_reoptimise_on_an_area_starts_from_the_plan_and_never_gets_worse(
    helsinki_area: Area,
) -> None:
    """reoptimise(plan) warm-starts from the plan's lines and ends no costlier, checker-clean."""
    s = ShuttleSettings(time_limit_s=30, max_walk_m=500, max_iterations=30)
    riders = sample_riders(helsinki_area, 80, seed=3)
    fl = Fleet((BusType("bus30", 30, 6, fixed_cost=300.0, cost_per_km=3.0, cost_per_hour=60.0),))
    wp = sample_workplace(helsinki_area, riders=riders)
    plan = plan_shuttles(helsinki_area, riders, fl, wp, settings=s)
    assert check_plan(plan, helsinki_area) == []
    new = reoptimise(helsinki_area, plan, riders, fl, settings=replace(s, seed=5))
    assert new.meta["waves"][0]["initial_routes"] == len(plan.lines)
    assert new.meta["waves"][0]["initial_feasible"] is True
    assert check_plan(new, helsinki_area) == []
    assert _objective(new, s) <= _objective(plan, s) + 0.01
    cold = reoptimise(helsinki_area, plan, riders, fl, settings=s, warm_start=False)
    assert "initial_routes" not in cold.meta["waves"][0]


def test_reoptimise_bare_lines_warm_starts_from_their_evaluation(helsinki_area: Area) -> None:
    """Existing lines without riders are evaluated first; those riders seed the search."""
    s = ShuttleSettings(time_limit_s=30, max_walk_m=500, max_iterations=30)
    riders = sample_riders(helsinki_area, 60, seed=8)
    fl = Fleet((BusType("bus30", 30, 6, fixed_cost=300.0, cost_per_km=3.0, cost_per_hour=60.0),))
    wp = sample_workplace(helsinki_area, riders=riders)
    plan = plan_shuttles(helsinki_area, riders, fl, wp, settings=s)
    new = reoptimise(helsinki_area, lines_from_plan(plan), riders, fl, settings=s)
    assert new.meta["waves"][0]["initial_routes"] >= 1
    assert check_plan(new, helsinki_area) == []


def test_reoptimise_renames_new_stops_that_reuse_a_kept_stop_id_elsewhere() -> None:
    """A new stop with a kept stop's id but another place gets its own id everywhere."""
    from routing.shuttle.redesign import _separate_stop_ids

    inst = make_instance(60, 8, seed=3)
    plan = inst.plan(fleet(), ShuttleSettings(max_iterations=30, time_limit_s=30))
    used = plan.lines[0].stops[0].stop_id
    stop = next(s for s in plan.stops if s.id == used)
    moved = replace(stop, lon=stop.lon + 0.001)
    out = _separate_stop_ids(plan, {used: moved, "other": stop})
    assert used not in {v.stop_id for ln in out.lines for v in ln.stops}
    assert used not in {a.stop_id for a in out.assignments}
    assert f"{used}~2" in {s.id for s in out.stops}
    assert len({s.id for s in out.stops}) == len(out.stops)
    assert _separate_stop_ids(plan, {used: stop}) is plan
