"""``warmheart area``: build Areas from OSM sources and inspect cached ones."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ._errors import AreaBuildError, AreaWarning, OfflineError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .area import Area

__all__ = ["area", "area_summary"]

logger = logging.getLogger(__name__)


def area_summary(area: Area) -> dict[str, Any]:
    """Plain-data summary of an Area (what ``warmheart area info --json`` prints)."""
    cache_path = area.report.get("cache_path")
    from . import cache

    size = cache.entry_bytes(Path(cache_path)) if cache_path else None
    settings = area.settings.to_dict() if hasattr(area.settings, "to_dict") else None
    graphs = {}
    for network in ("walk", "drive"):
        arrays = area.arrays(network)
        rep = area.report.get(network, {})
        graphs[network] = {
            "nodes": arrays.n,
            "edges": arrays.edges.m,
            "components_before": rep.get("components"),
            "dropped_nodes": rep.get("dropped_nodes"),
            "dropped_edges": rep.get("dropped_edges"),
            "maxspeed_unparsed": rep.get("maxspeed_unparsed"),
        }
    return {
        "name": area.name,
        "source": area.source,
        "crs": area.crs,
        "bounds": list(area.bounds),
        "graphs": graphs,
        "pois": area.report.get("pois") or {layer: len(area.pois[layer]) for layer in area.pois},
        "build_seconds": area.report.get("build_seconds"),
        "build_stages": area.report.get("stages", []),
        "cache_path": cache_path,
        "cache_bytes": size,
        "settings": settings,
    }


def _print_summary(summary: dict[str, Any]) -> None:
    out = click.echo
    out(f"area     {summary['name']}  ({summary['source']})")
    b = summary["bounds"]
    out(f"bounds   {b[0]:.5f},{b[1]:.5f},{b[2]:.5f},{b[3]:.5f}   crs {summary['crs']}")
    for network, g in summary["graphs"].items():
        out(
            f"{network:<8} {g['nodes']:,} nodes, {g['edges']:,} edges "
            f"(dropped {g['dropped_nodes']} nodes / {g['dropped_edges']} edges "
            f"outside the largest of {g['components_before']} strong components)"
        )
    pois = ", ".join(f"{k} {v}" for k, v in summary["pois"].items())
    out(f"pois     {pois}")
    if summary["cache_path"]:
        size = summary["cache_bytes"]
        mb = f"{size / 1e6:.1f} MB" if size is not None else "missing"
        out(f"cache    {summary['cache_path']} ({mb})")
    for stage in summary["build_stages"]:
        peak, child = stage.get("peak_mb"), stage.get("child_peak_mb")
        workers = f" (reader child {child:,.0f} MB)" if child else ""
        out(
            f"built    {stage['wall_s']:7.1f} s wall {stage['cpu_s']:7.1f} s cpu"
            f"  peak {peak if peak is not None else '?':>8} MB{workers}  {stage['stage']}"
        )


def _fail(exc: Exception) -> NoReturn:
    click.echo(f"Error: {exc}", err=True)
    sys.exit(1)


@contextlib.contextmanager
def _reported_errors() -> Iterator[None]:
    """Turn an error into one ``Error: ...`` line and exit code 1 (no traceback by default)."""
    try:
        yield
    except (AreaBuildError, OfflineError, ValueError) as exc:
        _fail(exc)
    except Exception as exc:  # a bug or an input we did not foresee
        logger.debug("area command failed", exc_info=True)
        _fail(RuntimeError(f"unexpected {type(exc).__name__}: {exc} (run with -vv for details)"))


def _echo_summary(loaded: Area, *, as_json: bool) -> None:
    summary = area_summary(loaded)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        _print_summary(summary)


@click.group()
def area() -> None:
    """Build road graphs and POI layers from OpenStreetMap, and inspect cached areas."""


@area.command("build")
@click.argument("source")
@click.option("--name", help="Register the area under this name (for `area info`, --area).")
@click.option(
    "--settings",
    "settings_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file of build settings (walk_speed_kmh, bus_factor, [highway_speeds], ...).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--no-progress", is_flag=True, help="Do not draw progress on stderr.")
def build_command(
    source: str, name: str | None, settings_file: Path | None, as_json: bool, no_progress: bool
) -> None:
    """Build an area from SOURCE and cache it.

    SOURCE is an .osm.pbf file (roads and POIs read by warmheart's own readers), an .osm /
    .osm.bz2 export (osmnx), a preset (helsinki, dalian-hightech), a bounding box
    "min_lon,min_lat,max_lon,max_lat" or a place name (the last two download from Overpass
    and need internet).
    """
    from .build import build_area
    from .settings import AreaSettings

    with _reported_errors():
        settings = AreaSettings.from_file(settings_file) if settings_file else None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AreaWarning)
            built = build_area(source, name=name, settings=settings, progress=not no_progress)
        for warning in caught:
            if issubclass(warning.category, AreaWarning):
                click.echo(f"Warning: {warning.message}", err=True)
            else:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
    _echo_summary(built, as_json=as_json)


@area.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def info_command(name: str, as_json: bool) -> None:
    """Show a cached area: graph sizes, POI counts, bounds, CRS, cache file.

    NAME is a name given to `area build --name`, a preset (helsinki) or a source
    (built and cached first if needed).
    """
    from . import cache
    from .build import load_area

    with _reported_errors():
        if cache.lookup_name(name) is None and not _is_buildable(name):
            known = ", ".join(cache.list_names()) or "none yet"
            msg = f"Expected a registered area name, got {name!r} (registered: {known})"
            raise AreaBuildError(msg)
        loaded = load_area(name, progress=True)
    _echo_summary(loaded, as_json=as_json)


def _is_buildable(name: str) -> bool:
    """Presets and existing files may be used by `area info` directly; place names may not."""
    from .presets import PRESETS

    return name.strip().lower() in PRESETS or Path(name).expanduser().is_file()


@area.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_command(as_json: bool) -> None:
    """List the areas registered in the cache ($WARMHEART_HOME) with their sources."""
    from . import cache

    rows: list[dict[str, Any]] = []
    for name in cache.list_names():
        record = cache.lookup_name(name) or {}
        key = str(record.get("key", ""))
        try:
            size = cache.entry_bytes(cache.entry_path(key))
        except ValueError:
            size = None
        rows.append({"name": name, "source": record.get("source"), "cache_bytes": size})
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"No areas in {cache.warmheart_home()} yet: run `warmheart area build SOURCE`.")
    for row in rows:
        nbytes = row["cache_bytes"]
        shown = f"{nbytes / 1e6:.1f} MB" if isinstance(nbytes, int) else "not cached"
        click.echo(f"{row['name']:<24} {shown:>10}  {row['source']}")
