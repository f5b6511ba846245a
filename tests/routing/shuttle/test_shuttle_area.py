"""Planning on the embedded Helsinki Area, and the `warmheart shuttles plan` command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from routing import CoordinateError
from routing.shuttle import (
    Rider,
    ShuttleSettings,
    check_plan,
    plan_shuttles,
    sample_fleet,
    sample_riders,
    sample_workplace,
)
from routing.shuttle.inputs import write_fleet_csv, write_riders_csv

SETTINGS = ShuttleSettings(time_limit_s=0.5)


@pytest.fixture(scope="module")
def helsinki_plan(helsinki_area):  # type: ignore[no-untyped-def]
    riders = sample_riders(helsinki_area, 120, seed=5)
    wp = sample_workplace(helsinki_area, riders=riders)
    riders.append(Rider("far-away", 24.70, 60.30))  # off the map
    riders.append(Rider("nan-home", float("nan"), 60.17))
    return plan_shuttles(helsinki_area, riders, sample_fleet(120), wp, settings=SETTINGS)


def test_helsinki_plan_passes_the_checker(helsinki_area, helsinki_plan) -> None:  # type: ignore[no-untyped-def]
    """A sample plan on real walk and drive graphs keeps every rule of the checker."""
    assert helsinki_plan.kpis["riders_served"] > 60
    assert check_plan(helsinki_plan, helsinki_area) == []


def test_off_map_riders_are_reported(helsinki_plan) -> None:  # type: ignore[no-untyped-def]
    """Homes far from the walk graph or with invalid coordinates are off_map, not dropped."""
    reasons = {u.rider_id: u.reason for u in helsinki_plan.unserved}
    assert reasons["far-away"] == "off_map"
    assert reasons["nan-home"] == "off_map"
    assert helsinki_plan.kpis["riders"] == 122


def test_lines_follow_the_drive_graph(helsinki_area, helsinki_plan) -> None:  # type: ignore[no-untyped-def]
    """Each line's path runs from its first stop, on its drive edge, to the workplace's point
    on the nearest drive edge, and lies on drive-graph streets all the way."""
    import shapely

    wp = helsinki_area.locate(*helsinki_plan.workplace, network="drive")
    at_work = (float(wp.lon[0]), float(wp.lat[0]))
    streets = shapely.union_all(helsinki_area.arrays("drive").edges.lines(lonlat=True))
    for ln in helsinki_plan.lines:
        first = (ln.stops[0].lon, ln.stops[0].lat)
        ends = (first, at_work) if ln.to_work else (at_work, (ln.stops[-1].lon, ln.stops[-1].lat))
        assert ln.path.coords[0] == pytest.approx(ends[0], abs=1e-6)
        assert ln.path.coords[-1] == pytest.approx(ends[1], abs=1e-6)
        assert ln.distance_m > 0
        # every vertex of the path is on a street (1e-6 degrees ~ 0.1 m)
        assert all(streets.distance(shapely.Point(c)) < 1e-6 for c in ln.path.coords)


def test_workplace_off_the_map_is_an_error(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """A workplace far from the drive graph is a clear coordinate error."""
    with pytest.raises(CoordinateError, match="workplace"):
        plan_shuttles(
            helsinki_area,
            [Rider("a", 24.94, 60.17)],
            sample_fleet(1),
            (25.5, 60.5),
            settings=SETTINGS,
        )


def test_cli_plan(helsinki_area, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`shuttles plan` prints a summary (or JSON), reports progress on stderr, writes --out."""
    from webmap.cli import main

    riders = sample_riders(helsinki_area, 60, seed=1)
    write_riders_csv(riders, tmp_path / "r.csv")
    write_fleet_csv(sample_fleet(60), tmp_path / "f.csv")
    lon, lat = sample_workplace(helsinki_area, riders=riders)
    args = [
        "shuttles",
        "plan",
        "--area",
        "helsinki",
        "--riders",
        str(tmp_path / "r.csv"),
        "--fleet",
        str(tmp_path / "f.csv"),
        "--workplace",
        f"{lon},{lat}",
        "--time-limit",
        "0.3",
        "--deadline",
        "07:45",
    ]
    runner = CliRunner()
    res = runner.invoke(main, [*args, "--json", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["deadline"] == "07:45:00"
    assert summary["kpis"]["riders"] == 60
    assert "Planning 60 riders" in res.stderr
    assert (tmp_path / "out" / "timetable.csv").is_file()
    res = runner.invoke(main, args)
    assert res.exit_code == 0
    assert "rides served" in res.stdout


def test_cli_bad_inputs(helsinki_area, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Malformed riders, a bad setting and a missing workplace fail with clear messages."""
    from webmap.cli import main

    (tmp_path / "r.csv").write_text("id,lon,lat\na,east,60.17\n")
    write_fleet_csv(sample_fleet(1), tmp_path / "f.csv")
    base = ["shuttles", "plan", "--area", "helsinki", "--fleet", str(tmp_path / "f.csv")]
    runner = CliRunner()
    res = runner.invoke(
        main, [*base, "--riders", str(tmp_path / "r.csv"), "--workplace", "24.94,60.17"]
    )
    assert res.exit_code == 1
    assert "row 1, lon" in res.output
    (tmp_path / "r.csv").write_text("id,lon,lat\na,24.94,60.17\n")
    res = runner.invoke(
        main,
        [
            *base,
            "--riders",
            str(tmp_path / "r.csv"),
            "--workplace",
            "24.94,60.17",
            "--time-limit",
            "-1",
        ],
    )
    assert res.exit_code == 1
    assert "time_limit_s" in res.output
    res = runner.invoke(main, [*base, "--riders", str(tmp_path / "r.csv")])
    assert res.exit_code == 2
    assert "--workplace" in res.output


def test_districts_cover_every_placed_rider(helsinki_plan) -> None:  # type: ignore[no-untyped-def]
    """Every rider on the map belongs to exactly one district of the plan."""
    members = [rid for d in helsinki_plan.districts for rid in d.rider_ids]
    assert len(members) == len(set(members))
    off = {u.rider_id for u in helsinki_plan.unserved if u.reason == "off_map"}
    assert set(members) == {r.id for r in helsinki_plan.riders} - off
    assert any(d.polygon is not None for d in helsinki_plan.districts)


def test_two_workplaces_are_separate_waves(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Riders of two workplaces get lines ending at their own workplace; the plan checks."""
    drive = helsinki_area.arrays("drive")
    other = (float(drive.lon[0]), float(drive.lat[0]))
    homes = sample_riders(helsinki_area, 80, seed=9)
    wp = sample_workplace(helsinki_area, riders=homes)
    riders = [
        Rider(r.id, r.lon, r.lat, workplace=other if i % 2 else None) for i, r in enumerate(homes)
    ]
    plan = plan_shuttles(helsinki_area, riders, sample_fleet(80), wp, settings=SETTINGS)
    assert len(plan.meta["waves"]) == 2
    ends = {ln.workplace for ln in plan.lines}
    assert ends == {wp, other}
    by_id = {r.id: r for r in riders}
    for a in plan.assignments:
        assert plan.line(a.line_id).workplace == (by_id[a.rider_id].workplace or wp)
    assert check_plan(plan, helsinki_area) == []


def test_sample_works_without_pois(helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Sample riders and workplace fall back to graph nodes on an Area without POI layers."""
    import copy

    bare = copy.copy(helsinki_area)
    bare.pois = {name: layer.iloc[0:0] for name, layer in helsinki_area.pois.items()}
    riders = sample_riders(bare, 30, seed=2)
    assert riders == sample_riders(bare, 30, seed=2)
    walk = bare.arrays("walk")
    assert {(r.lon, r.lat) for r in riders} <= {
        (round(float(x), 7), round(float(y), 7)) for x, y in zip(walk.lon, walk.lat, strict=True)
    }
    wp = sample_workplace(bare)
    plan = plan_shuttles(bare, riders, sample_fleet(30), wp, settings=SETTINGS)
    assert check_plan(plan, bare) == []
    assert plan.kpis["riders"] == 30
