"""The ``warmheart`` command line.

Each domain registers its own commands here: ``area`` and ``shuttles`` (routing),
``stations`` and ``nearest`` (stations), ``serve`` and ``demo`` (webmap).
Every command has ``--help``; ``--json`` prints machine-readable output.
"""

from __future__ import annotations

import logging

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="warmheart")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def main(verbose: int) -> None:
    """warmheart: warm-heart stations, nursing rooms and commuter shuttles on OSM road graphs."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


# Command registration (one line per domain module; keep alphabetical).
from routing.cli import area  # noqa: E402
from routing.shuttle.cli import shuttles  # noqa: E402
from stations._cli_batch import batch  # noqa: E402
from stations.cli import nearest_command, stations  # noqa: E402
from webmap.demo import demo_command  # noqa: E402
from webmap.serve import serve_command  # noqa: E402

main.add_command(area)
main.add_command(batch)
main.add_command(demo_command)
main.add_command(nearest_command)
main.add_command(serve_command)
main.add_command(shuttles)
main.add_command(stations)
