"""A planned day: both directions, buses chained over several trips, caps, walkers.

Synthetic instances (stops on a plane, drive times from distances, see ``_synthetic``); the
plans are checked by the independent checker, and the chaining against networkx's maximum
matching (a minimum path cover of the trip graph computed without the code under test).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import networkx as nx
import numpy as np
import pytest
from _synthetic import Instance, fleet, make_instance

from routing.shuttle import Plan, ShuttleSettings
from routing.shuttle.chain import TripSpan, chain_trips
from routing.shuttle.matrix import StopMatrix
from routing.shuttle.model import BusType, Fleet, Line, StopVisit

H = 3600
SETTINGS = ShuttleSettings(time_limit_s=0.5, max_walk_m=500, max_iterations=400)


def kinds(inst: Instance, plan: Plan) -> set[str]:
    return {v.kind for v in inst.check(plan)}


@pytest.fixture(scope="module")
def day() -> tuple[Instance, Plan]:
    """Three shift starts to work, two shift ends home, one fleet shared by the day."""
    inst = make_instance(
        90,
        10,
        seed=5,
        size_m=6000,
        limits_s=[None, 40 * 60],
        shifts=[7 * H + 30 * 60, 8 * H, 8 * H + 30 * 60],
        evening=[17 * H, None, 17 * H + 30 * 60],
    )
    plan = inst.plan(fleet(6, 6), SETTINGS)
    return inst, plan


def test_both_directions_in_one_plan(day: tuple[Instance, Plan]) -> None:
    """Riders with an evening departure ride home on trips leaving work at their shift end."""
    inst, plan = day
    assert inst.check(plan) == []
    home = [a for a in plan.assignments if a.direction == "from_work"]
    assert home and {ln.direction for ln in plan.lines} == {"to_work", "from_work"}
    by_id = {r.id: r for r in inst.riders}
    for a in home:
        ln = plan.line(a.line_id)
        assert ln.departure_s == by_id[a.rider_id].evening_departure
        assert a.board_time_s == ln.departure_s and a.arrival_time_s > ln.departure_s
    # one assignment or unserved per rider and direction needed
    needed = sum(1 + (r.evening_departure is not None) for r in inst.riders)
    assert len(plan.assignments) + len(plan.unserved) == needed
    assert not {a.rider_id for a in home} & {
        r.id for r in inst.riders if r.evening_departure is None
    }


def test_buses_run_several_trips(day: tuple[Instance, Plan]) -> None:
    """Trips are chained onto buses: fewer buses than trips, each bus's trips in time order."""
    _, plan = day
    k = plan.kpis
    assert k["buses"] == len(plan.vehicles) < k["trips"] == len(plan.lines)
    lines = {ln.id: ln for ln in plan.lines}
    for v in plan.vehicles:
        trips = [lines[i] for i in v.line_ids]
        assert all(ln.vehicle_id == v.id and ln.bus_type == v.bus_type for ln in trips)
        assert all(a.end_s <= b.start_s for a, b in itertools.pairwise(trips))
    assert k["buses_by_type"] == plan.buses_by_type()


def test_timetable_home_runs_forward_from_the_departure(day: tuple[Instance, Plan]) -> None:
    """Home: the bus is at work in time to board everyone, leaves at the shift end, and each
    stop follows the previous one by the drive plus dwell and alighting."""
    inst, plan = day
    s = plan.settings
    m = inst.matrix
    for ln in (x for x in plan.lines if not x.to_work):
        assert ln.workplace_departure_s == ln.deadline_s
        assert ln.arrival_s == ln.departure_s - s.dwell_s - s.boarding_s * ln.riders
        prev, t = m.index(f"wp:{ln.workplace[0]:.7f},{ln.workplace[1]:.7f}"), ln.departure_s
        for v in ln.stops:
            i = m.index(v.stop_id)
            assert v.arrival_s == t + int(m.duration[prev, i])
            t, prev = v.departure_s, i
        assert [v.load_after for v in ln.stops][-1] == 0


def test_chaining_matches_a_maximum_matching() -> None:
    """chain_trips uses as few buses as a minimum path cover found with networkx."""
    rng = np.random.default_rng(3)
    for trial in range(20):
        n = int(rng.integers(2, 25))
        locs = 4
        dur = rng.integers(60, 1800, size=(locs, locs))
        np.fill_diagonal(dur, 0)
        matrix = StopMatrix(tuple(f"p{i}" for i in range(locs)), dur, dur * 10)
        start = rng.integers(6 * H, 10 * H, size=n)
        length = rng.integers(600, 3600, size=n)
        spans = [
            TripSpan(
                f"T{k}",
                "a" if trial % 2 or k % 3 else "b",
                int(start[k]),
                int(start[k] + length[k]),
                int(rng.integers(locs)),
                int(rng.integers(locs)),
            )
            for k in range(n)
        ]
        lines = [
            Line(s.line_id, s.bus_type, (), 0.0, 0, (0.0, 0.0), s.end_s, s.end_s) for s in spans
        ]
        buses = Fleet((BusType("a", 30, n, 400, 3, 60), BusType("b", 50, n, 500, 4, 70)))
        _, vehicles = chain_trips(lines, spans, matrix, buses, turnaround_s=120)
        # independent: a trip graph, a maximum bipartite matching, n - |matching| buses
        G = nx.DiGraph()
        G.add_nodes_from((("out", k) for k in range(n)), bipartite=0)
        G.add_nodes_from((("in", k) for k in range(n)), bipartite=1)
        for a in spans:
            for b in spans:
                if a is not b and a.bus_type == b.bus_type:
                    dh = int(dur[a.end_loc, b.start_loc])
                    if a.end_s + dh + 120 <= b.start_s:
                        G.add_edge(("out", spans.index(a)), ("in", spans.index(b)))
        top = [("out", k) for k in range(n)]
        matching = nx.bipartite.maximum_matching(G, top_nodes=top)
        assert len(vehicles) == n - len(matching) // 2
        assert sorted(i for v in vehicles for i in v.line_ids) == sorted(s.line_id for s in spans)


def test_walkers_are_not_bussed() -> None:
    """Riders living within the maximum walk of work walk, both ways; nobody else does."""
    inst = make_instance(60, 6, seed=2, size_m=3000, walk_to_work=0.2, evening=[17 * H])
    plan = inst.plan(fleet(), SETTINGS)
    assert inst.check(plan) == []
    walkers = {u.rider_id for u in plan.unserved if u.reason == "walks_to_work"}
    assert walkers and not walkers & {a.rider_id for a in plan.assignments}
    assert plan.kpis["walkers"] == 2 * len(walkers)  # counted per direction


def test_line_cap_is_kept_and_reported() -> None:
    """With max_lines every direction has at most that many trips; the riders the cap leaves
    out are over_cap and the plan says what the cap costs."""
    inst = make_instance(120, 12, seed=8, size_m=9000, evening=[17 * H])
    free = inst.plan(fleet(8, 8), SETTINGS)
    capped = inst.plan(fleet(8, 8), replace(SETTINGS, max_lines=2))
    assert inst.check(capped) == []
    for d in ("to_work", "from_work"):
        assert sum(1 for ln in capped.lines if ln.direction == d) <= 2
    assert len(free.lines) > len(capped.lines)
    over = [u for u in capped.unserved if u.reason == "over_cap"]
    assert over
    report = next(iter(capped.meta["caps"].values()))
    assert report["trips"]["capped"] <= 2 < report["trips"]["uncapped"]
    assert report["riders_served"]["capped"] < report["riders_served"]["uncapped"]


def test_bus_cap_is_kept() -> None:
    """max_buses caps the buses of the whole day, trips chained or not."""
    inst = make_instance(100, 10, seed=4, size_m=8000, evening=[17 * H])
    plan = inst.plan(fleet(8, 8), replace(SETTINGS, max_buses=2))
    assert inst.check(plan) == []
    assert plan.kpis["buses"] <= 2


def test_checker_catches_broken_days(day: tuple[Instance, Plan]) -> None:
    """Overlapping trips on one bus, a missing deadhead, a walker on a bus, a trip home before
    the shift end, too many trips: each is flagged."""
    inst, plan = day
    v = next(x for x in plan.vehicles if len(x.line_ids) >= 2)
    a, b = plan.line(v.line_ids[0]), plan.line(v.line_ids[1])
    late = b.start_s - a.end_s + 60  # a ends a minute after b starts

    def shifted(ln: Line, dt: int) -> Line:
        stops = tuple(
            replace(s, arrival_s=s.arrival_s + dt, departure_s=s.departure_s + dt) for s in ln.stops
        )
        dep = ln.workplace_departure_s + dt if ln.workplace_departure_s is not None else None
        return replace(ln, stops=stops, arrival_s=ln.arrival_s + dt, workplace_departure_s=dep)

    moved = replace(plan, lines=tuple(shifted(x, late) if x.id == a.id else x for x in plan.lines))
    assert "vehicle" in kinds(inst, moved)
    # a bus of another type on the chain
    wrong = replace(
        plan, vehicles=tuple(replace(x, bus_type="nope") if x is v else x for x in plan.vehicles)
    )
    assert "vehicle" in kinds(inst, wrong)
    # a trip home leaving before the riders' shift ends
    home = next(x for x in plan.lines if not x.to_work)
    early = replace(plan, lines=tuple(shifted(x, -600) if x is home else x for x in plan.lines))
    assert "deadline" in kinds(inst, early)
    # caps
    assert "fleet" in kinds(inst, replace(plan, settings=replace(plan.settings, max_lines=1)))
    assert "fleet" in kinds(inst, replace(plan, settings=replace(plan.settings, max_buses=1)))
    # a walker on a bus: give one served rider a walk to work within the maximum
    rid = plan.assignments[0].rider_id
    walk = dict(inst.walk)
    walk[(rid, f"wp:{inst.workplace[0]:.7f},{inst.workplace[1]:.7f}")] = 100.0
    walker = Instance(inst.riders, inst.stops, inst.matrix, walk, inst.workplace, inst.district_of)
    assert "walker" in kinds(walker, plan)


def test_zero_second_leg_between_two_stops_is_flagged(day: tuple[Instance, Plan]) -> None:
    """A leg between two distinct stops scheduled at 0 s breaks the timetable rule."""
    inst, plan = day
    ln = next(x for x in plan.lines if x.to_work and len(x.stops) >= 2)
    s0, s1 = ln.stops[0], ln.stops[1]
    squeezed = replace(
        s0, arrival_s=s1.arrival_s - (s0.departure_s - s0.arrival_s), departure_s=s1.arrival_s
    )
    bad = replace(ln, stops=(squeezed, *ln.stops[1:]))
    got = {
        v.kind
        for v in inst.check(replace(plan, lines=tuple(bad if x is ln else x for x in plan.lines)))
    }
    assert "timetable" in got


def test_unchained_day_uses_a_bus_per_trip() -> None:
    """Without reuse and chaining every trip has its own bus; reusing buses across waves and
    chaining needs fewer; chaining independent waves afterwards lies in between or equal."""
    from routing.shuttle._waves import plan_day

    inst = make_instance(60, 8, seed=9, evening=[17 * H])
    stop_index = {s.id: i for i, s in enumerate(inst.stops)}
    options: dict[str, list[tuple[int, float]]] = {}
    for (rid, sid), w in inst.walk.items():
        if sid in stop_index:
            options.setdefault(rid, []).append((stop_index[sid], w))
    args = (inst.riders, options, inst.district_of, inst.stops, inst.matrix, fleet(8, 8))
    kw = {"workplace": inst.workplace, "settings": SETTINGS, "progress": None}
    one = plan_day(*args, chain=False, reuse=False, **kw)  # type: ignore[arg-type]
    after = plan_day(*args, reuse=False, **kw)  # type: ignore[arg-type]
    many = plan_day(*args, **kw)  # type: ignore[arg-type]
    assert one.vehicles == [] and len(many.vehicles) <= len(many.lines)
    assert len(many.vehicles) < len(one.lines)
    assert len(after.vehicles) < len(after.lines) == len(one.lines)


def test_stop_visit_names_carry_languages() -> None:
    """StopVisit.name_in falls back to the default name."""
    v = StopVisit("s", 0, 0, 0, 0, 0, 0, "七贤岭站", {"en": "Qixianling stop"})
    assert v.name_in("en") == "Qixianling stop" and v.name_in("ja") == "七贤岭站"
