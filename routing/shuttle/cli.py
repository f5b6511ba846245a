"""``warmheart shuttles``: plan commuter shuttle lines from the command line."""

from __future__ import annotations

import json
import sys

import click

from ._cli_common import (
    ERRORS,
    apply_overrides,
    area_option,
    parse_lonlat,
    solver_options,
    write_plan_dir,
)
from .model import Plan
from .settings import ShuttleSettings, format_hms

__all__ = ["format_summary", "shuttles"]


def format_summary(plan: Plan) -> str:
    """A short human-readable KPI summary of a plan."""
    k = plan.kpis
    buses = ", ".join(f"{n} x {t}" for t, n in k["buses_by_type"].items()) or "none"
    lines = [
        f"Shuttle plan for {plan.area or 'instance'}: workplace {plan.workplace[0]:.5f},"
        f"{plan.workplace[1]:.5f}, deadline {format_hms(plan.deadline)[:5]}",
        f"  lines            {k['lines']} ({buses})",
        f"  riders served    {k['riders_served']} of {k['riders']}",
        f"  vehicle-km       {k['vehicle_km']}",
        f"  vehicle-hours    {k['vehicle_hours']}",
    ]
    if k["riders_served"]:
        r, w = k["ride_min"], k["walk_m"]
        lines += [
            f"  ride (min)       mean {r['mean']}  p95 {r['p95']}  max {r['max']}",
            f"  walk (m)         mean {w['mean']:.0f}  p95 {w['p95']:.0f}  max {w['max']:.0f}",
            f"  seat utilisation {k['seat_utilisation']:.0%}",
        ]
    lines.append(f"  total cost       {k['total_cost']}")
    if k["unserved_by_reason"]:
        lines.append("  unserved:")
        lines += [f"    {reason:<38} {n}" for reason, n in k["unserved_by_reason"].items()]
    return "\n".join(lines)


def _progress(elapsed: float, cost: float | None, label: str) -> None:
    """Solver progress on stderr, every report (used by ``evaluate`` too)."""
    best = f"best cost {cost:,.1f}" if cost is not None else "no feasible plan yet"
    click.echo(f"  {label}: {elapsed:5.1f} s, {best}", err=True)


class _Progress:
    """Solver progress on stderr: the first report, then one every ``every`` seconds."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.next: dict[str, float] = {}

    def __call__(self, elapsed: float, cost: float | None, label: str) -> None:
        if elapsed < self.next.get(label, 0.0):
            return
        self.next[label] = elapsed + self.every
        _progress(elapsed, cost, label)


@click.group()
def shuttles() -> None:
    """Plan, evaluate and export commuter shuttle lines."""


@shuttles.command("plan")
@area_option
@click.option(
    "--riders",
    "riders_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Riders CSV (id, lon, lat, ...) or GeoJSON points.",
)
@click.option(
    "--fleet",
    "fleet_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Fleet CSV (type, seats, count, fixed_cost, cost_per_km, cost_per_hour).",
)
@click.option("--workplace", default=None, help="Default workplace as LON,LAT.")
@solver_options
@click.option(
    "--out",
    "out_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="Write summary.json, lines.geojson, timetable.csv, assignments.csv, unserved.csv here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def plan_cmd(
    area_name: str,
    riders_path: str,
    fleet_path: str,
    workplace: str | None,
    deadline: str | None,
    settings_path: str | None,
    time_limit: float | None,
    seed: int | None,
    out_dir: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Optimise shuttle lines from riders' homes to their workplace."""
    from routing import load_area

    from .inputs import read_fleet, read_riders
    from .plan import plan_shuttles

    try:
        settings = apply_overrides(
            ShuttleSettings.from_file(settings_path) if settings_path else ShuttleSettings(),
            deadline=deadline,
            time_limit=time_limit,
            seed=seed,
        )
        riders = read_riders(riders_path)
        fleet = read_fleet(fleet_path)
        if workplace is not None:
            wp = parse_lonlat(workplace)
        else:
            own = {r.workplace for r in riders if r.workplace is not None}
            if len(own) != 1 or any(r.workplace is None for r in riders):
                msg = (
                    "Expected --workplace LON,LAT (riders without their own "
                    "workplace_lon/workplace_lat need one)"
                )
                raise click.UsageError(msg)
            wp = own.pop()
        area = load_area(area_name)
        if not quiet:
            click.echo(
                f"Planning {len(riders)} riders on {area.name} ({settings.time_limit_s:g} s)...",
                err=True,
            )
        plan = plan_shuttles(
            area, riders, fleet, wp, settings=settings, progress=None if quiet else _Progress()
        )
    except ERRORS as exc:
        raise click.ClickException(str(exc)) from None
    write_plan_dir(plan, out_dir, quiet=quiet)
    if as_json:
        click.echo(json.dumps(plan.summary(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_summary(plan))
    sys.stdout.flush()


# `evaluate` and `export` live in their own module (redesign / GTFS) and join this group.
from ._cli_redesign import evaluate_cmd, export_cmd  # noqa: E402

shuttles.add_command(evaluate_cmd)
shuttles.add_command(export_cmd)
