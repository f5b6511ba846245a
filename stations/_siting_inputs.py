"""Siting inputs and outputs: a long costs CSV, an Area's hosts, proposals as files and stations.

* :func:`read_costs` — the matrix-level entry: ``demand_id,candidate_id,cost`` rows (plus
  optional demand weights and fixed candidates) -> :class:`~stations.siting.SitingProblem`,
  all rows checked, every problem reported at once.
* :func:`site_stations` — the Area entry: candidate hosts (the Area's ``hosts`` layer or a
  file), existing stations fixed, one demand layer, walking minutes on the street.
* :func:`proposal_features` / :func:`proposal_rows` — the chosen hosts as GeoJSON / CSV;
  :func:`adopt_sites` turns a proposal into stations in a store (one transaction).
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from routing.problems import RowProblem, format_problems

from ._errors import FileFormatError, StationValueError

if TYPE_CHECKING:
    from routing.area import Area

    from ._demand import DemandPoints
    from .model import Station

    # stations.siting imports this module at its end (it re-exports the entries below), so
    # the solver is imported where it is used: importing this module first works too
    from .siting import SitingProblem, SitingResult

__all__ = [
    "CostFileError",
    "adopt_sites",
    "proposal_features",
    "proposal_rows",
    "read_costs",
    "site_station_id",
    "site_stations",
]

_COLUMNS = ("demand_id", "candidate_id", "cost")


class CostFileError(FileFormatError):
    """A costs (or weights) file has bad rows; ``problems`` lists them all."""

    def __init__(self, message: str, problems: list[RowProblem]) -> None:
        super().__init__(message)
        self.problems = problems


def _rows(path: Path, required: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        msg = f"Expected a CSV file, got {str(path)!r} which does not exist"
        raise FileFormatError(msg)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        msg = f"Expected a UTF-8 CSV file, got undecodable bytes in {path.name}"
        raise FileFormatError(msg) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        msg = (
            f"Expected CSV columns {', '.join(required)} in {path.name}, got "
            f"{', '.join(header) or 'no header'}"
        )
        raise CostFileError(msg, [RowProblem(None, c, "missing column") for c in missing])
    try:
        return [
            (i, {str(k).strip().lower(): (v or "").strip() for k, v in row.items() if k})
            for i, row in enumerate(reader, start=1)
        ]
    except csv.Error as exc:
        msg = f"Expected a readable CSV file, got {exc} in {path.name}"
        raise FileFormatError(msg) from None


def _number(text: str, row: int, name: str, problems: list[RowProblem]) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        problems.append(RowProblem(row, name, f"Expected a finite number >= 0, got {text!r}"))
    return value


def read_costs(
    path: str | Path,
    *,
    weights: str | Path | None = None,
    fixed: Iterable[str] = (),
    capacities: str | Path | None = None,
) -> SitingProblem:
    """A siting problem from a long CSV of costs.

    Parameters
    ----------
    path
        CSV with ``demand_id,candidate_id,cost`` (any unit, the same as the radius).
    weights
        CSV ``demand_id,weight`` (default weight 1; demands listed only here have no pair).
    fixed
        Candidate ids that are open already.
    capacities
        CSV ``candidate_id,capacity`` for the capacitated variants.

    Raises
    ------
    CostFileError
        Missing columns, empty ids, NaN / negative / non-numeric costs or weights, a
        duplicate pair: every bad row listed.
    """
    path = Path(path)
    problems: list[RowProblem] = []
    demand_index: dict[str, int] = {}
    candidate_index: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    d, c, t = [], [], []
    for row, values in _rows(path, _COLUMNS):
        did, cid = values.get("demand_id", ""), values.get("candidate_id", "")
        if not did or not cid:
            problems.append(RowProblem(row, "demand_id" if not did else "candidate_id", "empty"))
            continue
        cost = _number(values.get("cost", ""), row, "cost", problems)
        if not (math.isfinite(cost) and cost >= 0):
            continue
        if (did, cid) in seen:
            problems.append(
                RowProblem(row, None, f"Expected each pair once, got ({did}, {cid}) again "
                           f"(row {seen[did, cid]})")
            )  # fmt: skip
            continue
        seen[did, cid] = row
        d.append(demand_index.setdefault(did, len(demand_index)))
        c.append(candidate_index.setdefault(cid, len(candidate_index)))
        t.append(cost)
    weight_of: dict[str, float] = {}
    if weights is not None:
        for row, values in _rows(Path(weights), ("demand_id", "weight")):
            did = values.get("demand_id", "")
            value = _number(values.get("weight", ""), row, "weight", problems)
            if did and math.isfinite(value) and value >= 0:
                weight_of[did] = value
                demand_index.setdefault(did, len(demand_index))
    cap_of: dict[str, float] = {}
    if capacities is not None:
        for row, values in _rows(Path(capacities), ("candidate_id", "capacity")):
            cid = values.get("candidate_id", "")
            value = _number(values.get("capacity", ""), row, "capacity", problems)
            if cid and math.isfinite(value):
                cap_of[cid] = value
                candidate_index.setdefault(cid, len(candidate_index))
    if not candidate_index and not problems:
        problems.append(RowProblem(None, None, "Expected at least one pair, got none"))
    if problems:
        msg = (
            f"Expected valid siting costs in {path.name}, got {len(problems)} problem(s):\n"
            + format_problems(problems)
        )
        raise CostFileError(msg, problems)
    demand_ids = list(demand_index)
    candidate_ids = list(candidate_index)
    from .siting import SitingProblem

    return SitingProblem.from_pairs(
        d,
        c,
        t,
        demand_ids=demand_ids,
        candidate_ids=candidate_ids,
        weight=[weight_of.get(i, 1.0) for i in demand_ids],
        fixed=fixed,
        capacity=[cap_of.get(j, math.inf) for j in candidate_ids],
        meta={"source": str(path), "unit": "cost"},
    )


# ------------------------------------------------------------------------------ Area entry


def _candidates(area: Area, candidates: str | Path | None) -> dict[str, Any]:
    """Candidate hosts: id, lon, lat, name, host_type, capacity."""
    if candidates is not None:
        from ._pointfile import read_point_table

        table = read_point_table(
            candidates,
            what="candidate hosts",
            numbers={"capacity": None},
            texts=("name", "host_type"),
        )
        cap = table.numbers["capacity"]
        return {
            "ids": table.ids,
            "lon": table.lon,
            "lat": table.lat,
            "name": table.texts["name"],
            "host_type": table.texts["host_type"],
            "capacity": np.where(np.isnan(cap), np.inf, cap),
        }
    hosts = area.pois.get("hosts")
    if hosts is None or len(hosts) == 0:
        msg = f"Expected candidate hosts in area {area.name!r}, got none: pass a candidates file"
        raise StationValueError(msg, field="candidates")
    return {
        "ids": [f"osm:{t}/{i}" for t, i in zip(hosts["osm_type"], hosts["osm_id"], strict=True)],
        "lon": hosts.geometry.x.to_numpy(dtype=float),
        "lat": hosts.geometry.y.to_numpy(dtype=float),
        "name": [None if v is None else str(v) for v in hosts["name"]],
        "host_type": [None if v is None else str(v) for v in hosts["host_type"]],
        "capacity": np.full(len(hosts), np.inf),
    }


def _street_points(area: Area) -> DemandPoints:
    """Streets as demand points for siting: each street's midpoint, weighted by its metres."""
    from ._demand import DemandPoints
    from ._walkmodel import points_along, walk_model

    m = walk_model(area)
    lon, lat = points_along(m.table, m.streets, np.full(m.m, 0.5), lonlat=True)
    ids = [f"street/{e}" for e in m.streets.tolist()]
    return DemandPoints("streets", "m", ids, lon, lat, m.length.copy())


def site_stations(
    area: Area,
    stations: Iterable[Station],
    *,
    add: int | None,
    minutes: float,
    objective: str,
    kind: str | None = "warm_station",
    demand: str | Path = "streets",
    candidates: str | Path | None = None,
    target: Sequence[float] | float | None = None,
    exclude: Iterable[str] = (),
    host_types: Iterable[str] | None = None,
    capacitated: bool = False,
    time_limit: float = 60.0,
    gap: float = 0.005,
    on_progress: Callable[[str], None] | None = None,
) -> tuple[SitingResult, SitingProblem]:
    """Choose ``add`` new stations among candidate hosts of ``area``.

    Existing stations of ``kind`` are fixed (open, not counted); costs are walking minutes
    on the street (demand's leg, along its street, the network, the candidate's street and
    leg). One demand layer: ``streets`` (midpoints weighted by metres), ``homes``,
    ``hotspots`` or a point file. See :func:`~stations.siting.solve_siting` for the rest.
    """
    from ._demand import demand_layer
    from ._siting_pairs import pair_times
    from ._walkmodel import walk_model
    from .coverage import check_minutes, select_stations

    (budget,) = check_minutes(minutes)
    say = on_progress or (lambda _text: None)
    existing = select_stations(stations, kind=kind)
    layer = demand_layer(area, demand)
    points = _street_points(area) if layer == "streets" else layer
    assert not isinstance(points, str)
    cand = _candidates(area, candidates)
    ids = list(cand["ids"]) + [s.id for s in existing]
    lon = np.concatenate([cand["lon"], [s.lon for s in existing]])
    lat = np.concatenate([cand["lat"], [s.lat for s in existing]])
    model = walk_model(area)
    say(f"locating {len(ids)} candidates and {len(points)} demand points")

    def located(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if len(x) == 0:
            return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
        hit = area.locate(x, y, network="walk")
        street = np.where(hit.ok, model.street_of[np.maximum(hit.edge, 0)], -1)
        return (
            street.astype(np.int64),
            np.where(hit.ok, hit.frac, 0.0),
            np.where(hit.ok, hit.distance / model.speed, np.inf),
        )

    cs, cf, cl = located(lon, lat)
    ds, df, dl = located(points.lon, points.lat)
    say(f"walking times within {budget:g} min")
    ptr, dem, secs = pair_times(model, cs, cf, cl, ds, df, dl, limit_s=budget * 60.0)
    cand_of = np.repeat(np.arange(len(ids)), np.diff(ptr))
    capacity = np.concatenate(
        [cand["capacity"], [np.inf if s.capacity is None else s.capacity for s in existing]]
    )
    from .siting import SitingProblem, solve_siting

    problem = SitingProblem.from_pairs(
        dem,
        cand_of,
        secs / 60.0,
        demand_ids=points.ids,
        candidate_ids=ids,
        weight=points.weight,
        fixed=[s.id for s in existing],
        capacity=capacity,
        host_type=list(cand["host_type"]) + [s.host_type for s in existing],
        meta={
            "unit": "min",
            "demand": points.name,
            "demand_unit": points.unit,
            "lon": lon,
            "lat": lat,
            "name": list(cand["name"]) + [s.name for s in existing],
            "off_map_candidates": int((cs < 0).sum()),
        },
    )
    result = solve_siting(
        problem,
        objective=objective,
        p=add,
        radius=budget,
        target=target,
        exclude=exclude,
        host_types=host_types,
        capacitated=capacitated,
        time_limit=time_limit,
        gap=gap,
        on_progress=say,
    )
    return result, problem


# --------------------------------------------------------------------------------- outputs


def _chosen(result: SitingResult, problem: SitingProblem) -> list[dict[str, Any]]:
    index = {cid: j for j, cid in enumerate(problem.candidate_ids)}
    lon, lat = problem.meta.get("lon"), problem.meta.get("lat")
    names = problem.meta.get("name") or [None] * problem.k
    out = []
    for rank, (cid, gain) in enumerate(zip(result.chosen, result.gains, strict=True), start=1):
        j = index[cid]
        out.append(
            {
                "rank": rank,
                "id": cid,
                "name": names[j],
                "host_type": problem.host_type[j],
                "lon": None if lon is None else round(float(lon[j]), 7),
                "lat": None if lat is None else round(float(lat[j]), 7),
                "gain": round(float(gain), 6),
            }
        )
    return out


def proposal_rows(result: SitingResult, problem: SitingProblem) -> list[dict[str, Any]]:
    """The chosen hosts as CSV rows (``rank,id,name,host_type,lon,lat,gain``)."""
    return _chosen(result, problem)


def proposal_features(result: SitingResult, problem: SitingProblem) -> dict[str, Any]:
    """The chosen hosts as a GeoJSON FeatureCollection (those with a position)."""
    features = [
        {
            "type": "Feature",
            "id": row["id"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": {k: v for k, v in row.items() if k not in ("lon", "lat")},
        }
        for row in _chosen(result, problem)
        if row["lon"] is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def site_station_id(candidate_id: str) -> str:
    """An adopted candidate's station id: ``site-`` + its id, URL-safe (``/``, ``:`` -> ``-``)."""
    return ("site-" + re.sub(r"[/:\\?#\s]+", "-", candidate_id))[:128]


def adopt_sites(
    rows: Iterable[dict[str, Any]], store: Any, *, kind: str = "warm_station", note: str = ""
) -> list[Station]:
    """Add proposed hosts (``proposal_rows``) to ``store`` as stations, all or none.

    Ids are :func:`site_station_id` of the candidate; hosts whose type is not a station
    host type become ``other``. Raises (and adds nothing) when one of the ids exists already.
    """
    from .model import HOST_TYPES, Station

    stations = []
    for row in rows:
        if row.get("lon") is None or row.get("lat") is None:
            msg = f"Expected a position for proposed site {row.get('id')!r}, got none"
            raise StationValueError(msg, field="lon")
        host = row.get("host_type")
        stations.append(
            Station(
                id=site_station_id(str(row["id"])),
                kind=kind,
                name=str(row.get("name") or f"New station ({row['id']})"),
                lon=float(row["lon"]),
                lat=float(row["lat"]),
                host_type=host if host in HOST_TYPES else "other",
                source="siting",
                notes=note or None,
            )
        )
    with store.transaction():
        store.add(stations)
    return stations
