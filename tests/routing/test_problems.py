"""The one row-problem type: shared by every reader, printed and serialised one way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.problems import RowProblem, format_problems, problems_to_dicts
from routing.shuttle import ShuttleInputError, read_fleet, read_riders
from stations import MemoryStore, StationImportError
from stations.io import import_stations


def test_text_and_json_forms() -> None:
    """A problem prints as 'row N, field: what' (or 'file, -'); JSON keeps nulls."""
    row = RowProblem(3, "lat", "Expected latitude in [-90, 90], got 123.4")
    whole = RowProblem(None, None, "missing column name")
    assert str(row) == "row 3, lat: Expected latitude in [-90, 90], got 123.4"
    assert str(whole) == "file, -: missing column name"
    assert json.loads(json.dumps(problems_to_dicts([row, whole]))) == [
        {"row": 3, "field": "lat", "problem": "Expected latitude in [-90, 90], got 123.4"},
        {"row": None, "field": None, "problem": "missing column name"},
    ]


def test_format_problems_labels_and_limits() -> None:
    """Labels line up; past the limit the rest is counted, not dropped silently."""
    items = [RowProblem(i, "id", "missing") for i in range(1, 8)]
    text = format_problems(items, label="error", limit=5)
    lines = text.splitlines()
    assert lines[0] == "  error   row 1, id: missing"
    assert len(lines) == 6 and lines[-1] == "  ... and 2 more"
    assert len(format_problems(items, limit=None).splitlines()) == 7
    assert format_problems([]) == ""


def test_shuttle_and_station_readers_share_the_type(tmp_path: Path) -> None:
    """Riders, fleet and station imports all report RowProblem objects."""
    riders = tmp_path / "riders.csv"
    riders.write_text("id,lon,lat\nr1,121.5,38.9\nr2,abc,38.9\n", encoding="utf-8")
    with pytest.raises(ShuttleInputError) as r_info:
        read_riders(riders)
    fleet = tmp_path / "fleet.csv"
    fleet.write_text(
        "type,seats,count,fixed_cost,cost_per_km,cost_per_hour\nbig,-5,1,1,1,1\n",
        encoding="utf-8",
    )
    with pytest.raises(ShuttleInputError) as f_info:
        read_fleet(fleet)
    stations = tmp_path / "s.csv"
    stations.write_text("kind,name,lon,lat\nwarm_station,A,116.4,99\n", encoding="utf-8")
    with pytest.raises(StationImportError) as s_info:
        import_stations(stations, MemoryStore())
    for problems in (r_info.value.problems, f_info.value.problems, s_info.value.problems):
        assert problems and all(type(p) is RowProblem for p in problems)
    assert RowProblem(2, "lon", "expected a number, got 'abc'") in r_info.value.problems
    assert "row 2, lon: expected a number, got 'abc'" in str(r_info.value)
    assert [(p.row, p.field) for p in s_info.value.problems] == [(1, "lat")]
