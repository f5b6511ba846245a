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

from routing._crs import CRS_NAMES

from ._errors import (
    FileFormatError,
    StationImportError,
    StationValueError,
    StoreUnavailableError,
    WarmheartError,
)
from ._readers import FORMAT_NAMES
from .model import KINDS

if TYPE_CHECKING:
    from routing.area import Area

    from .io import ImportReport
    from .store import StationStore

logger = logging.getLogger(__name__)

AREA_OPTION = click.option(
    "--area", "area_name", required=True, help="Area name (as built with `warmheart area build`)."
)
#: A ``--store`` value: a GeoPackage path or a ``postgresql://`` URL (kept as text).
StoreTarget = Path | str


class StoreParam(click.ParamType):
    """``--store``: a GeoPackage file, or ``postgresql://user:pass@host:port/db[?schema=S]``.

    URLs stay text (a ``Path`` would fold ``//``); their password never appears in an error.
    """

    name = "store"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from ._pgschema import is_database_url, parse_store_url

        if isinstance(value, Path) or not isinstance(value, str):
            return value
        if is_database_url(value):
            try:
                parse_store_url(value)
            except StationValueError as exc:
                self.fail(str(exc), param, ctx)
            return value
        path = Path(value)
        if path.is_dir():
            self.fail(f"Expected a GeoPackage file or a postgresql:// URL, got a folder: {path}")
        return path


STORE_OPTION = click.option(
    "--store",
    "store_path",
    type=StoreParam(),
    default=None,
    metavar="PATH|URL",
    help="Station GeoPackage, or postgresql://USER:PASSWORD@HOST:PORT/DB[?schema=NAME] for a "
    "PostGIS registry (default: $WARMHEART_HOME/stations/AREA.gpkg).",
)
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")


def _open(area_name: str, store_path: StoreTarget | None, *, create: bool = True) -> StationStore:
    from .store import default_store_path, open_store, store_exists

    try:
        if not create:
            path = store_path or default_store_path(area_name)
            if not store_exists(path):
                msg = (
                    f"Expected a station store at {path}, got none: import stations with "
                    f"`warmheart stations import FILE --area {area_name}` or make sample ones "
                    f"with `warmheart stations sample --area {area_name}`"
                )
                raise click.ClickException(msg)
        return open_store(area_name, path=store_path)
    except (StationValueError, StoreUnavailableError) as exc:
        raise click.ClickException(str(exc)) from exc


def _area_known(area_name: str) -> bool:
    """Whether ``area_name`` is a built (registered) area or a preset: loading it is offline."""
    from routing.cache import lookup_name
    from routing.presets import PRESETS

    return area_name in PRESETS or lookup_name(area_name) is not None


def _unknown_area(area_name: str) -> str:
    return (
        f"Expected a built area named {area_name!r} (see `warmheart area build SOURCE "
        f"--name {area_name}`), got an unknown name"
    )


def _maybe_load_area(area_name: str) -> Area | None:
    """The built area, or ``None`` (with a warning) when the name is unknown."""
    if not _area_known(area_name):
        msg = _unknown_area(area_name)
        click.echo(f"Warning: {msg}; skipping the road-network check", err=True)
        return None
    return _load_area(area_name)


def _load_area(area_name: str) -> Area:
    """Load a built area (never builds from the network); a clean error otherwise."""
    from routing import load_area

    if not _area_known(area_name):
        raise click.ClickException(_unknown_area(area_name))
    try:
        return load_area(area_name)
    except (WarmheartError, OSError) as exc:
        msg = f"Expected a loadable area named {area_name!r}: {exc}"
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
    default=None,
    help="Coordinate system of the file: wgs84 (OSM/GPS), gcj02 (Amap/Tencent), bd09 (Baidu). "
    "Undeclared points are read as wgs84 and refused if they look like gcj02/bd09.",
)
@click.option(
    "--columns",
    "columns",
    default=None,
    metavar="MAP",
    help="Which column is which field, where the headers are not recognised: "
    "'驿站名称=name,经度=lon,序号=-' or a .toml/.json/.txt mapping file.",
)
@click.option(
    "--kind", type=click.Choice(KINDS), default=None, help="Kind of the rows that have none."
)
@click.option(
    "--sheet", default=None, help="XLSX sheet to read (name or number; default the first)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_NAMES),
    default=None,
    help="File format (default: from the suffix).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Refuse rows off the area and values that could not be read (kept in notes otherwise).",
)
@STORE_OPTION
@click.option("--replace", is_flag=True, help="Update stations whose id is already stored.")
@click.option("--layer", default=None, help="GeoPackage layer to read (default: stations).")
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Check the points against the area's streets: coordinate system, rows off the area.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check everything the import would (the store's ids too); write nothing.",
)
@JSON_OPTION
def import_command(
    source: str,
    area_name: str,
    crs: str | None,
    columns: str | None,
    kind: str | None,
    sheet: str | None,
    fmt: str | None,
    strict: bool,
    store_path: StoreTarget | None,
    replace: bool,
    layer: str | None,
    check: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Import SOURCE into the area's station store, all or nothing.

    SOURCE is a .csv, .xlsx, .geojson/.json or .gpkg file, or osm:LAYER to take the area's
    OSM POI layer (osm:hosts -> warm stations, osm:offices -> nursing rooms, osm:bus_stops ->
    shuttle stops). Chinese or English headers are recognised (驿站名称, 经度, 纬度, 开放时间,
    服务设施, ...), as are Chinese opening hours and amenity words. Any bad row aborts the
    import with a row-by-row report (exit status 1).
    """
    from .io import import_stations
    from .osm import stations_from_pois
    from .store import MemoryStore

    from_osm = source.startswith("osm:")
    area: Area | None = None
    if from_osm:
        area = _load_area(area_name)
    elif check:
        area = _maybe_load_area(area_name)
    extra: dict[str, Any] = {"dry_run": True} if dry_run else {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            given = stations_from_pois(area, source[4:]) if from_osm and area else source
            # A dry run checks against the store when there is one, and never creates it.
            fresh = dry_run and not _store_exists(area_name, store_path)
            with MemoryStore() if fresh else _open(area_name, store_path) as store:
                report = import_stations(
                    given,
                    store,
                    crs=crs,
                    format=fmt,
                    area=area,
                    layer=layer,
                    sheet=sheet,
                    columns=columns,
                    kind=kind,
                    strict=strict,
                    replace=replace,
                    dry_run=dry_run,
                )
                if not dry_run:
                    extra["store_total"] = len(store)
        except StationImportError as exc:
            _emit(exc.report, as_json, extra)
            _refused(exc.report, dry_run=dry_run)
            sys.exit(1)
        except (FileFormatError, StationValueError, StoreUnavailableError) as exc:
            raise click.ClickException(str(exc)) from exc
    for w in caught:
        click.echo(f"Warning: {w.message}", err=True)
    _emit(report, as_json, extra)


def _store_exists(area_name: str, store_path: StoreTarget | None) -> bool:
    from .store import default_store_path, store_exists

    return store_exists(store_path or default_store_path(area_name))


def _refused(report: ImportReport, *, dry_run: bool) -> None:
    verdict = "the import would be refused" if dry_run else "import refused"
    click.echo(f"Error: {verdict}, {report.problem_count()}; nothing was written", err=True)


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
@click.option(
    "--excel",
    is_flag=True,
    help="CSV for Excel/WPS: UTF-8 with a byte-order mark so Chinese text opens intact.",
)
@JSON_OPTION
def export_command(
    path: Path,
    area_name: str,
    store_path: StoreTarget | None,
    kinds: tuple[str, ...],
    excel: bool,
    as_json: bool,
) -> None:
    """Export the area's stations to PATH (.csv, .xlsx, .geojson/.json or .gpkg, by suffix)."""
    from .io import export_stations

    with _open(area_name, store_path, create=False) as store:
        items = store.query(kinds=list(kinds)) if kinds else store.all()
    try:
        n = export_stations(items, path, excel=excel)
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
def sample_command(
    area_name: str, store_path: StoreTarget | None, seed: int, as_json: bool
) -> None:
    """Fill the area's store with deterministic SAMPLE stations at its real OSM POIs.

    Existing sample records are replaced; other stations are left alone.
    """
    from .io import ImportReport, import_stations
    from .sample import make_sample_stations

    area = _load_area(area_name)
    made = make_sample_stations(area, seed=seed)
    report = ImportReport(
        source=f"sample:{area_name}", format="sample", crs="wgs84", rows=len(made)
    )
    report.stations = made
    with _open(area_name, store_path) as store:
        import_stations(report, store, replace=True)
        total = len(store)
    _emit(report, as_json, {"store_total": total})


@stations.command("info")
@AREA_OPTION
@STORE_OPTION
@JSON_OPTION
def info_command(area_name: str, store_path: StoreTarget | None, as_json: bool) -> None:
    """Where the area's store is and how many stations of each kind it holds."""
    with _open(area_name, store_path, create=False) as store:
        counts = {k: len(store.query(kinds=k)) for k in KINDS}
        data = {"path": store.location, "revision": store.revision, "counts": counts}
    if as_json:
        click.echo(json.dumps(data))
    else:
        click.echo(f"{data['path']} (revision {data['revision']})")
        for kind, n in counts.items():
            click.echo(f"  {kind:13s} {n}")


@stations.command("copy")
@click.argument("source", type=StoreParam())
@click.argument("target", type=StoreParam())
@click.option("--replace", is_flag=True, help="Update stations whose id TARGET already holds.")
@JSON_OPTION
def copy_command(source: StoreTarget, target: StoreTarget, replace: bool, as_json: bool) -> None:
    """Copy every station from store SOURCE to store TARGET, all or nothing.

    Each is a GeoPackage file or a postgresql://USER:PASSWORD@HOST:PORT/DB[?schema=NAME]
    URL (GeoPackage <-> PostGIS, or between two of either). TARGET is created if needed.
    An id TARGET already holds refuses the whole copy unless --replace.
    """
    from ._errors import DuplicateStationError
    from .store import copy_stations, open_store, store_exists

    if not store_exists(source):
        raise click.ClickException(f"Expected a station store at {source}, got none")
    try:
        with open_store(path=source) as src, open_store(path=target) as dst:
            if src.location == dst.location:
                msg = f"Expected two different stores, got {src.location} twice"
                raise click.ClickException(msg)
            added, updated = copy_stations(
                src, dst, replace=replace, progress=lambda text: click.echo(text, err=True)
            )
            data = {
                "source": src.location,
                "target": dst.location,
                "added": added,
                "updated": updated,
                "target_total": len(dst),
                "target_revision": dst.revision,
            }
    except DuplicateStationError as exc:
        msg = f"{exc} (use --replace to update them)"
        raise click.ClickException(msg) from exc
    except (StationValueError, StoreUnavailableError) as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(
            f"Copied {added + updated} stations ({added} added, {updated} updated) from "
            f"{data['source']} to {data['target']}; it now holds {data['target_total']}"
        )


# --- warmheart nearest (the locator; see stations.locate) -----------------------------------


@click.command("nearest")
@AREA_OPTION
@click.option("--lon", type=float, required=True, help="Origin longitude (WGS-84).")
@click.option("--lat", type=float, required=True, help="Origin latitude (WGS-84).")
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only this kind.")
@click.option(
    "--amenity",
    "amenities",
    multiple=True,
    metavar="NAME",
    help="Required amenity (repeatable): microwave, drinking_water, toilet, ...",
)
@click.option("--k", "k", type=int, default=3, show_default=True, help="How many (1-100).")
@click.option("--open-at", "open_at", default=None, help="ISO date-time, HH:MM today, or now.")
@click.option("--max-minutes", type=float, default=None, help="Walking-time limit.")
@click.option(
    "--access", type=click.Choice(["public", "employees"]), default=None, help="Access filter."
)
@STORE_OPTION
@JSON_OPTION
def nearest_command(
    area_name: str,
    lon: float,
    lat: float,
    kind: str | None,
    amenities: tuple[str, ...],
    k: int,
    open_at: str | None,
    max_minutes: float | None,
    access: str | None,
    store_path: StoreTarget | None,
    as_json: bool,
) -> None:
    """Nearest stations on foot from --lon/--lat, by walking time on the area's walk graph."""
    from routing import CoordinateError

    from .locate import Locator
    from .store import default_store_path, store_exists

    path = store_path if store_path is not None else default_store_path(area_name)
    hint = (
        f"Import stations with `warmheart stations import FILE --area {area_name}` or make "
        f"sample stations with `warmheart stations sample --area {area_name}`."
    )
    if not store_exists(path):
        raise click.ClickException(f"No station store at {path}. {hint}")
    area = _load_area(area_name)
    with _open(area_name, store_path) as store:
        if len(store) == 0:
            raise click.ClickException(f"The station store {store.location} is empty. {hint}")
        # One query: the exact search from the origin beats building labels first.
        locator = Locator(area, store, precompute=False)
        try:
            result = locator.nearest(
                lon,
                lat,
                k=k,
                kind=kind,
                amenities=amenities,
                open_at=open_at,
                max_minutes=max_minutes,
                access=access,
            )
        except (CoordinateError, ValueError) as exc:
            raise click.UsageError(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if not result:
        click.echo(f"Nothing found: {result.reason}.")
        return
    click.echo(
        f"Nearest {len(result)} on foot from ({lon:.6f}, {lat:.6f}), "
        f"{result.snap_m:.0f} m to the nearest footpath:"
    )
    for rank, hit in enumerate(result, start=1):
        st = hit.station
        extras = f" [{', '.join(sorted(st.amenities))}]" if st.amenities else ""
        hours = f" {st.opening_hours}" if st.opening_hours else ""
        click.echo(
            f"{rank:3d}. {hit.minutes:5.1f} min {hit.distance_m:6.0f} m  {st.name} "
            f"({st.kind}, id {st.id}){hours}{extras}"
        )


# The planners' commands (coverage, siting) live in their own module.
from ._cli_planning import coverage_command, site_command  # noqa: E402

stations.add_command(coverage_command)
stations.add_command(site_command)
