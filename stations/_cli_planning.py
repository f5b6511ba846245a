"""``warmheart stations coverage`` and ``warmheart stations site``: the planners' commands."""

from __future__ import annotations

import csv
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import click

from ._errors import WarmheartError
from .model import KINDS

__all__ = ["coverage_command", "site_command"]


def _floats(text: str, name: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        msg = f"Expected {name} as comma-separated numbers like '5,10,15', got {text!r}"
        raise click.BadParameter(msg) from None


def _words(values: tuple[str, ...]) -> list[str]:
    return [w.strip() for v in values for w in v.split(",") if w.strip()]


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str)


def _write_out(out: Path, files: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = out / name
        if isinstance(content, list):  # CSV rows (dicts)
            with path.open("w", encoding="utf-8", newline="") as fh:
                if content:
                    writer = csv.DictWriter(fh, fieldnames=list(content[0]))
                    writer.writeheader()
                    writer.writerows(content)
        else:
            path.write_text(_dump(content), encoding="utf-8")
        click.echo(f"wrote {path}", err=True)


def _warnings(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        click.echo(f"Warning: {w.message}", err=True)


@click.command("coverage")
@click.option("--area", "area_name", required=True, help="Area name.")
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(KINDS), default=None, help="Only stations of KIND.")
@click.option("--minutes", default="5,10,15", show_default=True, help="Walking budgets.")
@click.option("--at", "at_text", default=None, help="Only stations open then: 'Tu 12:00', ISO.")
@click.option("--week", default=None, help="Reference week (any date in it; default: this week).")
@click.option(
    "--demand",
    "demands",
    multiple=True,
    help="streets, homes, hotspots or a CSV/GeoJSON of weighted points (repeat or comma).",
)
@click.option("--districts", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--by-hour", is_flag=True, help="Add the 7 x 24 table of the reference week.")
@click.option("--gaps", "top_gaps", type=int, default=10, show_default=True, help="Gap cells.")
@click.option("--cell", "cell_m", type=float, default=400.0, show_default=True, help="Gap cell m.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
def coverage_command(
    area_name: str,
    store_path: Path | None,
    kind: str | None,
    minutes: str,
    at_text: str | None,
    week: str | None,
    demands: tuple[str, ...],
    districts: Path | None,
    by_hour: bool,
    top_gaps: int,
    cell_m: float,
    as_json: bool,
    out: Path | None,
) -> None:
    """How much of an area is within walking minutes of a station, where the gaps are."""
    from datetime import date

    from ._gaps import gap_cells, street_bands
    from .cli import _load_area, _open
    from .coverage import CoverageModel, select_stations
    from .weekly import coverage_by_hour, parse_week_time

    budgets = _floats(minutes, "minutes")
    layers = _words(demands) or ["streets"]
    try:
        ref_week = date.fromisoformat(week) if week else None
    except ValueError:
        raise click.BadParameter(f"Expected --week as a date YYYY-MM-DD, got {week!r}") from None
    area = _load_area(area_name)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            stored = list(_open(area_name, store_path, create=False).all())
            at = parse_week_time(at_text, week=ref_week) if at_text else None
            chosen = select_stations(stored, kind=kind, at=at)
            model = CoverageModel(area, chosen, minutes=budgets, demand=layers, districts=districts)
            result = model.result(
                kind=kind, at=at.isoformat() if at else None, area=area.name
            ).to_dict()
            result["gaps"] = gap_cells(model, cell_m=cell_m, top=top_gaps)
            table = None
            if by_hour:
                from tqdm.auto import tqdm

                with tqdm(total=168, desc="open-sets", file=sys.stderr, leave=False) as bar:

                    def tick(done: int, total: int) -> None:
                        bar.total = total
                        bar.update(done - bar.n)

                    table = coverage_by_hour(
                        area, stored, minutes=budgets, demand=layers, kind=kind, week=ref_week,
                        on_progress=tick,
                    )  # fmt: skip
                result["by_hour"] = table.to_dict()
        except (WarmheartError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    _warnings(caught)
    if out is not None:
        bands = street_bands(model)
        labels = [f"<= {m:g} min" for m in model.minutes] + [f"> {model.minutes[-1]:g} min"]
        files: dict[str, Any] = {
            "coverage.json": result,
            "streets.geojson": {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "geometry": {
                            "type": "MultiLineString",
                            "coordinates": [line.round(7).tolist() for line in lines],
                        },
                        "properties": {"band": b, "label": labels[b]},
                    }
                    for b, lines in enumerate(bands)
                ],
            },
        }
        for layer in model.points:
            ids, secs, nearest = model.result().point_times(layer.demand.name)
            files[f"times_{layer.demand.name}.csv"] = [
                {
                    "id": i,
                    "minutes": "" if s == float("inf") else round(float(s) / 60, 3),
                    "station": n or "",
                }
                for i, s, n in zip(ids, secs, nearest, strict=True)
            ]
        _write_out(out, files)
    if as_json:
        click.echo(_dump(result))
        return
    click.echo(
        f"{area.name}: {result['stations']} stations"
        + (f" of kind {kind}" if kind else "")
        + (f" open at {result['at']}" if result["at"] else "")
    )
    head = "  ".join(f"{m:>8}" for m in (f"{b:g} min" for b in model.minutes))
    click.echo(f"{'layer':<12} {'total':>24}  {head}")
    for layer in result["layers"]:
        shares = "  ".join(f"{b['share']:>8.1%}" for b in layer["budgets"])
        total = f"{layer['total']:,.0f} {layer['unit']}"
        click.echo(f"{layer['layer']:<12} {total:>24}  {shares}")
    for gap in result["gaps"][:5]:
        parts = ", ".join(f"{k} {v['uncovered']:,.0f}" for k, v in gap["layers"].items())
        click.echo(f"gap {gap['rank']}: near {gap['lon']:.5f},{gap['lat']:.5f}: {parts}")
    if table is not None:
        night = table.to_dict()["layers"][0]["budgets"][-1]["share"]
        click.echo(
            f"{table.distinct_sets} distinct open-sets in the week; "
            f"{result['layers'][0]['layer']} within {model.minutes[-1]:g} min at Tu 03:00: "
            f"{night[1][3]:.1%}, at Tu 12:00: {night[1][12]:.1%}"
        )


@click.command("site")
@click.option("--area", "area_name", default=None, help="Area name (or --costs).")
@click.option("--costs", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--store", "store_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--add", "add", type=int, default=None, help="New stations to open.")
@click.option("--minutes", type=float, default=None, help="Walking budget (area).")
@click.option("--radius", type=float, default=None, help="Budget in the costs' unit (--costs).")
@click.option(
    "--objective", type=click.Choice(["mclp", "pmedian", "lscp"]), required=True, help="Goal."
)
@click.option("--target", "targets", default="0.95", show_default=True, help="lscp shares.")
@click.option("--kind", type=click.Choice(KINDS), default="warm_station", show_default=True)
@click.option("--demand", default="streets", show_default=True, help="Demand layer or file.")
@click.option("--candidates", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--exclude", "excluded", multiple=True, help="Candidate ids refused (comma ok).")
@click.option("--host-type", "host_types", multiple=True, help="Only these host types.")
@click.option("--capacitated", is_flag=True, help="Respect candidate capacities (MILP).")
@click.option("--weights", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--capacities", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--fixed", "fixed", multiple=True, help="Candidates open already (--costs).")
@click.option("--time-limit", type=float, default=60.0, show_default=True)
@click.option("--gap", type=float, default=0.005, show_default=True, help="Target gap.")
@click.option("--adopt", is_flag=True, help="Add the chosen hosts to the store as stations.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None)
def site_command(
    area_name: str | None,
    costs: Path | None,
    store_path: Path | None,
    add: int | None,
    minutes: float | None,
    radius: float | None,
    objective: str,
    targets: str,
    kind: str,
    demand: str,
    candidates: Path | None,
    excluded: tuple[str, ...],
    host_types: tuple[str, ...],
    capacitated: bool,
    weights: Path | None,
    capacities: Path | None,
    fixed: tuple[str, ...],
    time_limit: float,
    gap: float,
    adopt: bool,
    as_json: bool,
    out: Path | None,
) -> None:
    """Choose new stations among candidate hosts (or from a costs CSV), with a bound."""
    from .siting import (
        adopt_sites,
        proposal_features,
        proposal_rows,
        read_costs,
        site_stations,
        solve_siting,
    )

    if (area_name is None) == (costs is None):
        raise click.UsageError("Expected exactly one of --area NAME or --costs FILE.csv")
    if objective != "lscp" and add is None:
        raise click.UsageError(f"Expected --add P for objective {objective}")
    share = _floats(targets, "target") if objective == "lscp" else None

    def say(text: str) -> None:
        click.echo(f"... {text}", err=True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if costs is not None:
                if adopt:
                    raise click.UsageError("--adopt needs --area (sites need positions)")
                problem = read_costs(
                    costs, weights=weights, fixed=_words(fixed), capacities=capacities
                )
                result = solve_siting(
                    problem, objective=objective, p=add, radius=radius, target=share,
                    exclude=_words(excluded), host_types=_words(host_types) or None,
                    capacitated=capacitated, time_limit=time_limit, gap=gap, on_progress=say,
                )  # fmt: skip
            else:
                from .cli import _load_area, _open

                if minutes is None:
                    raise click.UsageError("Expected --minutes T with --area")
                area = _load_area(str(area_name))
                store = _open(str(area_name), store_path)
                result, problem = site_stations(
                    area, store.all(), add=add, minutes=minutes, objective=objective,
                    kind=kind, demand=demand, candidates=candidates, target=share,
                    exclude=_words(excluded), host_types=_words(host_types) or None,
                    capacitated=capacitated, time_limit=time_limit, gap=gap, on_progress=say,
                )  # fmt: skip
        except (WarmheartError, ValueError) as exc:
            raise click.ClickException(str(exc)) from exc
    _warnings(caught)
    data = {**result.to_dict(), "sites": proposal_rows(result, problem)}
    if out is not None:
        _write_out(
            out,
            {
                "siting.json": data,
                "proposal.csv": proposal_rows(result, problem),
                "proposal.geojson": proposal_features(result, problem),
            },
        )
    if adopt:
        note = f"proposed by warmheart siting ({objective}, {minutes:g} min)"
        added = adopt_sites(proposal_rows(result, problem), store, kind=kind, note=note)
        click.echo(f"adopted {len(added)} new stations into {store_path or area_name}", err=True)
    if as_json:
        click.echo(_dump(data))
        return
    click.echo(
        f"{objective}: {len(result.chosen)} new sites ({result.method}, {result.seconds:.1f} s)"
    )
    for row in data["sites"]:
        click.echo(f"  {row['rank']:>3}. {row['id']}  {row['name'] or ''}  gain {row['gain']:,.2f}")
    status = "optimal" if result.optimal else f"gap {result.gap:.2%}"
    click.echo(
        f"value {result.value:,.3f}  bounds [{result.lower:,.3f}, {result.upper:,.3f}]  {status}"
    )
    click.echo(f"before {result.before}  after {result.after}")
    for point in result.curve:
        click.echo(
            f"  target {point['target']:.0%}: {point['stations']} stations "
            f"(at least {point['lower_bound']})"
        )
