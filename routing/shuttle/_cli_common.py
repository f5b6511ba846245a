"""Options and helpers the ``warmheart shuttles`` commands share (``plan``, ``evaluate``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from routing._errors import AreaBuildError, CoordinateError
from routing.lonlat import lonlat_problem

from ._errors import ShuttleInputError, ShuttleSettingsError

if TYPE_CHECKING:
    from .model import Plan
    from .settings import ShuttleSettings

__all__ = [
    "ERRORS",
    "apply_overrides",
    "area_option",
    "crs_option",
    "parse_lonlat",
    "solver_options",
    "workplace_in",
    "write_plan_dir",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Errors a command reports as a one-line ``Error: ...`` (exit code 1) instead of a traceback.
ERRORS = (ShuttleInputError, ShuttleSettingsError, CoordinateError, AreaBuildError)


def area_option(f: F) -> F:
    """``--area NAME`` (required), passed as ``area_name``."""
    return click.option(
        "--area", "area_name", required=True, help="Area name (see `warmheart area`)."
    )(f)


#: Command-line options that override a planner setting (option name -> setting name).
OVERRIDES = {
    "deadline": "deadline",
    "evening_departure": "evening_departure",
    "max_lines": "max_lines",
    "max_buses": "max_buses",
    "time_limit": "time_limit_s",
    "seed": "seed",
}


def solver_options(f: F) -> F:
    """The optimiser options: ``--deadline``, ``--evening-departure``, ``--max-lines``,
    ``--max-buses``, ``--settings``, ``--time-limit``, ``--seed``.

    The command receives ``settings_path`` and ``overrides`` (the options given, by setting
    name, for :func:`apply_overrides`).
    """

    @functools.wraps(f)
    def command(*args: Any, **kwargs: Any) -> Any:
        given = {OVERRIDES[k]: kwargs.pop(k) for k in list(kwargs) if k in OVERRIDES}
        overrides = {k: v for k, v in given.items() if v is not None}
        return f(*args, overrides=overrides, **kwargs)

    wrapped: Any = command
    for option in reversed(
        (
            click.option("--deadline", default=None, help="Default arrival deadline HH:MM."),
            click.option(
                "--evening-departure",
                default=None,
                help="Default departure home HH:MM (shift end) for riders without their own.",
            ),
            click.option(
                "--max-lines",
                type=click.IntRange(min=0),
                default=None,
                help="At most this many trips each way (0: no cap); says what the cap costs.",
            ),
            click.option(
                "--max-buses",
                type=click.IntRange(min=0),
                default=None,
                help="At most this many buses in all (0: no cap).",
            ),
            click.option(
                "--settings",
                "settings_path",
                default=None,
                type=click.Path(dir_okay=False),
                help="Planner settings TOML.",
            ),
            click.option("--time-limit", type=float, default=None, help="Optimiser seconds."),
            click.option("--seed", type=int, default=None, help="Optimiser random seed."),
        )
    ):
        wrapped = option(wrapped)
    return wrapped


def crs_option(f: F) -> F:
    """``--crs wgs84|gcj02|bd09`` (default: undeclared WGS-84, checked), passed as ``crs``."""
    return click.option(
        "--crs",
        type=click.Choice(["wgs84", "gcj02", "bd09"]),
        default=None,
        help="Coordinate system of the homes (and --workplace): gcj02 for Amap/Tencent, bd09 "
        "for Baidu. Undeclared homes that fit the map much better in one of them are refused.",
    )(f)


def workplace_in(value: str | None, crs: str | None) -> tuple[float, float] | None:
    """``--workplace LON,LAT`` in WGS-84 (converted from ``crs`` when declared)."""
    if value is None:
        return None
    lon, lat = parse_lonlat(value)
    if crs in (None, "wgs84"):
        return lon, lat
    from routing.coords import to_wgs84

    x, y = to_wgs84([lon], [lat], crs)
    return round(float(x[0]), 7), round(float(y[0]), 7)


def apply_overrides(settings: ShuttleSettings, overrides: dict[str, Any]) -> ShuttleSettings:
    """``settings`` with the command-line values that were given (see :func:`solver_options`)."""
    return settings.replace(**overrides) if overrides else settings


def parse_lonlat(value: str) -> tuple[float, float]:
    """``"LON,LAT"`` as two floats in range (:class:`click.BadParameter` otherwise)."""
    try:
        lon_s, lat_s = value.split(",")
        lon, lat = float(lon_s), float(lat_s)
    except ValueError:
        msg = f"Expected LON,LAT (e.g. 121.52,38.88), got {value!r}"
        raise click.BadParameter(msg) from None
    problem = lonlat_problem(lon, lat)
    if problem is not None:
        raise click.BadParameter(f"{problem} in {value!r}")
    return lon, lat


def write_plan_dir(plan: Plan, out_dir: str | None, *, quiet: bool) -> None:
    """Write the plan directory when ``--out`` was given, saying where on stderr."""
    if out_dir is None:
        return
    from .export import write_plan

    written = write_plan(plan, Path(out_dir))
    if not quiet:
        click.echo(f"Wrote plan files to {written}", err=True)
