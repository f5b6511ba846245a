"""The command line starts light: --help imports none of the heavy libraries."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from typing import Any

HEAVY = ("osmnx", "geopandas", "numba", "folium", "pandas", "scipy", "shapely", "networkx")

PROBE = """
import sys
from typing import TYPE_CHECKING
from webmap.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("LOADED:" + ",".join(sorted(m for m in {heavy!r} if m in sys.modules)))
"""


def heavy_modules_after(*args: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after ``warmheart ARGS`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED:"))
    return [m for m in line.removeprefix("LOADED:").split(",") if m]


def test_help_imports_no_heavy_library() -> None:
    """`warmheart --help` loads none of osmnx, geopandas, numba, folium, pandas, ..."""
    assert heavy_modules_after("--help") == []


@pytest.mark.parametrize("command", ["area", "stations", "shuttles", "serve", "nearest", "demo"])
def test_command_help_imports_no_heavy_library(command: str) -> None:
    """The help of every command is as light."""
    assert heavy_modules_after(command, "--help") == []


def test_the_probe_sees_heavy_imports() -> None:
    """The check is not vacuous: the isochrone module does import geopandas."""
    assert "numpy" not in HEAVY
    done = subprocess.run(
        [sys.executable, "-c", "import sys, stations.isochrone; print('geopandas' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "True"


def test_area_info_on_a_cached_area_loads_no_graph_library(helsinki_area: Any) -> None:
    """`warmheart area info NAME` reads the memory-mapped entry: no networkx, numba (the
    compiled locator), osmnx, geopandas or scipy.spatial until something locates a point."""
    loaded = heavy_modules_after("area", "info", "helsinki")
    assert not {"networkx", "numba", "osmnx", "geopandas", "folium"} & set(loaded), loaded
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from webmap.cli import main\n"
            "try:\n    main(['area', 'info', 'helsinki'])\nexcept SystemExit:\n    pass\n"
            "print('SPATIAL:', 'scipy.spatial' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "walk" in done.stdout and "nodes" in done.stdout  # it did show the area
    assert "SPATIAL: False" in done.stdout
