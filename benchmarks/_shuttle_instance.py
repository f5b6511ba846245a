"""The regional shuttle benchmark instance, built from the Liechtenstein extract.

One industrial workplace (the largest ``landuse=industrial`` polygon in the extract: the
Schaan industrial zone, OSM way 671900544), ~170 residential districts (the residential
land-use polygons holding the most residential buildings), ~7,000 riders placed on those
buildings (seeded), a fleet of 30- and 50-seat buses, default ride limit 60 min with 5 % of
riders at 30 min. Riders work one of three shifts (07:30, 08:00 or 08:30 start, a third each)
and ride home 9 hours later (16:30, 17:00, 17:30). Everything is derived from the extract and
the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["FLEET", "SHIFTS", "ShuttleInstance", "build_instance"]

#: Shift starts (deadline at work) and the hours until the ride home.
SHIFTS = ("07:30", "08:00", "08:30")
SHIFT_HOURS = 9

#: The benchmark fleet (CNY; a day's fixed cost covers vehicle and driver standby).
FLEET = pd.DataFrame(
    {
        "type": ["bus30", "bus50"],
        "seats": [30, 50],
        "count": [140, 120],
        "fixed_cost": [450.0, 600.0],
        "cost_per_km": [3.0, 4.0],
        "cost_per_hour": [100.0, 120.0],
    }
)


@dataclass
class ShuttleInstance:
    """Inputs of the benchmark, in the planner's CSV shapes."""

    area: object  # routing.Area
    riders: pd.DataFrame  # id, lon, lat, max_ride_min, deadline, evening_departure
    districts: gpd.GeoDataFrame  # district_id, geometry (EPSG:4326)
    workplace: tuple[float, float]
    workplace_name: str
    fleet: pd.DataFrame
    deadline: str = "08:30"


def _industrial_workplace(pbf: Path) -> tuple[tuple[float, float], str]:
    from pyrosm import OSM

    landuse = OSM(str(pbf)).get_landuse(custom_filter={"landuse": ["industrial"]})
    if landuse is None or landuse.empty:
        msg = f"Expected landuse=industrial polygons in {pbf}, found none"
        raise ValueError(msg)
    metric = landuse.to_crs(landuse.estimate_utm_crs())
    best = int(np.argmax(metric.area.to_numpy()))
    point = metric.geometry.iloc[best].representative_point()
    lonlat = gpd.GeoSeries([point], crs=metric.crs).to_crs(4326).iloc[0]
    name = f"industrial area, OSM {landuse['osm_type'].iloc[best]} {landuse['id'].iloc[best]}"
    return (float(lonlat.x), float(lonlat.y)), name


def build_instance(
    pbf: Path,
    *,
    n_districts: int = 170,
    n_riders: int = 7000,
    short_share: float = 0.05,
    seed: int = 20261121,
) -> ShuttleInstance:
    """Build the benchmark instance from an ``.osm.pbf`` extract (the Area is cached)."""
    from routing import load_area  # type: ignore[attr-defined]

    area = load_area(pbf)
    workplace, workplace_name = _industrial_workplace(pbf)
    rng = np.random.default_rng(seed)

    areas = area.pois["residential_areas"]
    areas = areas[areas.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    buildings = area.pois["residential_buildings"].copy()
    buildings["geometry"] = buildings.geometry.representative_point()
    buildings = gpd.GeoDataFrame(buildings[["geometry"]], geometry="geometry", crs=4326)
    joined = gpd.sjoin(buildings, areas[["geometry"]], predicate="within", how="inner")
    counts = joined.groupby("index_right").size().reindex(areas.index, fill_value=0)
    metric = areas.to_crs(area.crs)
    # The districts with most residential buildings (a real demand proxy), then the largest
    # land-use areas without mapped buildings (their homes are random points inside them).
    ranking = pd.DataFrame({"buildings": counts, "area": metric.area}).sort_values(
        ["buildings", "area"], ascending=False
    )
    chosen = ranking.head(n_districts).index.to_numpy()
    districts = areas.loc[chosen, ["geometry"]].copy()
    districts["district_id"] = [f"D{i:03d}" for i in range(len(districts))]
    weights = np.maximum(counts.loc[chosen].to_numpy(dtype=float), 3.0)

    # Riders per district proportional to its buildings, at least 5 each.
    per = np.maximum(5, np.floor(weights / weights.sum() * n_riders)).astype(int)
    while per.sum() > n_riders:
        per[np.argmax(per)] -= 1
    while per.sum() < n_riders:
        per[rng.integers(len(per))] += 1
    rows = []
    for k, (idx, count) in enumerate(zip(chosen, per, strict=True)):
        homes = joined[joined["index_right"] == idx].geometry
        if len(homes):
            pts = [homes.iloc[int(p)] for p in rng.integers(0, len(homes), size=count)]
        else:
            poly = areas.geometry.loc[idx]
            pts = list(
                gpd.GeoSeries([poly], crs=4326)
                .sample_points(int(count), rng=rng)
                .explode(index_parts=False)
            )
        for j, pt in enumerate(pts):
            rows.append((f"r{k:03d}-{j:03d}", pt.x, pt.y))
    riders = pd.DataFrame(rows, columns=["id", "lon", "lat"])
    short = rng.random(len(riders)) < short_share
    riders["max_ride_min"] = np.where(short, 30.0, 60.0)
    shift = rng.integers(0, len(SHIFTS), size=len(riders))
    riders["deadline"] = [SHIFTS[k] for k in shift]
    riders["evening_departure"] = [
        f"{int(SHIFTS[k][:2]) + SHIFT_HOURS:02d}:{SHIFTS[k][3:]}" for k in shift
    ]
    return ShuttleInstance(
        area=area,
        riders=riders,
        districts=gpd.GeoDataFrame(districts.reset_index(drop=True), crs=4326),
        workplace=workplace,
        workplace_name=workplace_name,
        fleet=FLEET.copy(),
    )
