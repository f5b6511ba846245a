"""``warmheart stations coverage`` and ``warmheart stations site`` as a user runs them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from webmap.cli import main


@pytest.fixture(scope="module")
def sample_store(helsinki_area, tmp_path_factory):
    """A store of the area's deterministic sample stations."""
    from stations import make_sample_stations, open_store

    path = tmp_path_factory.mktemp("planning") / "helsinki.gpkg"
    store = open_store("helsinki", path=path)
    store.add(make_sample_stations(helsinki_area, seed=1))
    return path


def test_coverage_json_has_shares_per_budget_and_layer(sample_store, tmp_path) -> None:
    """--json prints covered shares per budget and layer; --out writes the map layers."""
    out = tmp_path / "cov"
    result = CliRunner().invoke(
        main,
        ["stations", "coverage", "--area", "helsinki", "--store", str(sample_store),
         "--demand", "streets,homes", "--minutes", "5,10", "--kind", "warm_station",
         "--at", "Tu 12:00", "--json", "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [layer["layer"] for layer in data["layers"]] == ["streets", "homes"]
    assert [b["minutes"] for b in data["layers"][0]["budgets"]] == [5, 10]
    assert data["gaps"] and data["gaps"][0]["rank"] == 1
    streets = json.loads((out / "streets.geojson").read_text(encoding="utf-8"))
    assert [f["properties"]["band"] for f in streets["features"]] == [0, 1, 2]
    assert (out / "times_homes.csv").read_text(encoding="utf-8").startswith("id,minutes,station")


def test_site_json_lists_chosen_hosts_with_bounds(sample_store) -> None:
    """site --json prints chosen candidate ids, objective value, bound and gap."""
    result = CliRunner().invoke(
        main,
        ["stations", "site", "--area", "helsinki", "--store", str(sample_store), "--add", "2",
         "--minutes", "5", "--objective", "mclp", "--demand", "hotspots", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["chosen"]) == 2 and data["lower"] <= data["value"] <= data["upper"]
    assert {"gap", "optimal", "before", "after", "sites"} <= set(data)


def test_site_from_costs_file(tmp_path) -> None:
    """The matrix-level entry needs no Area."""
    costs = tmp_path / "costs.csv"
    costs.write_text("demand_id,candidate_id,cost\na,x,1\nb,y,1\nc,y,2\n", encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["stations", "site", "--costs", str(costs), "--add", "1", "--objective", "mclp",
         "--radius", "3", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["chosen"][0]["id"] == "y"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--minutes", "0"], "budget in minutes"),
        (["--demand", "parks"], "demand to be one of"),
        (["--add", "500", "--objective", "mclp"], "p <= the"),
    ],
)
def test_planning_cli_bad_input_is_one_clear_line(sample_store, args, message) -> None:
    """Bad input exits 1 with the library's message, no traceback."""
    command = "coverage" if args[0] != "--add" else "site"
    base = ["stations", command, "--area", "helsinki", "--store", str(sample_store)]
    if command == "site":
        base += ["--minutes", "5"]
    result = CliRunner().invoke(main, base + args)
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output
