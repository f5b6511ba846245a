"""``warmheart shuttles``: plan commuter shuttle lines from the command line."""

from __future__ import annotations

import json
import sys
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
from .model import Plan
from .settings import ShuttleSettings, format_hms

__all__ = ["format_summary", "shuttles"]


_WAYS = {"to_work": "to work", "from_work": "home"}


def format_summary(plan: Plan) -> str:
    """A short human-readable KPI summary of a plan."""
    k = plan.kpis
    buses = ", ".join(f"{n} x {t}" for t, n in k["buses_by_type"].items()) or "none"
    home = plan.settings.evening_departure
    lines = [
        f"Shuttle plan for {plan.area or 'instance'}: workplace {plan.workplace[0]:.5f},"
        f"{plan.workplace[1]:.5f}, deadline {format_hms(plan.deadline)[:5]}"
        + (f", home at {home[:5]}" if home else ""),
        f"  buses            {k['buses']} ({buses}) running {k['trips']} trips",
        f"  rides served     {k['riders_served']} of {k['riders']}"
        + (f" ({k['walkers']} walk to work)" if k.get("walkers") else ""),
    ]
    for d, part in (k.get("by_direction") or {}).items():
        ride = part["ride_min"]
        lines.append(
            f"    {_WAYS[d]:<14} {part['trips']} trips, {part['riders_served']} of "
            f"{part['riders']} served, ride mean {ride['mean']} / max {ride['max']} min"
        )
    lines += [
        f"  vehicle-km       {k['vehicle_km']} (empty {k.get('deadhead_km', 0)})",
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
        lines.append("  not bussed (rides):")
        lines += [f"    {reason:<38} {n}" for reason, n in k["unserved_by_reason"].items()]
    for wave, cap in (plan.meta.get("caps") or {}).items():
        trips, served = cap["trips"], cap["riders_served"]
        rides = cap["ride_min"]
        lines.append(
            f"  cap ({wave}): {trips['capped']} trips instead of {trips['uncapped']}, "
            f"{cap['riders_over_cap']} riders left out ({served['uncapped']} -> "
            f"{served['capped']} served), ride mean {rides['uncapped']['mean']} -> "
            f"{rides['capped']['mean']} min"
        )
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
@crs_option
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
    crs: str | None,
    settings_path: str | None,
    overrides: dict[str, Any],
    out_dir: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Optimise shuttle lines from riders' homes to their workplace and back."""
    from routing import load_area

    from .inputs import read_fleet, read_riders
    from .plan import plan_shuttles

    try:
        settings = apply_overrides(
            ShuttleSettings.from_file(settings_path) if settings_path else ShuttleSettings(),
            overrides,
        )
        area = load_area(area_name)
        riders = read_riders(riders_path, crs=crs, area=area)
        fleet = read_fleet(fleet_path)
        given = workplace_in(workplace, crs)
        if given is not None:
            wp = given
        else:
            own = {r.workplace for r in riders if r.workplace is not None}
            if len(own) != 1 or any(r.workplace is None for r in riders):
                msg = (
                    "Expected --workplace LON,LAT (riders without their own "
                    "workplace_lon/workplace_lat need one)"
                )
                raise click.UsageError(msg)
            wp = own.pop()
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
