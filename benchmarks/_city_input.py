"""The city-scale input of the benchmarks, and running a measured step in a fresh process.

Liechtenstein tiled ``columns`` x ``rows`` with pyosmium (``tests.tiling``: shifted
coordinates and ids, connector roads between neighbouring copies) is about Beijing's walk
network at 6 x 5; it is made once and kept under ``$WARMHEART_BENCH_CACHE`` (default the
temp folder) in ``warmheart-bench-city/``, never committed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED_OSM = ROOT.parent / "shared" / "osm"
SOURCE = SHARED_OSM / "liechtenstein.osm.pbf"


def cache_folder() -> Path:
    """Where the tiled file (and bench_city's area home) are kept between runs."""
    root = Path(os.environ.get("WARMHEART_BENCH_CACHE", Path(tempfile.gettempdir())))
    folder = root / "warmheart-bench-city"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def tiled_city(columns: int = 6, rows: int = 5) -> Path | None:
    """The tiled PBF, made on first use (a minute); ``None`` without ../shared/osm."""
    if not SOURCE.is_file():
        return None
    tiles = cache_folder() / f"liechtenstein-{columns}x{rows}.osm.pbf"
    if not tiles.is_file():
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        from tests.tiling import tile_osm

        t0 = time.perf_counter()
        made = tile_osm(SOURCE, tiles, columns=columns, rows=rows)
        print(
            f"(made {tiles.name}: {made.copies} copies, {made.nodes:,} nodes, {made.ways:,} ways,"
            f" {made.connectors} connectors, in {time.perf_counter() - t0:.0f} s)",
            file=sys.stderr,
        )
    return tiles


def run_json(code: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """Run ``python -c code args`` in the project folder (``env`` added to this process's);
    its last line of output, read as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        cwd=ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])
