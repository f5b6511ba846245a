"""``warmheart stations``: import, export, sample data and store info.

The locator's ``warmheart nearest`` command lives beside these (see :mod:`stations.locate`).
"""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ._errors import FileFormatError, StationImportError, StationValueError
from .coords import CRS_NAMES
from .model import KINDS

if TYPE_CHECKING:
    from routing.area import Area

    from .io import ImportReport
    from .store import GeoPackageStore

logger = logging.getLogger(__name__)

AREA_OPTION = click.option(
    "--area", "area_name", required=True, help="Area name (as built with `warmheart area build`)."
)
STORE_OPTION = click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Station GeoPackage (default: $WARMHEART_HOME/stations/AREA.gpkg).",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def _open(area_name: str, store_path: Path | None) -> GeoPackageStore:
    from .store import open_store

    try:
        return open_store(area_name, path=store_path)
    except StationValueError as exc:
        raise click.ClickException(str(exc)) from exc


def _load_area(area_name: str) -> Area:
    from routing import load_area

    try:
        return load_area(area_name)
    except (ValueError, OSError) as exc:
        msg = f"Expected a built area named {area_name!r}: {exc}"
        raise click.ClickException(msg) from exc


def _emit(report: ImportReport, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        click.echo(json.dumps({**report.to_dict(), **(extra or {})}, ensure_ascii=False, indent=2))
    else:
        click.echo(str(report))


@click.group("stations")
def stations() -> None:
    """Station registry: import, export and sample data for an area."""


@stations.command("import")
@click.argument("source")
@AREA_OPTION
@click.option(
    "--crs",
    type=click.Choice(CRS_NAMES, case_sensitive=False),
    default="wgs84",
    show_default=True,
    help="Coordinate system of the file: wgs84 (OSM/GPS), gcj02 (Amap/Tencent), bd09 (Baidu).",
)
@STORE_OPTION
@click.option("--replace", is_flag=True, help="Update stations whose id is already stored.")
@click.option("--layer", default=None, help="GeoPackage layer to read (default: stations).")
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Check the points against the area's walk network (needs the built area).",
)
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@JSON_OPTION
def import_command(
    source: str,
    area_name: str,
    crs: str,
    store_path: Path | None,
    replace: bool,
    layer: str | None,
    check: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import SOURCE into the area's station store, all or nothing.

    SOURCE is a .csv, .geojson/.json or .gpkg file, or osm:LAYER to take the area's OSM POI
    layer (osm:hosts -> warm stations, osm:offices -> nursing rooms, osm:bus_stops ->
    shuttle stops). Any bad row aborts the import with a row-by-row report (exit status 1).
    """
    from .io import import_stations, read_stations
    from .osm import stations_from_pois

    area = _load_area(area_name) if check or source.startswith("osm:") else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if source.startswith("osm:"):
                assert area is not None
                report = stations_from_pois(area, source[4:])
            else:
                report = read_stations(source, crs=crs, area=area, layer=layer)
            if dry_run:
                _emit(report, as_json, {"dry_run": True})
                sys.exit(0 if report.ok else 1)
            with _open(area_name, store_path) as store:
                import_stations(report, store, replace=replace)
                total = len(store)
        except StationImportError as exc:
            _emit(exc.report, as_json)
            bad = len({p.row for p in exc.report.problems})
            click.echo(
                f"Error: import refused, {len(exc.report.problems)} problems in {bad} rows; "
                "nothing was written",
                err=True,
            )
            sys.exit(1)
        except (FileFormatError, StationValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    for w in caught:
        click.echo(f"Warning: {w.message}", err=True)
    _emit(report, as_json, {"store_total": total})


@stations.command("export")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@AREA_OPTION
@STORE_OPTION
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(KINDS),
    help="Only these kinds (repeatable).",
)
@JSON_OPTION
def export_command(
    path: Path, area_name: str, store_path: Path | None, kinds: tuple[str, ...], as_json: bool
) -> None:
    """Export the area's stations to PATH (.csv, .geojson/.json or .gpkg, from the suffix)."""
    from .io import export_stations

    with _open(area_name, store_path) as store:
        items = store.query(kinds=list(kinds)) if kinds else store.all()
    try:
        n = export_stations(items, path)
    except FileFormatError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps({"path": str(path), "stations": n}))
    else:
        click.echo(f"Wrote {n} stations to {path}")


@stations.command("sample")
@AREA_OPTION
@STORE_OPTION
@click.option("--seed", type=int, default=20240101, show_default=True, help="Random seed.")
@JSON_OPTION
def sample_command(area_name: str, store_path: Path | None, seed: int, as_json: bool) -> None:
    """Fill the area's store with deterministic SAMPLE stations at its real OSM POIs.

    Existing sample records are replaced; other stations are left alone.
    """
    from .io import ImportReport, import_stations
    from .sample import make_sample_stations

    area = _load_area(area_name)
    made = make_sample_stations(area, seed=seed)
    report = ImportReport(source=f"sample:{area_name}", format="sample", rows=len(made))
    report.stations = made
    with _open(area_name, store_path) as store:
        import_stations(report, store, replace=True)
        total = len(store)
    _emit(report, as_json, {"store_total": total})


@stations.command("info")
@AREA_OPTION
@STORE_OPTION
@JSON_OPTION
def info_command(area_name: str, store_path: Path | None, as_json: bool) -> None:
    """Where the area's store is and how many stations of each kind it holds."""
    with _open(area_name, store_path) as store:
        counts = {k: len(store.query(kinds=k)) for k in KINDS}
        data = {"path": str(store.path), "revision": store.revision, "counts": counts}
    if as_json:
        click.echo(json.dumps(data))
    else:
        click.echo(f"{data['path']} (revision {data['revision']})")
        for kind, n in counts.items():
            click.echo(f"  {kind:13s} {n}")
