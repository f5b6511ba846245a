"""``warmheart shuttles evaluate`` and ``warmheart shuttles export`` (registered in ``cli.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ._cli_common import (
    ERRORS,
    apply_overrides,
    area_option,
    crs_option,
    solver_options,
    workplace_in,
    write_plan_dir,
)
from .settings import ShuttleSettings

__all__ = ["evaluate_cmd", "export_cmd"]


@click.command("evaluate")
@area_option
@click.option(
    "--lines",
    "lines_path",
    required=True,
    type=click.Path(exists=True),
    help="A plan directory, a lines CSV (line_id, bus_type, seq, stop_id and/or lon, lat) "
    "or a GTFS feed (zip or folder).",
)
@click.option(
    "--bus-type",
    default=None,
    help="Bus type of GTFS lines that do not say (default: the fleet's largest).",
)
@click.option(
    "--riders",
    "riders_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Riders CSV / GeoJSON (default: --sample-riders sample riders of the area).",
)
@click.option(
    "--fleet",
    "fleet_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="Fleet CSV (default: the plan directory's fleet, else a sample fleet).",
)
@click.option("--workplace", default=None, help="Workplace LON,LAT for lines that name none.")
@crs_option
@solver_options
@click.option(
    "--sample-riders",
    "n_sample",
    type=int,
    default=300,
    show_default=True,
    help="How many sample riders to use when --riders is not given.",
)
@click.option("--reoptimise", is_flag=True, help="Also re-optimise and print before/after.")
@click.option("--keep-stops", is_flag=True, help="Re-optimise using only the existing stops.")
@click.option(
    "--keep-lines",
    default=None,
    help="Comma-separated line ids kept as they are when re-optimising ('all').",
)
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Write the evaluated (or re-optimised) plan directory here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def evaluate_cmd(
    area_name: str,
    lines_path: str,
    bus_type: str | None,
    riders_path: str | None,
    fleet_path: str | None,
    workplace: str | None,
    crs: str | None,
    settings_path: str | None,
    overrides: dict[str, Any],
    n_sample: int,
    reoptimise: bool,
    keep_stops: bool,
    keep_lines: str | None,
    out_dir: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Evaluate existing lines (KPIs and violated constraints); optionally re-optimise."""
    from routing import load_area

    from . import redesign
    from .cli import _progress, format_summary
    from .inputs import read_fleet, read_riders

    try:
        lines_file = Path(lines_path)
        plan_fleet = None
        # A plan directory brings the settings it was planned with (unless --settings).
        settings = ShuttleSettings.from_file(settings_path) if settings_path else None
        from .gtfs_in import is_gtfs

        given_wp = workplace_in(workplace, crs)
        if lines_file.is_dir() and not is_gtfs(lines_file):
            from .export import read_plan

            old = read_plan(lines_file)
            lines = redesign.lines_from_plan(old)
            plan_fleet = old.fleet
            settings = settings or old.settings
        else:
            lines = redesign.read_lines(lines_file, workplace=given_wp, bus_type=bus_type)
        settings = apply_overrides(settings or ShuttleSettings(), overrides)
        area = load_area(area_name)
        wp = given_wp
        if wp is None:
            wp = next((ln.workplace for ln in lines if ln.workplace), None)
        if riders_path is not None:
            riders = read_riders(riders_path, crs=crs, area=area)
        else:
            from .sample import sample_riders, sample_workplace

            wp = wp or sample_workplace(area)
            riders = sample_riders(area, n_sample, seed=settings.seed)
            if not quiet:
                click.echo(
                    f"No --riders: using {len(riders)} sample riders of {area.name}", err=True
                )
        if fleet_path is not None:
            fleet = read_fleet(fleet_path)
        elif plan_fleet is not None:
            fleet = plan_fleet
        else:
            from .sample import sample_fleet

            fleet = sample_fleet(len(riders))
        evaluation = redesign.evaluate_lines(
            area, lines, riders, fleet, workplace=wp, settings=settings
        )
        result = evaluation.plan
        comparison = None
        if reoptimise or keep_stops or keep_lines:
            keep: bool | list[str] = (
                True
                if keep_lines == "all"
                else [s.strip() for s in keep_lines.split(",") if s.strip()]
                if keep_lines
                else []
            )
            if not quiet:
                click.echo(f"Re-optimising ({settings.time_limit_s:g} s)...", err=True)
            result = redesign.reoptimise(
                area,
                lines,
                riders,
                fleet,
                workplace=wp or evaluation.plan.workplace,
                keep_stops=keep_stops,
                keep_lines=keep,
                settings=settings,
                progress=None if quiet else _progress,
            )
            from .check import check_plan

            after = redesign.Evaluation(result, tuple(check_plan(result, area)))
            comparison = redesign.compare_plans(evaluation, after)
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    write_plan_dir(result, out_dir, quiet=quiet)
    if as_json:
        out: dict[str, Any] = {"evaluation": evaluation.summary()}
        if comparison is not None:
            out["reoptimised"] = result.summary()
            out["comparison"] = comparison.to_dict()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(format_summary(evaluation.plan))
    click.echo(redesign.describe_evaluation(evaluation))
    for v in evaluation.violations[:20]:
        click.echo(f"  {v}")
    if len(evaluation.violations) > 20:
        click.echo(f"  ... and {len(evaluation.violations) - 20} more")
    if comparison is not None:
        click.echo("")
        click.echo("Before (existing lines) / after (re-optimised):")
        click.echo(comparison.to_text())


@click.command("export")
@click.option(
    "--plan",
    "plan_dir",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A plan directory (from `shuttles plan --out`).",
)
@click.option(
    "--gtfs",
    "gtfs_path",
    default=None,
    type=click.Path(dir_okay=False),
    help="GTFS feed zip to write.",
)
@click.option(
    "--tables",
    "tables_path",
    default=None,
    type=click.Path(),
    help="Timetable, buses, assignments and unserved riders for a spreadsheet: FILE.xlsx, or a "
    "directory of CSV files Excel/WPS open with Chinese text intact.",
)
@click.option("--agency-name", default="Union commuter shuttles", show_default=True)
@click.option("--agency-url", default="https://www.openstreetmap.org/copyright", show_default=True)
@click.option(
    "--timezone",
    "agency_timezone",
    default="Asia/Shanghai",
    show_default=True,
    help="IANA time zone of the service.",
)
@click.option("--lang", "agency_lang", default="zh", show_default=True)
@click.option(
    "--days",
    "service_days",
    default="mon-fri",
    show_default=True,
    help="Service days, e.g. mon-fri or mon,wed,fri.",
)
@click.option("--start-date", default=None, help="Calendar start YYYY-MM-DD (default today).")
@click.option("--end-date", default=None, help="Calendar end YYYY-MM-DD (default a year on).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
def export_cmd(
    plan_dir: str,
    gtfs_path: str | None,
    tables_path: str | None,
    agency_name: str,
    agency_url: str,
    agency_timezone: str,
    agency_lang: str,
    service_days: str,
    start_date: str | None,
    end_date: str | None,
    as_json: bool,
) -> None:
    """Export a plan directory as a GTFS feed (zip) and/or as tables for a spreadsheet."""
    from .export import read_plan, write_plan_tables
    from .gtfs import write_gtfs

    if gtfs_path is None and tables_path is None:
        raise click.UsageError("Expected --gtfs FILE.zip or --tables FILE.xlsx|DIR (or both)")
    try:
        plan = read_plan(plan_dir)
        tables = write_plan_tables(plan, tables_path) if tables_path is not None else []
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    if gtfs_path is None:
        names = ", ".join(str(t) for t in tables)
        click.echo(
            json.dumps({"tables": [str(t) for t in tables]}) if as_json else f"Wrote {names}"
        )
        return
    try:
        out = write_gtfs(
            plan,
            gtfs_path,
            agency_name=agency_name,
            agency_url=agency_url,
            agency_timezone=agency_timezone,
            agency_lang=agency_lang,
            service_days=service_days,
            start_date=start_date,
            end_date=end_date,
        )
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    info = {
        "gtfs": str(out),
        "tables": [str(t) for t in tables],
        "routes": len(plan.lines),
        "stops": len({v.stop_id for ln in plan.lines for v in ln.stops}),
        "trips": len(plan.lines),
    }
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        click.echo(f"Wrote GTFS feed {out}: {info['routes']} routes, {info['stops']} stops")
