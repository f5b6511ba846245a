"""GTFS export: a feed gtfs-kit reads and validates without errors, with the plan's content."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from _shuttle_plans import make_plan, solve_sample_plan

from routing.shuttle import ShuttleInputError
from routing.shuttle.export import read_plan, write_plan
from routing.shuttle.gtfs import write_gtfs

gk = pytest.importorskip("gtfs_kit")
# gtfs-kit 9's validator uses a pandas keyword that pandas 3.1 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


def _errors(path: Path) -> list[str]:
    feed = gk.read_feed(path, dist_units="km")
    report = feed.validate()
    return [f"{r.table}: {r.message}" for r in report.itertuples() if r.type == "error"]


def test_feed_validates_without_errors(tmp_path: Path) -> None:
    """gtfs-kit's validator reports no errors for an exported plan."""
    path = write_gtfs(
        make_plan(), tmp_path / "feed.zip", start_date="2026-01-05", end_date="2026-12-31"
    )
    assert _errors(path) == []


def test_validator_catches_a_broken_feed(tmp_path: Path) -> None:
    """The validation used above is not vacuous: a corrupted feed reports errors."""
    path = write_gtfs(make_plan(), tmp_path / "feed.zip", start_date="2026-01-05")
    feed = gk.read_feed(path, dist_units="km")
    feed.routes.loc[0, "route_type"] = 99
    feed.stop_times.loc[0, "stop_id"] = "nowhere"
    report = feed.validate()
    errors = set(report.loc[report.type == "error", "table"])
    assert {"routes", "stop_times"} <= errors


def test_feed_has_every_table_and_the_workplace_last(tmp_path: Path) -> None:
    """Agency, stops, routes (bus), trips, stop_times ending at work, calendar, shapes, info."""
    path = write_gtfs(make_plan(), tmp_path / "feed.zip", start_date="2026-01-05")
    with zipfile.ZipFile(path) as zf:
        assert set(zf.namelist()) == {
            "agency.txt",
            "stops.txt",
            "routes.txt",
            "trips.txt",
            "stop_times.txt",
            "calendar.txt",
            "shapes.txt",
            "feed_info.txt",
        }
    feed = gk.read_feed(path, dist_units="km")
    assert len(feed.routes) == 2 and set(feed.routes.route_type.astype(int)) == {3}
    st = feed.stop_times.sort_values(["trip_id", "stop_sequence"])
    last = st.groupby("trip_id").tail(1)
    assert set(last.stop_id) == {"workplace"}
    assert set(last.arrival_time) == {"08:30:00"}
    cal = feed.calendar.iloc[0]
    assert [int(cal[d]) for d in ("monday", "friday", "saturday", "sunday")] == [1, 1, 0, 0]
    assert str(cal.start_date) == "20260105" and str(cal.end_date) == "20270104"
    assert feed.shapes.groupby("shape_id").size().min() >= 2
    # The driven path of L001 has its 4 vertices in the shape.
    assert (feed.shapes.shape_id == "shape-L001").sum() == 4
    assert "黄浦路站" in set(feed.stops.stop_name)


def test_times_past_midnight_are_valid(tmp_path: Path) -> None:
    """A night-shift plan arriving after 24:00 is written as 24:xx:xx and still validates."""
    plan = make_plan(late_arrival=16 * 3600)  # arrive at 24:30
    path = write_gtfs(plan, tmp_path / "feed.zip", start_date="2026-01-05")
    feed = gk.read_feed(path, dist_units="km")
    assert "24:30:00" in set(feed.stop_times.arrival_time)
    assert _errors(path) == []


def test_feed_from_a_plan_directory(tmp_path: Path) -> None:
    """A plan read back from its directory exports the same feed tables."""
    plan_dir = write_plan(make_plan(with_path=False), tmp_path / "plan")
    path = write_gtfs(
        read_plan(plan_dir),
        tmp_path / "feed.zip",
        service_days="mon,wed,fri",
        start_date="2026-03-01",
        end_date="2026-06-30",
    )
    assert _errors(path) == []
    cal = gk.read_feed(path, dist_units="km").calendar.iloc[0]
    assert [int(cal[d]) for d in ("monday", "tuesday", "wednesday", "friday")] == [1, 0, 1, 1]


def test_bad_options_are_rejected(tmp_path: Path) -> None:
    """Bad days, dates, URL, time zone, or an empty plan give clear errors and no file."""
    plan = make_plan()
    target = tmp_path / "feed.zip"
    with pytest.raises(ShuttleInputError, match="weekday"):
        write_gtfs(plan, target, service_days="mon-funday")
    with pytest.raises(ShuttleInputError, match="YYYY-MM-DD"):
        write_gtfs(plan, target, start_date="next week")
    with pytest.raises(ShuttleInputError, match="end_date"):
        write_gtfs(plan, target, start_date="2026-05-01", end_date="2026-04-01")
    with pytest.raises(ShuttleInputError, match="URL"):
        write_gtfs(plan, target, agency_url="union office")
    with pytest.raises(ShuttleInputError, match="time zone"):
        write_gtfs(plan, target, agency_timezone="Beijing time")
    from dataclasses import replace

    with pytest.raises(ShuttleInputError, match="at least one line"):
        write_gtfs(replace(plan, lines=()), target)
    assert not target.exists()


def test_real_plan_feed_validates(tmp_path: Path, helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """A plan solved on the sample area exports a feed with no validation errors."""
    plan = solve_sample_plan(helsinki_area, seed=6)
    path = write_gtfs(
        plan,
        tmp_path / "feed.zip",
        agency_timezone="Europe/Helsinki",
        agency_lang="fi",
        start_date="2026-01-05",
    )
    assert _errors(path) == []
    feed = gk.read_feed(path, dist_units="km")
    assert len(feed.trips) == len(plan.lines)


def test_export_command_writes_the_feed(tmp_path: Path) -> None:
    """`warmheart shuttles export --plan DIR --gtfs FILE --json` writes a valid feed."""
    import json

    from click.testing import CliRunner

    from webmap.cli import main

    plan_dir = write_plan(make_plan(), tmp_path / "plan")
    target = tmp_path / "out" / "feed.zip"
    result = CliRunner().invoke(
        main,
        [
            "shuttles",
            "export",
            "--plan",
            str(plan_dir),
            "--gtfs",
            str(target),
            "--json",
            "--start-date",
            "2026-01-05",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["routes"] == 2
    assert _errors(target) == []
    bad = CliRunner().invoke(
        main,
        ["shuttles", "export", "--plan", str(plan_dir), "--gtfs", str(target), "--days", "someday"],
    )
    assert bad.exit_code != 0 and "weekday" in bad.output
