"""Redesign: evaluating existing lines, re-optimising from them, before/after comparison."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from _shuttle_plans import make_plan

from routing.shuttle import BusType, Fleet, Rider, ShuttleInputError, ShuttleSettings
from routing.shuttle.check import check_plan
from routing.shuttle.export import write_plan
from routing.shuttle.plan import plan_shuttles
from routing.shuttle.redesign import (
    ExistingLine,
    compare_plans,
    evaluate_lines,
    read_lines,
    reoptimise,
)
from routing.shuttle.sample import sample_riders, sample_workplace

if TYPE_CHECKING:
    from routing import Area

SETTINGS = ShuttleSettings(time_limit_s=1.0, max_walk_m=500)
FLEET = Fleet(
    (
        BusType("mini", 4, 10, fixed_cost=100.0, cost_per_km=1.0, cost_per_hour=30.0),
        BusType("bus30", 30, 6, fixed_cost=300.0, cost_per_km=3.0, cost_per_hour=60.0),
    )
)


@pytest.fixture(scope="module")
def base(helsinki_area: Area) -> tuple[list[Rider], tuple[float, float]]:
    """Sample riders and workplace of the Helsinki sample area."""
    riders = sample_riders(helsinki_area, 80, seed=3)
    return riders, sample_workplace(helsinki_area, riders=riders)


@pytest.fixture(scope="module")
def planned(helsinki_area: Area, base: tuple[list[Rider], tuple[float, float]]):  # type: ignore[no-untyped-def]
    """A real plan of the sample riders."""
    riders, wp = base
    return plan_shuttles(helsinki_area, riders, FLEET, wp, settings=SETTINGS)


def _bad_lines(helsinki_area: Area) -> list[ExistingLine]:
    """One line calling at every bus stop of the sample area on a 4-seat bus."""
    from routing.shuttle.model import CandidateStop

    stops = helsinki_area.pois["bus_stops"]
    pts = [g if g.geom_type == "Point" else g.representative_point() for g in stops.geometry]
    calls = tuple(CandidateStop(f"s{k}", p.x, p.y) for k, p in enumerate(pts[:12]))
    return [ExistingLine("BAD", "mini", calls)]


def test_evaluate_flags_over_capacity_and_late(
    helsinki_area: Area, base: tuple[list[Rider], tuple[float, float]]
) -> None:
    """A long line on a 4-seat bus that must start after 08:25 is over capacity and late."""
    riders, wp = base
    settings = SETTINGS.replace(earliest_departure="08:27")
    ev = evaluate_lines(
        helsinki_area, _bad_lines(helsinki_area), riders, FLEET, workplace=wp, settings=settings
    )
    kinds = ev.violations_by_kind()
    assert kinds.get("capacity", 0) >= 1
    assert kinds.get("deadline", 0) >= 1 and kinds.get("late_lines") == 1
    line = ev.plan.lines[0]
    assert line.departure_s == settings.earliest_departure_s
    assert line.arrival_s > line.deadline_s
    # Every rider is either on the line or reported (no line in walking reach).
    ids = {a.rider_id for a in ev.plan.assignments} | {u.rider_id for u in ev.plan.unserved}
    assert ids == {r.id for r in riders}
    assert ev.plan.kpis["riders_served"] == len(ev.plan.assignments) > 4


def test_evaluate_flags_ride_limits_and_no_line_in_reach(
    helsinki_area: Area, base: tuple[list[Rider], tuple[float, float]]
) -> None:
    """Riders with a 1-minute limit break it; riders far from every stop are unserved."""
    riders, wp = base
    strict = [replace(r, max_ride_s=60) for r in riders]
    far = Rider("far", helsinki_area.bounds[0] + 1e-4, helsinki_area.bounds[1] + 1e-4)
    ev = evaluate_lines(
        helsinki_area,
        _bad_lines(helsinki_area),
        [*strict, far],
        FLEET,
        workplace=wp,
        settings=SETTINGS,
    )
    kinds = ev.violations_by_kind()
    assert kinds.get("ride_limit", 0) >= 1
    reasons = {u.rider_id: u.reason for u in ev.plan.unserved}
    assert reasons.get("far") in {"too_far_to_walk", "off_map"}


def test_evaluating_a_feasible_plan_keeps_its_lines(helsinki_area: Area, planned) -> None:  # type: ignore[no-untyped-def]
    """The planner's own lines evaluate with the same stops, and no deadline or ride breach."""
    ev = evaluate_lines(helsinki_area, planned, list(planned.riders), FLEET, settings=SETTINGS)
    assert [ln.id for ln in ev.plan.lines] == [ln.id for ln in planned.lines]
    for a, b in zip(ev.plan.lines, planned.lines, strict=True):
        assert [v.stop_id for v in a.stops] == [v.stop_id for v in b.stops]
        assert a.distance_m == b.distance_m
    kinds = ev.violations_by_kind()
    assert "deadline" not in kinds and "timetable" not in kinds and "walk" not in kinds


def test_reoptimise_keep_stops_uses_only_existing_stops(helsinki_area: Area, planned) -> None:  # type: ignore[no-untyped-def]
    """With keep_stops the new plan calls only at the existing stops and passes the checker."""
    new = reoptimise(
        helsinki_area, planned, list(planned.riders), FLEET, keep_stops=True, settings=SETTINGS
    )
    old_stops = {v.stop_id for ln in planned.lines for v in ln.stops}
    assert {v.stop_id for ln in new.lines for v in ln.stops} <= old_stops
    assert check_plan(new, helsinki_area) == []


def test_reoptimise_keep_lines_keeps_them_as_they_are(helsinki_area: Area, planned) -> None:  # type: ignore[no-untyped-def]
    """A kept line keeps its id, stops and bus; the rest is planned anew; all checks pass."""
    keep = planned.lines[0]
    new = reoptimise(
        helsinki_area, planned, list(planned.riders), FLEET, keep_lines=[keep.id], settings=SETTINGS
    )
    kept = new.line(keep.id)
    assert [v.stop_id for v in kept.stops] == [v.stop_id for v in keep.stops]
    assert kept.bus_type == keep.bus_type
    assert all(ln.id.startswith("N") for ln in new.lines if ln.id != keep.id)
    assert check_plan(new, helsinki_area) == []
    with pytest.raises(ShuttleInputError, match="kept line ids"):
        reoptimise(helsinki_area, planned, list(planned.riders), FLEET, keep_lines=["nope"])


def test_compare_plans_deltas() -> None:
    """Deltas are after minus before, per metric, bus type and unserved reason."""
    before = make_plan()
    lines = before.lines[:1]
    after = replace(
        before,
        lines=lines,
        assignments=tuple(a for a in before.assignments if a.line_id == "L001"),
        unserved=before.unserved,
    )
    table = compare_plans(before, after)
    assert table.row("trips") == (2, 1, -1)
    assert table.row("buses bus50") == (1, 0, -1)
    b, a, d = table.row("vehicle-km")
    assert (b, a) == (15.9, 9.8) and d == pytest.approx(-6.1)
    assert table.row("riders served") == (6, 4, -2)
    assert table.row("unserved too_far_to_walk") == (1, 1, 0)
    b, a, d = table.row("total cost")
    assert d == pytest.approx(a - b) and a < b
    text = table.to_text()
    assert "vehicle-km" in text and "-6.10" in text
    assert table.to_dict()[0]["metric"] == "trips"


def test_read_lines_csv_and_plan_dir(tmp_path: Path) -> None:
    """Lines CSV rows become ordered stops (ids reuse coordinates); plan dirs read too."""
    csv_path = tmp_path / "lines.csv"
    csv_path.write_text(
        "line_id,bus_type,seq,stop_id,lon,lat\n"
        "A,bus30,2,S2,24.94,60.17\n"
        "A,bus30,1,S1,24.93,60.16\n"
        "B,bus50,1,S2,,\n"
        "B,bus50,2,,24.95,60.18\n",
        encoding="utf-8",
    )
    lines = read_lines(csv_path)
    assert [ln.id for ln in lines] == ["A", "B"]
    assert [s.id for s in lines[0].stops] == ["S1", "S2"]
    assert (lines[1].stops[0].lon, lines[1].stops[0].lat) == (24.94, 60.17)
    assert lines[1].stops[1].id == "B-2"
    plan_dir = write_plan(make_plan(), tmp_path / "plan")
    from_dir = read_lines(plan_dir)
    assert [ln.id for ln in from_dir] == ["L001", "L002"]
    assert from_dir[0].deadline_s == make_plan().deadline


def test_read_lines_reports_bad_rows(tmp_path: Path) -> None:
    """Bad seq, missing coordinates and mixed bus types are reported by row and field."""
    csv_path = tmp_path / "lines.csv"
    csv_path.write_text(
        "line_id,bus_type,seq,stop_id,lon,lat\nA,bus30,one,S1,24.93,60.16\nA,bus50,2,S9,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ShuttleInputError) as info:
        read_lines(csv_path)
    got = {(p.row, p.field) for p in info.value.problems}
    assert {(1, "seq"), (2, "bus_type"), (2, "lon/lat")} <= got
    with pytest.raises(ShuttleInputError, match="missing path"):
        read_lines(tmp_path / "none.csv")


def test_evaluate_rejects_unknown_bus_types(
    helsinki_area: Area, base: tuple[list[Rider], tuple[float, float]]
) -> None:
    """A line run by a bus type the fleet does not have is a clear input error."""
    riders, wp = base
    lines = [replace(_bad_lines(helsinki_area)[0], bus_type="tram")]
    with pytest.raises(ShuttleInputError, match="tram"):
        evaluate_lines(helsinki_area, lines, riders, FLEET, workplace=wp)


def test_evaluate_command_with_lines_csv(
    tmp_path: Path, helsinki_area: Area, base: tuple[list[Rider], tuple[float, float]]
) -> None:
    """`shuttles evaluate --lines CSV --json` reports KPIs and violation counts."""
    import json

    from click.testing import CliRunner

    from routing.shuttle.inputs import write_fleet_csv, write_riders_csv
    from webmap.cli import main

    riders, wp = base
    line = _bad_lines(helsinki_area)[0]
    rows = ["line_id,bus_type,seq,stop_id,lon,lat"] + [
        f"BAD,mini,{k},{s.id},{s.lon},{s.lat}" for k, s in enumerate(line.stops, start=1)
    ]
    (tmp_path / "lines.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    write_riders_csv(riders, tmp_path / "riders.csv")
    write_fleet_csv(FLEET, tmp_path / "fleet.csv")
    result = CliRunner().invoke(
        main,
        [
            "shuttles",
            "evaluate",
            "--area",
            "helsinki",
            "--lines",
            str(tmp_path / "lines.csv"),
            "--riders",
            str(tmp_path / "riders.csv"),
            "--fleet",
            str(tmp_path / "fleet.csv"),
            "--workplace",
            f"{wp[0]},{wp[1]}",
            "--json",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["evaluation"]["violations_by_kind"].get("capacity", 0) >= 1
    assert out["evaluation"]["kpis"]["lines"] == 1


def test_riders_only_board_lines_to_their_workplace(
    helsinki_area: Area, base: tuple[list[Rider], tuple[float, float]]
) -> None:
    """Riders working elsewhere are not put on lines to another workplace."""
    riders, wp = base
    elsewhere = [replace(r, workplace=(wp[0] + 0.003, wp[1])) for r in riders[:10]]
    ev = evaluate_lines(
        helsinki_area,
        _bad_lines(helsinki_area),
        elsewhere + riders[10:],
        FLEET,
        workplace=wp,
        settings=SETTINGS,
    )
    moved = {r.id for r in elsewhere}
    assert not moved & {a.rider_id for a in ev.plan.assignments}
    left = {"too_far_to_walk", "walks_to_work"}  # some live within walking distance of it
    assert {u.rider_id for u in ev.plan.unserved if u.reason in left} >= moved
    assert "assignment" not in ev.violations_by_kind()


def test_stop_churn_counts_who_changes_stop_and_how_much_farther(planned) -> None:  # type: ignore[no-untyped-def]
    """Compared with itself a plan has no churn; moving one rider to another stop of their
    line is one change with the walk difference."""
    same = compare_plans(planned, planned)
    assert same.row("riders changing stop")[1] == 0 and same.changes == ()
    a0 = planned.assignments[0]
    line = planned.line(a0.line_id)
    other = next(v for ln in planned.lines for v in ln.stops if v.stop_id != a0.stop_id)
    moved = replace(a0, stop_id=other.stop_id, walk_m=a0.walk_m + 120.0)
    after = replace(planned, assignments=(moved, *planned.assignments[1:]))
    table = compare_plans(planned, after)
    assert table.row("riders changing stop")[1] == 1
    (change,) = table.changes
    assert change.rider_id == a0.rider_id and change.extra_walk_m == pytest.approx(120.0)
    assert table.row("extra walk max (m)")[1] == pytest.approx(120.0)
    del line


def test_lines_csv_home_direction_is_evaluated(helsinki_area: Area, base, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A lines CSV with a line home (direction from_work, departure 17:30) is timetabled
    forward from its departure and its riders are those with an evening departure."""
    riders, wp = base
    rows = ["line_id,bus_type,seq,stop_id,lon,lat,direction,departure"]
    for k, s in enumerate(_bad_lines(helsinki_area)[0].stops[:3], start=1):
        rows.append(f"H1,bus30,{k},{s.id},{s.lon},{s.lat},from_work,17:30")
    (tmp_path / "home.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    lines = read_lines(tmp_path / "home.csv")
    assert lines[0].direction == "from_work" and lines[0].deadline_s == 17 * 3600 + 30 * 60
    evening = [replace(r, evening_departure=17 * 3600 + 30 * 60) for r in riders]
    ev = evaluate_lines(helsinki_area, lines, evening, FLEET, workplace=wp, settings=SETTINGS)
    (ln,) = ev.plan.lines
    assert not ln.to_work and ln.departure_s == 17 * 3600 + 30 * 60
    assert all(a.direction == "from_work" or a.line_id != "H1" for a in ev.plan.assignments)
    assert all(v.arrival_s > ln.departure_s for v in ln.stops)
