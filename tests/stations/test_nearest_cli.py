"""The ``warmheart nearest`` command."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from stations import GeoPackageStore, Station
from webmap.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from routing import Area


@pytest.fixture
def store_path(helsinki_area: Area, tmp_path: Path) -> Path:
    arrays = helsinki_area.arrays("walk")
    path = tmp_path / "stations.gpkg"
    with GeoPackageStore(path) as store:
        store.add(
            [
                Station(
                    id=f"w{i}",
                    kind="warm_station",
                    name=f"Warm {i}",
                    lon=float(arrays.lon[j]),
                    lat=float(arrays.lat[j]),
                    amenities={"microwave"} if i % 2 else {"toilet"},
                    opening_hours="Mo-Fr 08:00-18:00",
                )
                for i, j in enumerate(range(0, arrays.n, max(1, arrays.n // 12)))
            ]
        )
    return path


def _centre(area: Area) -> tuple[str, str]:
    lo0, la0, lo1, la1 = area.bounds
    return str((lo0 + lo1) / 2), str((la0 + la1) / 2)


def test_nearest_prints_hits_and_json(helsinki_area: Area, store_path: Path) -> None:
    """Text output lists hits nearest first; --json gives the same hits as data."""
    lon, lat = _centre(helsinki_area)
    args = [
        "nearest",
        "--area",
        "helsinki",
        "--lon",
        lon,
        "--lat",
        lat,
        "--store",
        str(store_path),
        "--k",
        "2",
        "--amenity",
        "microwave",
    ]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert out.output.count(" min ") == 2 and "Warm" in out.output
    out = CliRunner().invoke(main, [*args, "--json", "--open-at", "2024-01-16T12:00"])
    data = json.loads(out.output)
    hits = data["hits"]
    assert len(hits) == 2 and hits[0]["time_s"] <= hits[1]["time_s"]
    assert all("microwave" in h["station"]["properties"]["amenities"] for h in hits)
    assert hits[0]["path"]["type"] == "LineString"
    closed = CliRunner().invoke(main, [*args, "--json", "--open-at", "2024-01-13T12:00"])
    assert json.loads(closed.output)["reason"].startswith("no station with amenities microwave")


def test_nearest_missing_store_says_how_to_fill_it(helsinki_area: Area, tmp_path: Path) -> None:
    """A missing or empty store gets a message naming the import and sample commands."""
    lon, lat = _centre(helsinki_area)
    out = CliRunner().invoke(
        main,
        [
            "nearest",
            "--area",
            "helsinki",
            "--lon",
            lon,
            "--lat",
            lat,
            "--store",
            str(tmp_path / "none.gpkg"),
        ],
    )
    assert out.exit_code == 1
    assert "warmheart stations import" in out.output and "warmheart stations sample" in out.output
    GeoPackageStore(tmp_path / "empty.gpkg").close()
    out = CliRunner().invoke(
        main,
        [
            "nearest",
            "--area",
            "helsinki",
            "--lon",
            lon,
            "--lat",
            lat,
            "--store",
            str(tmp_path / "empty.gpkg"),
        ],
    )
    assert out.exit_code == 1 and "is empty" in out.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--lat", "95"], "Expected latitude in [-90, 90]"),
        (["--k", "0"], "Expected k in [1, 100], got 0"),
        (["--amenity", "wifi"], "got 'wifi'"),
        (["--open-at", "soon"], "ISO 8601"),
    ],
)
def test_nearest_bad_input_is_a_usage_error(
    helsinki_area: Area, store_path: Path, extra: list[str], message: str
) -> None:
    """Bad coordinates, k, amenity or time exit with status 2 and the reason."""
    lon, lat = _centre(helsinki_area)
    args = [
        "nearest",
        "--area",
        "helsinki",
        "--lon",
        lon,
        "--lat",
        lat,
        "--store",
        str(store_path),
        *extra,
    ]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 2
    assert message in out.output
