"""Write deterministic sample stations for an Area (thin wrapper over stations.sample).

Usage: python scripts/make_sample_stations.py [AREA] [--out PATH] [--seed N]

AREA defaults to the embedded sample ``helsinki``; PATH defaults to
``data/generated/stations_<AREA>.gpkg`` (``.geojson`` / ``.csv`` by suffix).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from routing import load_area
from stations.sample import write_sample_stations

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("area", nargs="?", default="helsinki", help="area name or source")
    parser.add_argument("--out", type=Path, default=None, help="output file")
    parser.add_argument("--seed", type=int, default=20240101, help="random seed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    area = load_area(args.area)
    out = args.out or ROOT / "data" / "generated" / f"stations_{area.name}.gpkg"
    n = write_sample_stations(area, out, seed=args.seed)
    print(f"Wrote {n} sample stations for {area.name} to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
