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


@pytest.fixture(scope="module")
def day_plan(helsinki_area):  # type: ignore[no-untyped-def]
    """A real plan of both directions on the sample area."""
    plan = solve_sample_plan(helsinki_area, seed=3, evening="17:30")
    assert {ln.direction for ln in plan.lines} == {"to_work", "from_work"}
    return plan


def test_day_feed_has_directions_blocks_and_names(tmp_path: Path, day_plan) -> None:  # type: ignore[no-untyped-def]
    """Trips home are direction 1 and start at the workplace (pick-up only); trips on one bus
    share its block_id; every stop has a name that is not its id; the feed validates."""
    path = write_gtfs(day_plan, tmp_path / "feed.zip", start_date="2026-01-05", agency_lang="en")
    assert _errors(path) == []
    feed = gk.read_feed(path, dist_units="km")
    trips = feed.trips.set_index("trip_id")
    st = feed.stop_times.sort_values(["trip_id", "stop_sequence"])
    for trip_id, calls in st.groupby("trip_id"):
        home = int(trips.loc[trip_id, "direction_id"]) == 1
        first, last = calls.iloc[0], calls.iloc[-1]
        if home:
            assert first.stop_id == "workplace" and int(first.pickup_type) == 0
            assert (calls.iloc[1:].pickup_type.astype(int) == 1).all()
        else:
            assert last.stop_id == "workplace" and int(last.drop_off_type) == 0
    blocks = {ln.id: ln.vehicle_id for ln in day_plan.lines}
    route_of = trips.route_id.to_dict()
    assert {t: blocks[r] for t, r in route_of.items()} == trips.block_id.to_dict()
    assert not (feed.stops.stop_name == feed.stops.stop_id).any()
    assert "Workplace" in set(feed.stops.stop_name)


def test_gtfs_lines_read_back_as_the_plan_runs(tmp_path: Path, day_plan, helsinki_area) -> None:  # type: ignore[no-untyped-def]
    """Reading the feed back gives every trip with its direction, stops in order, time and bus;
    evaluated on the area they run as planned (same trips and buses, no violations)."""
    from routing.shuttle.redesign import evaluate_lines, read_lines

    path = write_gtfs(day_plan, tmp_path / "feed.zip", start_date="2026-01-05")
    lines = read_lines(path)
    assert len(lines) == len(day_plan.lines)
    by_route = {ln.id.rsplit("-", 1)[0]: ln for ln in lines}
    for ln in day_plan.lines:
        got = by_route[ln.id]
        assert got.direction == ln.direction and got.vehicle_id == ln.vehicle_id
        assert [s.id for s in got.stops] == [v.stop_id for v in ln.stops]
        assert got.deadline_s == (ln.arrival_s if ln.to_work else ln.departure_s)
        assert got.bus_type == ln.bus_type
    ev = evaluate_lines(
        helsinki_area,
        lines,
        list(day_plan.riders),
        day_plan.fleet,
        workplace=day_plan.workplace,
        settings=day_plan.settings,
    )
    assert ev.plan.kpis["trips"] == day_plan.kpis["trips"]
    assert ev.plan.kpis["buses"] == day_plan.kpis["buses"]
    assert ev.violations == ()


def test_foreign_feed_directions_from_the_workplace(tmp_path: Path) -> None:
    """A feed without pick-up types or direction ids: the end nearer the given workplace
    tells the direction; missing stops and bad times are reported by file, row and field."""
    from routing.shuttle.gtfs_in import read_gtfs_lines

    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "stops.txt").write_text(
        "stop_id,stop_name,stop_lat,stop_lon\nW,Works,38.880,121.520\n"
        "A,Alpha,38.860,121.480\nB,Beta,38.865,121.490\n",
        encoding="utf-8",
    )
    (feed / "trips.txt").write_text("route_id,trip_id\nR,m1\nR,e1\n", encoding="utf-8")
    (feed / "stop_times.txt").write_text(
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "m1,07:40:00,07:40:00,A,1\nm1,07:45:00,07:45:00,B,2\nm1,08:05:00,08:05:00,W,3\n"
        "e1,17:30:00,17:32:00,W,1\ne1,17:50:00,17:50:00,B,2\ne1,17:55:00,17:55:00,A,3\n",
        encoding="utf-8",
    )
    lines = {ln.id: ln for ln in read_gtfs_lines(feed, workplace=(121.52, 38.88))}
    assert lines["m1"].direction == "to_work" and [s.id for s in lines["m1"].stops] == ["A", "B"]
    assert lines["m1"].deadline_s == 8 * 3600 + 5 * 60
    assert lines["e1"].direction == "from_work" and [s.id for s in lines["e1"].stops] == ["B", "A"]
    assert lines["e1"].deadline_s == 17 * 3600 + 32 * 60
    (feed / "stop_times.txt").write_text(
        "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "m1,07:40:00,07:40:00,Z,1\nm1,eight,eight,W,2\n",
        encoding="utf-8",
    )
    with pytest.raises(ShuttleInputError) as info:
        read_gtfs_lines(feed, workplace=(121.52, 38.88))
    assert (1, "stop_id") in {(p.row, p.field) for p in info.value.problems}
