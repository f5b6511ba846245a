"""Plan directory: write, read back, atomic replacement, clear errors on malformed files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from _shuttle_plans import make_plan, solve_sample_plan

from routing.shuttle.export import (
    PLAN_FILES,
    WORKPLACE_STOP_ID,
    PlanFileError,
    read_plan,
    write_plan,
)


def _rewrite_csv(path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    edit(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_round_trip_keeps_lines_assignments_unserved(tmp_path: Path) -> None:
    """A written plan reads back with equal lines, assignments, unserved, KPIs, fleet."""
    plan = make_plan()
    out = write_plan(plan, tmp_path / "plan")
    assert sorted(p.name for p in out.iterdir()) == sorted(PLAN_FILES)
    back = read_plan(out)
    assert back.lines == plan.lines
    assert back.assignments == plan.assignments
    assert back.unserved == plan.unserved
    assert back.kpis == plan.kpis
    assert back.settings == plan.settings
    assert back.fleet == plan.fleet
    assert back.workplace == plan.workplace and back.deadline == plan.deadline
    assert back.lines[0].path is not None and back.lines[0].path.equals(plan.lines[0].path)
    assert back.lines[1].path is None  # straight fallback geometry is not a driven path
    assert {s.id for s in back.stops} == {"S1", "S2", "S3"}


def test_files_have_the_interface_columns_and_hms_times(tmp_path: Path) -> None:
    """CSV headers match the documented interface; times are HH:MM:SS; UTF-8 names survive."""
    out = write_plan(make_plan(), tmp_path / "plan")
    with (out / "timetable.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == [
        "line_id",
        "direction",
        "vehicle_id",
        "seq",
        "stop_id",
        "stop_name",
        "lon",
        "lat",
        "arrival",
        "departure",
        "boarding",
        "alighting",
    ]
    assert rows[0]["arrival"] == "08:05:00"
    assert rows[0]["stop_name"] == "黄浦路站"
    last = [r for r in rows if r["line_id"] == "L001"][-1]
    assert last["stop_id"] == WORKPLACE_STOP_ID and last["alighting"] == "4"
    with (out / "assignments.csv").open(encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == [
        "rider_id",
        "direction",
        "line_id",
        "stop_id",
        "walk_m",
        "board_time",
        "arrival_time",
    ]
    with (out / "unserved.csv").open(encoding="utf-8") as fh:
        assert next(csv.reader(fh))[:3] == ["rider_id", "direction", "reason"]
    gj = json.loads((out / "lines.geojson").read_text(encoding="utf-8"))
    assert gj["type"] == "FeatureCollection" and len(gj["features"]) == 2
    props = gj["features"][0]["properties"]
    assert props["line_id"] == "L001" and props["bus_type"] == "bus30"
    assert len(props["stops"]) == 2 and props["riders"] == 4 and props["distance_m"] == 9800.0
    assert props["stops"][0]["name"] == "黄浦路站" and props["stops"][-1]["load"] == 4
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["kpis"]["riders_served"] == 6


def test_rewrite_replaces_an_earlier_plan_and_refuses_foreign_dirs(tmp_path: Path) -> None:
    """Writing over an earlier plan replaces it; a directory with other files is refused."""
    out = tmp_path / "plan"
    write_plan(make_plan(), out)
    write_plan(make_plan(late_arrival=60), out)
    assert read_plan(out).lines[0].arrival_s == make_plan(late_arrival=60).lines[0].arrival_s
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(FileExistsError, match="other files"):
        write_plan(make_plan(), foreign)
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me"


def test_failed_write_leaves_nothing_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error while writing leaves neither the target nor a temporary directory behind."""
    import routing.shuttle.export as export

    def boom(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(export, "_write_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_plan(make_plan(), tmp_path / "plan")
    assert list(tmp_path.iterdir()) == []


def test_malformed_timetable_names_file_row_and_field(tmp_path: Path) -> None:
    """A bad time and a non-numeric boarding are reported with file, row and field."""
    out = write_plan(make_plan(), tmp_path / "plan")

    def edit(rows: list[list[str]]) -> None:
        rows[2][8] = "8 o'clock"  # data row 2, arrival
        rows[3][10] = "many"  # data row 3, boarding

    _rewrite_csv(out / "timetable.csv", edit)
    with pytest.raises(PlanFileError, match=r"timetable\.csv") as info:
        read_plan(out)
    assert info.value.file == "timetable.csv"
    got = {(p.row, p.field) for p in info.value.problems}
    assert {(2, "arrival"), (3, "boarding")} <= got
    assert "row 2, arrival" in str(info.value)


def test_malformed_assignments_and_unserved_are_reported(tmp_path: Path) -> None:
    """Unknown lines in assignments and unknown reason codes are reported per row."""
    out = write_plan(make_plan(), tmp_path / "plan")
    _rewrite_csv(out / "assignments.csv", lambda rows: rows[1].__setitem__(2, "L999"))
    with pytest.raises(PlanFileError, match=r"assignments\.csv") as info:
        read_plan(out)
    assert (1, "line_id") in {(p.row, p.field) for p in info.value.problems}

    out = write_plan(make_plan(), tmp_path / "plan2")
    _rewrite_csv(out / "unserved.csv", lambda rows: rows[2].__setitem__(2, "bored"))
    with pytest.raises(PlanFileError, match="bored"):
        read_plan(out)


def test_missing_or_broken_files_give_clear_errors(tmp_path: Path) -> None:
    """A missing file, invalid JSON and a missing column each name the file."""
    out = write_plan(make_plan(), tmp_path / "plan")
    (out / "unserved.csv").unlink()
    with pytest.raises(PlanFileError, match=r"Expected unserved\.csv"):
        read_plan(out)

    out = write_plan(make_plan(), tmp_path / "plan2")
    (out / "summary.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(PlanFileError, match=r"summary\.json"):
        read_plan(out)

    out = write_plan(make_plan(), tmp_path / "plan3")
    _rewrite_csv(out / "assignments.csv", lambda rows: rows[0].__setitem__(4, "walk"))
    with pytest.raises(PlanFileError, match=r"missing \['walk_m'\]"):
        read_plan(out)

    with pytest.raises(PlanFileError, match="not a directory"):
        read_plan(tmp_path / "nowhere")


def test_real_plan_round_trip_passes_the_checker(tmp_path: Path, helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """A plan solved on the sample area reads back equal and still passes the checker."""
    from dataclasses import replace

    from routing.shuttle.check import check_plan

    plan = solve_sample_plan(helsinki_area, seed=5)
    assert plan.lines
    back = read_plan(write_plan(plan, tmp_path / "plan"))
    assert back.lines == plan.lines and back.unserved == plan.unserved
    assert [a.rider_id for a in back.assignments] == [a.rider_id for a in plan.assignments]
    assert all(ln.path is not None for ln in back.lines)
    # Stops read back carry no graph node; give the checker the plan's stops and riders.
    restored = replace(back, riders=plan.riders, stops=plan.stops)
    assert check_plan(restored, helsinki_area) == []


def test_first_format_plans_still_read(tmp_path: Path) -> None:
    """A plan directory of the first format (no direction, vehicle or name columns, no
    vehicles.csv) reads as trips to work, each on a bus of its own."""
    out = write_plan(make_plan(), tmp_path / "plan")
    (out / "vehicles.csv").unlink()

    def drop(name: str, columns: set[str]) -> None:
        with (out / name).open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        keep = [i for i, c in enumerate(rows[0]) if c not in columns]
        _rewrite_csv(
            out / name, lambda r: r.__setitem__(slice(None), [[x[i] for i in keep] for x in r])
        )

    drop("timetable.csv", {"direction", "vehicle_id", "stop_name", "alighting"})
    drop("assignments.csv", {"direction"})
    drop("unserved.csv", {"direction"})
    back = read_plan(out)
    assert [ln.direction for ln in back.lines] == ["to_work", "to_work"]
    assert back.vehicles == () and back.kpis == make_plan().kpis
    assert [v.name for v in back.lines[0].stops] == ["黄浦路站", "七贤岭"]


def test_day_plan_round_trip(tmp_path: Path, helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """A plan of both directions with chained buses reads back equal, buses included."""
    from _shuttle_plans import solve_sample_plan

    plan = solve_sample_plan(helsinki_area, seed=6, evening="17:15")
    back = read_plan(write_plan(plan, tmp_path / "plan"))
    assert back.lines == plan.lines and back.vehicles == plan.vehicles
    from dataclasses import replace

    assert back.assignments == tuple(
        replace(a, walk_m=round(a.walk_m, 1)) for a in plan.assignments
    )
    assert back.unserved == plan.unserved


def test_lines_geojson_says_direction_and_bus_and_runs_in_driving_order(
    tmp_path: Path,
    helsinki_area,  # type: ignore[no-untyped-def]
) -> None:
    """Each trip's Feature names its direction and bus; without a driven path, a trip home
    is drawn from the workplace out to its stops (driving order), a trip to work the other way."""
    from dataclasses import replace

    from _shuttle_plans import solve_sample_plan

    from routing.shuttle.geojson import line_feature

    plan = solve_sample_plan(helsinki_area, seed=6, evening="17:15")
    gj = json.loads((write_plan(plan, tmp_path / "plan") / "lines.geojson").read_text("utf-8"))
    props = {f["properties"]["line_id"]: f["properties"] for f in gj["features"]}
    for line in plan.lines:
        assert props[line.id]["direction"] == line.direction
        assert props[line.id]["vehicle_id"] == (line.vehicle_id or None)
        coords = line_feature(replace(line, path=None))["geometry"]["coordinates"]
        workplace = [round(c, 7) for c in line.workplace]
        first = [round(line.stops[0].lon, 7), round(line.stops[0].lat, 7)]
        assert coords[-1 if line.to_work else 0] == workplace
        assert coords[0 if line.to_work else 1] == first
    assert {p["direction"] for p in props.values()} == {"to_work", "from_work"}
