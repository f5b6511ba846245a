"""``warmheart batch coverage``: coverage for many areas as one Dask job (:mod:`stations.batch`).

Dask is imported inside the command only, so ``warmheart --help`` and every other command
start without it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click

from ._errors import StationValueError
from .cli import StoreParam

__all__ = ["batch"]


def _numbers(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        msg = f"Expected minutes as numbers separated by commas (5,10,15), got {text!r}"
        raise click.BadParameter(msg) from None


@click.group("batch")
def batch() -> None:
    """Batch jobs over many areas on Dask (a LocalCluster, or a cluster via --scheduler)."""


@batch.command("coverage")
@click.option("--areas", help="Registered area names (or OSM files), separated by commas.")
@click.option(
    "--sources",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A folder of OSM files (.osm.pbf, .osm, .osm.bz2): one area per file.",
)
@click.option(
    "--store",
    type=StoreParam(),
    metavar="PATH|URL",
    help="One station registry for every area (each takes the stations inside its bounds) "
    "[default: each area's own $WARMHEART_HOME/stations/<area>.gpkg].",
)
@click.option("--minutes", default="5,10,15", show_default=True, help="Walking budgets.")
@click.option(
    "--demand",
    default="streets,homes",
    show_default=True,
    help="Demand layers, separated by commas (streets, homes, hotspots).",
)
@click.option("--kind", help="Only stations of this kind [default: all].")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("coverage-batch"),
    show_default=True,
    help="Result folder (shared by every worker on a cluster).",
)
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="A running Dask scheduler.")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 256),
    help="LocalCluster worker processes (without --scheduler).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary rows as JSON.")
def coverage_batch_command(
    areas: str | None,
    sources: Path | None,
    store: Path | str | None,
    minutes: str,
    demand: str,
    kind: str | None,
    out: Path,
    scheduler: str | None,
    workers: int,
    as_json: bool,
) -> None:
    """Coverage of many areas, one Dask task per area; unchanged areas are skipped.

    Writes OUT/<area>/coverage.parquet (+ a GeoParquet per point layer and result.json) and
    OUT/summary.parquet / summary.csv. A failing area is reported and the others go on;
    the exit code is 1 when any area failed.
    """
    import logging
    import os

    from .batch import BatchSettings, plan_tasks, run_batch

    if logging.getLogger().getEffectiveLevel() >= logging.WARNING:  # no -v: our lines only
        # read by dask.distributed at import, here and in the worker processes it starts
        os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")

    try:
        tasks = plan_tasks(
            areas=areas.split(",") if areas is not None else None,
            sources=sources,
            store=str(store) if store is not None else None,
        )
        settings = BatchSettings(
            minutes=_numbers(minutes),
            demand=tuple(d for d in demand.split(",") if d.strip()),
            kind=kind,
        )
    except StationValueError as exc:
        raise click.UsageError(str(exc)) from None
    where = scheduler or f"a LocalCluster of {workers} workers"
    click.echo(f"coverage of {len(tasks)} areas on {where} -> {out}", err=True)
    started = time.perf_counter()
    finished = [0]

    def progress(row: dict[str, Any]) -> None:
        finished[0] += 1
        detail = row["error"] if row["status"] == "failed" else f"{row['stations']} stations"
        click.echo(
            f"[{finished[0]}/{len(tasks)}] {row['area']}: {row['status']} "
            f"({row['seconds']:.1f} s, {detail})",
            err=True,
        )

    try:
        rows = run_batch(
            tasks, settings, out=out, scheduler=scheduler, workers=workers, on_row=progress
        )
    except OSError as exc:  # an unreachable scheduler, an unwritable folder
        raise click.ClickException(
            f"Expected a reachable Dask scheduler and a writable --out: {exc}"
        ) from None
    counts = {s: sum(r["status"] == s for r in rows) for s in ("done", "skipped", "failed")}
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        click.echo(
            f"{counts['done']} done, {counts['skipped']} skipped (unchanged), "
            f"{counts['failed']} failed in {time.perf_counter() - started:.1f} s; "
            f"summary: {out / 'summary.csv'}"
        )
    if counts["failed"]:
        sys.exit(1)
