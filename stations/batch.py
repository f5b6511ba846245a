"""Coverage for many areas as one Dask job: one task per area, results per area, resumable.

``warmheart batch coverage`` (:mod:`stations._cli_batch`) and :func:`run_batch` turn a list
of areas into one ``dask.distributed`` job: a ``LocalCluster`` by default, any running
cluster through its scheduler address. Each task (:func:`cover_area`) runs on a worker:

1. loads its Area by name or source (``routing.load_area``: from the worker's cache, built
   there on a miss — a cluster's workers share ``$WARMHEART_HOME`` or each builds once);
2. reads its stations: from one registry (``store``: a GeoPackage or ``postgresql://`` URL
   holding many cities; each area takes the stations inside its bounds) or from the area's
   own default GeoPackage;
3. hashes what the result depends on — the source (its file's bytes or the area's cache
   key), the area and batch settings and the stations — and returns at once when
   ``OUT/<area>/`` already holds a result of that hash (a rerun skips unchanged areas);
4. else runs :func:`stations.coverage.coverage` and writes ``OUT/<area>/coverage.parquet``
   (one row per layer and budget) plus, for each point layer, ``<layer>.parquet``
   (GeoParquet: every demand point with its walking time and nearest station), then
   ``result.json`` last (the marker a resumed run trusts).

A task never raises: a failure (unreadable source, no station store, ...) comes back as a
row with ``status="failed"`` and the error, and the other areas go on. :func:`run_batch`
writes ``OUT/summary.parquet`` and ``OUT/summary.csv`` (one row per area: status, seconds,
stations, covered share per layer and budget). Tasks are pure functions of their inputs,
so when Dask re-runs one (a worker died) the result is the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from routing.sources import PBF_SUFFIXES, XML_SUFFIXES

from ._errors import StationValueError

__all__ = [
    "AreaTask",
    "BatchSettings",
    "cover_area",
    "plan_tasks",
    "run_batch",
    "write_summary",
]

logger = logging.getLogger(__name__)

#: Bump when a result's files change shape (a changed version reruns every area).
RESULT_VERSION = 1
#: What a file in ``--sources DIR`` must end in to be an area (what ``area build`` reads).
_SOURCE_SUFFIXES = PBF_SUFFIXES + XML_SUFFIXES


@dataclass(frozen=True)
class BatchSettings:
    """What every area's coverage is asked (part of each result's hash).

    Attributes
    ----------
    minutes
        Walking budgets.
    demand
        Demand layers (``streets``, ``homes``, ``hotspots`` where the coverage module
        offers it).
    kind
        Only stations of this kind (``None``: all).
    """

    minutes: tuple[float, ...] = (5.0, 10.0, 15.0)
    demand: tuple[str, ...] = ("streets", "homes")
    kind: str | None = None

    def __post_init__(self) -> None:
        from .coverage import check_minutes

        object.__setattr__(self, "minutes", check_minutes(self.minutes))
        if not self.demand:
            msg = "Expected at least one demand layer, got none"
            raise StationValueError(msg, field="demand")
        object.__setattr__(self, "demand", tuple(str(d).strip() for d in self.demand))
        from ._demand import BUILT_IN_LAYERS
        from .model import KINDS

        for spec in self.demand:
            if spec not in BUILT_IN_LAYERS and not Path(spec).expanduser().is_file():
                msg = (
                    f"Expected demand layers among {', '.join(BUILT_IN_LAYERS)} or point files,"
                    f" got {spec!r}"
                )
                raise StationValueError(msg, field="demand")
        if self.kind is not None and self.kind not in KINDS:
            msg = f"Expected kind to be one of {', '.join(KINDS)}, got {self.kind!r}"
            raise StationValueError(msg, field="kind")


@dataclass(frozen=True)
class AreaTask:
    """One area of a batch.

    Attributes
    ----------
    name
        The result folder's name (a registered area name or the source file's stem).
    source
        What ``routing.load_area`` is given: a registered name or an OSM file path.
    store
        The station registry for every area (path or ``postgresql://`` URL), or ``None``
        for the area's own default GeoPackage.
    """

    name: str
    source: str
    store: str | None = None


@dataclass
class _Row:
    area: str
    status: str
    seconds: float = 0.0
    stations: int = 0
    digest: str = ""
    error: str | None = None
    shares: dict[str, float] = field(default_factory=dict)


def plan_tasks(
    *,
    areas: Sequence[str] | None = None,
    sources: str | os.PathLike[str] | None = None,
    store: str | None = None,
) -> list[AreaTask]:
    """The tasks of a batch over named ``areas`` or every OSM file in the folder ``sources``.

    Raises
    ------
    StationValueError
        Neither or both given, an empty list, a folder without OSM files, two areas of one
        name.
    """
    if (areas is None) == (sources is None):
        msg = "Expected either a list of areas or a folder of OSM sources, got " + (
            "both" if areas is not None else "neither"
        )
        raise StationValueError(msg, field="areas")
    tasks: list[AreaTask] = []
    if areas is not None:
        names = [a.strip() for a in areas if a and a.strip()]
        if not names:
            msg = "Expected at least one area name, got none"
            raise StationValueError(msg, field="areas")
        tasks = [AreaTask(name=_result_name(a), source=a, store=store) for a in names]
    else:
        folder = Path(str(sources)).expanduser()
        if not folder.is_dir():
            msg = f"Expected a folder of OSM files, got {str(folder)!r} which is not a folder"
            raise StationValueError(msg, field="sources")
        files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(_SOURCE_SUFFIXES)
        )
        if not files:
            msg = f"Expected OSM files ({', '.join(_SOURCE_SUFFIXES)}) in {str(folder)!r}, got none"
            raise StationValueError(msg, field="sources")
        tasks = [AreaTask(name=_result_name(p.name), source=str(p), store=store) for p in files]
    seen: dict[str, str] = {}
    for task in tasks:
        if task.name in seen:
            msg = (
                f"Expected one area per result name, got {seen[task.name]!r} and "
                f"{task.source!r} both named {task.name!r}"
            )
            raise StationValueError(msg, field="areas")
        seen[task.name] = task.source
    return tasks


def _result_name(text: str) -> str:
    """A folder name for an area: the name itself, or a file's stem without OSM suffixes."""
    from routing.sources import file_stem

    base = Path(text).name
    if base.lower().endswith(_SOURCE_SUFFIXES):
        return file_stem(Path(base))
    return base


def _digest(parts: Iterable[Any]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(json.dumps(part, sort_keys=True, default=str, ensure_ascii=False).encode())
        h.update(b"\0")
    return h.hexdigest()


def _source_identity(area: Any, task: AreaTask) -> str:
    """What the area was built from: its cache entry key (source bytes + area settings)."""
    cache_path = area.report.get("cache_path")
    if cache_path:
        return Path(cache_path).name
    return f"{task.source}:{area.settings.fingerprint() if area.settings else ''}"


def _stations_for(area: Any, task: AreaTask) -> list[Any]:
    from .store import default_store_path, open_store, store_exists

    if task.store is not None:
        store = open_store(path=task.store)
        try:
            return list(store.query(bbox=area.bounds))
        finally:
            store.close()
    path = default_store_path(task.name)
    if not store_exists(path):
        msg = (
            f"Expected stations for area {task.name!r} in {path} (or a registry given with "
            "--store), got no such store: import them with `warmheart stations import`"
        )
        raise StationValueError(msg, field="store")
    store = open_store(path=path)
    try:
        return list(store.all())
    finally:
        store.close()


def cover_area(task: AreaTask, settings: BatchSettings, out: str) -> dict[str, Any]:
    """The Dask task: coverage of one area written under ``out/<name>/``; a summary row.

    Never raises: errors come back as ``status="failed"`` with the message.
    """
    started = time.perf_counter()
    row = _Row(area=task.name, status="failed")
    try:
        from routing import load_area

        area = load_area(_check_source(task.source))
        stations = _stations_for(area, task)
        row.stations = len(stations)
        row.digest = _digest(
            [
                f"warmheart-batch-coverage-v{RESULT_VERSION}",
                _source_identity(area, task),
                asdict(settings),
                sorted((s.to_record() for s in stations), key=lambda r: str(r["id"])),
            ]
        )
        folder = Path(out) / task.name
        done = _read_done(folder)
        if done is not None and done.get("digest") == row.digest:
            row.status = "skipped"
            row.shares = dict(done.get("shares", {}))
        else:
            row.shares = _compute(area, stations, settings, folder, row.digest)
            row.status = "done"
    except Exception as exc:  # one area's failure is reported, the batch goes on
        row.error = f"{type(exc).__name__}: {exc}"
        logger.debug("batch area %s failed\n%s", task.name, traceback.format_exc())
    row.seconds = round(time.perf_counter() - started, 3)
    return asdict(row)


def _check_source(source: str) -> str:
    """A registered area name, a preset or an existing OSM file (never an Overpass query)."""
    from routing.cache import lookup_name
    from routing.presets import PRESETS

    if lookup_name(source) is not None or source.strip().lower() in PRESETS:
        return source
    if Path(source).expanduser().is_file():
        return source
    msg = (
        f"Expected a registered area name (see `warmheart area list`), a preset or an OSM "
        f"file, got {source!r}"
    )
    raise StationValueError(msg, field="areas")


def _read_done(folder: Path) -> dict[str, Any] | None:
    try:
        record = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _compute(
    area: Any, stations: list[Any], settings: BatchSettings, folder: Path, digest: str
) -> dict[str, float]:
    """Run the coverage and write the area's files atomically (a temp folder, then moved)."""
    import geopandas as gpd
    import pandas as pd
    from filelock import FileLock

    from .coverage import coverage

    result = coverage(
        area, stations, minutes=settings.minutes, demand=settings.demand, kind=settings.kind
    )
    rows = []
    shares: dict[str, float] = {}
    for layer in result.layers.values():
        for minutes, covered, share in zip(result.minutes, layer.covered, layer.share, strict=True):
            rows.append(
                {
                    "layer": layer.layer,
                    "unit": layer.unit,
                    "minutes": float(minutes),
                    "covered": float(covered),
                    "total": float(layer.total),
                    "off_map": float(layer.off_map),
                    "share": float(share),
                }
            )
            shares[f"{layer.layer}_{minutes:g}min"] = round(float(share), 6)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        pd.DataFrame(rows).to_parquet(tmp / "coverage.parquet", index=False)
        for spec in settings.demand:
            found = _point_layer(result, spec)
            if found is None:
                continue
            name, points = found
            ids, seconds, nearest = result.point_times(name)
            frame = gpd.GeoDataFrame(
                {"id": ids, "seconds": seconds, "station": nearest, "weight": points.weight},
                geometry=gpd.points_from_xy(points.lon, points.lat),
                crs="EPSG:4326",
            )
            frame.to_parquet(tmp / f"{name}.parquet", index=False)
        record = {
            "digest": digest,
            "stations": result.stations,
            "stations_off_map": list(result.off_map),
            "shares": shares,
            "coverage": result.to_dict(),
        }
        (tmp / "result.json").write_text(
            json.dumps(record, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
        with FileLock(folder.with_name(f".{folder.name}.lock")):  # a rerun racing its twin
            old = None
            if folder.exists():
                old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
                shutil.rmtree(old, ignore_errors=True)
                os.replace(folder, old)
            os.replace(tmp, folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return shares


def _point_layer(result: Any, spec: str) -> tuple[str, Any] | None:
    """``(name, DemandPoints)`` of a point layer of the result, ``None`` for streets."""
    model = result._model
    for item in model.points:
        demand = item.demand
        if demand.name == spec or Path(spec).stem == demand.name:
            return demand.name, demand
    return None


def run_batch(
    tasks: Sequence[AreaTask],
    settings: BatchSettings,
    *,
    out: str | os.PathLike[str],
    scheduler: str | None = None,
    workers: int = 2,
    threads_per_worker: int = 1,
    client: Any = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Run ``tasks`` as one Dask job and write the summary; the rows in task order.

    Parameters
    ----------
    tasks
        From :func:`plan_tasks`.
    settings
        Budgets, demand layers, kind.
    out
        Result folder (``<out>/<area>/``, ``<out>/summary.parquet``, ``<out>/summary.csv``).
        Must be reachable by every worker at the same path (on a cluster: a shared disk).
    scheduler
        ``tcp://HOST:PORT`` of a running cluster; default: a ``LocalCluster`` of
        ``workers`` processes, closed at the end.
    workers, threads_per_worker
        The LocalCluster's size (ignored with ``scheduler`` or ``client``).
    client
        A ``dask.distributed.Client`` to use as is (tests, notebooks).
    on_row
        Called with each area's row as it finishes (progress).
    """
    from dask.distributed import Client, LocalCluster, as_completed

    out_path = Path(out).expanduser().resolve()
    out_path.mkdir(parents=True, exist_ok=True)
    own: list[Any] = []
    try:
        if client is None:
            if scheduler is not None:
                client = Client(scheduler)
            else:
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=threads_per_worker,
                    processes=True,
                    dashboard_address=":0",  # any free port: never a clash
                )
                own.append(cluster)
                client = Client(cluster)
            own.insert(0, client)
        run = uuid.uuid4().hex[:8]  # fresh keys: a reused client must not answer from memory
        futures = {
            client.submit(
                cover_area, task, settings, str(out_path), key=f"cover-{task.name}-{run}"
            ): i
            for i, task in enumerate(tasks)
        }
        rows: list[dict[str, Any] | None] = [None] * len(tasks)
        for future in as_completed(futures):
            i = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # the task itself never raises: a worker kept dying
                row = asdict(_Row(area=tasks[i].name, status="failed", error=f"{exc}"))
            rows[i] = row
            if on_row is not None:
                on_row(row)
    finally:
        for item in own:
            item.close()
    done = [r for r in rows if r is not None]
    write_summary(done, out_path)
    return done


def write_summary(rows: Sequence[dict[str, Any]], out: Path) -> None:
    """``summary.parquet`` and ``summary.csv``: one row per area, shares as columns."""
    import pandas as pd

    flat = []
    for row in rows:
        item = {k: v for k, v in row.items() if k != "shares"}
        item.update(row.get("shares") or {})
        flat.append(item)
    frame = pd.DataFrame(flat)
    frame.to_parquet(out / "summary.parquet", index=False)
    frame.to_csv(out / "summary.csv", index=False)
