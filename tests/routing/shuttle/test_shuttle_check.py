"""The independent checker catches each kind of broken plan."""

from __future__ import annotations

from dataclasses import replace

import pytest
from _synthetic import Instance, fleet, make_instance

from routing.shuttle import Plan, ShuttleSettings

SETTINGS = ShuttleSettings(time_limit_s=0.3, max_walk_m=500)


@pytest.fixture(scope="module")
def solved() -> tuple[Instance, Plan]:
    inst = make_instance(60, 8, seed=21, limits_s=[25 * 60, None])
    plan = inst.plan(fleet(), SETTINGS)
    assert plan.lines and inst.check(plan) == []
    return inst, plan


def kinds(inst: Instance, plan: Plan) -> set[str]:
    return {v.kind for v in inst.check(plan)}


def test_missing_and_duplicate_riders(solved: tuple[Instance, Plan]) -> None:
    """A dropped assignment and a doubled one are both flagged."""
    inst, plan = solved
    assert "rider_missing" in kinds(inst, replace(plan, assignments=plan.assignments[1:]))
    doubled = plan.assignments + plan.assignments[:1]
    assert "rider_twice" in kinds(inst, replace(plan, assignments=doubled))


def test_over_capacity(solved: tuple[Instance, Plan]) -> None:
    """A bus type with fewer seats than riders on board is flagged."""
    inst, plan = solved
    small = fleet()
    small = small.__class__(tuple(replace(t, seats=1) for t in small))
    assert "capacity" in kinds(inst, replace(plan, fleet=small))


def test_too_many_buses(solved: tuple[Instance, Plan]) -> None:
    """More lines of a type than buses of that type is flagged."""
    inst, plan = solved
    assert "fleet" in kinds(inst, replace(plan, fleet=fleet(0, 0)))


def test_late_arrival_and_long_ride(solved: tuple[Instance, Plan]) -> None:
    """Moving a line 10 minutes later breaks deadlines; its stops an hour earlier break ride
    limits (the bus may wait on the way, so a long leg is no timetable breach by itself)."""
    inst, plan = solved

    def shift(ln, dt):  # type: ignore[no-untyped-def]
        stops = tuple(
            replace(v, arrival_s=v.arrival_s + dt, departure_s=v.departure_s + dt) for v in ln.stops
        )
        return replace(ln, stops=stops, arrival_s=ln.arrival_s + dt)

    late = replace(
        plan,
        lines=tuple(shift(ln, 600) for ln in plan.lines),
        assignments=tuple(
            replace(a, arrival_time_s=a.arrival_time_s + 600, board_time_s=a.board_time_s + 600)
            for a in plan.assignments
        ),
    )
    assert "deadline" in kinds(inst, late)
    early_stops = tuple(
        replace(
            ln,
            stops=tuple(
                replace(v, arrival_s=v.arrival_s - 3600, departure_s=v.departure_s - 3600)
                for v in ln.stops
            ),
        )
        for ln in plan.lines
    )
    moved = replace(
        plan,
        lines=early_stops,
        assignments=tuple(replace(a, board_time_s=a.board_time_s - 3600) for a in plan.assignments),
    )
    got = kinds(inst, moved)
    assert "ride_limit" in got


def test_wrong_walk(solved: tuple[Instance, Plan]) -> None:
    """A walk that differs from the walk table, or exceeds the maximum, is flagged."""
    inst, plan = solved
    a0 = plan.assignments[0]
    bad = replace(plan, assignments=(replace(a0, walk_m=a0.walk_m + 50), *plan.assignments[1:]))
    assert "walk" in kinds(inst, bad)


def test_timetable_too_fast(solved: tuple[Instance, Plan]) -> None:
    """A stop time shorter than dwell plus boarding is flagged."""
    inst, plan = solved
    ln = plan.lines[0]
    v0 = ln.stops[0]
    fast = replace(ln, stops=(replace(v0, departure_s=v0.arrival_s), *ln.stops[1:]))
    assert "timetable" in kinds(inst, replace(plan, lines=(fast, *plan.lines[1:])))
