"""Turn an OSM source into an :class:`~routing.Area`, and load Areas through the disk cache.

Sources:

- ``.osm.pbf`` files: roads read by :mod:`routing._pbf_roads`, POIs and base map by
  :mod:`routing._pbf_features`;
- ``.osm`` / ``.osm.bz2`` / ``.osm.gz`` XML exports, read with osmnx ``graph_from_xml`` after
  filtering ways per network type (osmnx #1270) and clipping to the export box;
- a place name (``"Ganjingzi District, Dalian"``) or a bounding box
  ``"min_lon,min_lat,max_lon,max_lat"``, fetched from Overpass by osmnx (needs internet);
- a preset name (:data:`routing.presets.PRESETS`) such as ``helsinki``;
- in :func:`load_area` only, a name registered by ``build_area(..., name=NAME)``.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import cache
from ._errors import AreaBuildError
from ._prepare import crs_string, prepare_graph
from ._stages import Steps
from .area import Area
from .settings import AreaSettings
from .sources import Source, resolve_source

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import geopandas as gpd
    import networkx as nx

__all__ = ["Source", "build_area", "load_area", "resolve_source"]

logger = logging.getLogger(__name__)


@dataclass
class _Reading:
    """What a source gives a build: the raw graphs, and the features on request.

    ``graphs`` maps ``"walk"`` and ``"drive"`` to their EPSG:4326 graphs (the build pops
    each, so it is freed once written out); ``features()`` returns the POI features and,
    for a PBF (read in a pass of their own, after the graphs are written), the base-map
    features.
    """

    graphs: dict[str, nx.MultiDiGraph]
    features: Callable[[], tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]]
    bounds: Any = None


def _read_source(src: Source, steps: Steps, settings: AreaSettings) -> _Reading:
    """The graphs of a source now, its features when the build asks (see :class:`_Reading`)."""
    if src.kind == "pbf":
        from ._pyrosm import read_pbf

        assert src.path is not None
        graphs, features = read_pbf(src.path, on_step=steps.step)
        return _Reading(graphs, features)
    if src.kind == "xml":
        from ._osm_xml import read_xml

        assert src.path is not None
        walk, drive, pois, bounds = read_xml(
            src.path, clip=settings.clip_to_bounds, on_step=steps.step
        )
    else:
        from .overpass import read_overpass

        walk, drive, pois, bounds = read_overpass(
            query=src.query, bbox=src.bbox, on_step=steps.step
        )
    return _Reading({"walk": walk, "drive": drive}, lambda: (pois, None), bounds)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a build (as it was before, after).

    A city build makes tens of millions of small objects (networkx's node and edge dicts,
    pyrosm's frames); each full collection walks all of them, ~8 % of a Beijing-size
    build's CPU time. The build makes no reference cycles worth collecting early. The
    switch is process-wide: other threads' cycles wait until the build ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _give_back_memory() -> None:
    """Return the heap's free pages to the operating system (glibc ``malloc_trim``).

    A network's graph is millions of small dicts; freeing them leaves the pages in the
    heap, where the next stage's large numpy arrays (mapped outside the heap) cannot use
    them, so without this the freed graph would still count toward the build's peak.
    Dask's workers do the same (``distributed``'s "trim memory"). Elsewhere: nothing.
    """
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):  # not glibc: musl has no malloc_trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class _Parts:
    """Where a build puts each part as it is made: into a new cache entry, or in memory.

    Writing into ``folder`` (a :func:`routing.cache.new_entry`), a network's graph is
    written with its arrays and then cleared, and the layers are written as soon as they
    are split, so a city's build holds one network's objects at a time (its peak memory
    is the walk graph's stage, not the sum of every part). Without a folder
    (``cache_result=False``) the parts stay in memory and make the returned Area.
    """

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.graphs: dict[str, nx.MultiDiGraph] = {}
        self.arrays: dict[str, Any] = {}
        self.networks: dict[str, Any] = {}
        self.layers: dict[str, Mapping[str, gpd.GeoDataFrame]] = {}
        self.counts: dict[str, dict[str, int]] = {}

    def network(self, network: str, G: nx.MultiDiGraph) -> tuple[Any, Any]:
        """Make (and write) the arrays of a prepared graph; its node lon/lat for the bounds.

        Writing, the graph's attribute columns are written and the graph cleared before the
        arrays are made: the edge table's temporaries never share memory with the graph.
        """
        from ._arraystore import write_arrays, write_columns
        from .network import graph_lists

        lists = graph_lists(G)
        if self.folder is not None:
            info = write_columns(self.folder, network, G)
            G.clear()  # frees the node and edge dicts now (the graph object itself is a cycle)
            _give_back_memory()
        arrays = lists.arrays()
        del lists
        arrays.edges.locate(np.zeros(1), np.zeros(1), max_distance=0.0)  # the street index
        if self.folder is None:
            self.graphs[network], self.arrays[network] = G, arrays
            return arrays.lon, arrays.lat
        self.networks[network] = {**info, **write_arrays(self.folder, network, arrays)}
        lonlat = (np.array(arrays.lon), np.array(arrays.lat))
        del arrays
        _give_back_memory()
        return lonlat

    def layer_set(self, prefix: str, layers: Mapping[str, gpd.GeoDataFrame]) -> None:
        """Keep (or write) the POI (``"pois"``) or base-map (``"basemap"``) layers."""
        from ._arraystore import write_layers

        self.counts[prefix] = {layer: len(frame) for layer, frame in layers.items()}
        if self.folder is None:
            self.layers[prefix] = layers
            return
        write_layers(self.folder, prefix, layers)
        _give_back_memory()

    def sync(self) -> None:
        """Flush the written files to disk (the entry's last measured stage)."""
        if self.folder is not None:
            from .cache import fsync_files

            fsync_files(self.folder)

    def area(self, **fields: Any) -> Area | None:
        """The in-memory Area; or, writing an entry, its meta written and ``None``."""
        if self.folder is None:
            return Area(
                **fields,
                walk=self.graphs["walk"],
                drive=self.graphs["drive"],
                arrays=self.arrays,
                pois=self.layers["pois"],
                basemap=self.layers["basemap"],
            )
        from ._arraystore import write_meta

        write_meta(
            self.folder,
            {
                **fields,
                "layers": list(self.counts["pois"]),
                "basemap": list(self.counts["basemap"]),
                "networks": self.networks,
            },
        )
        return None


@_gc_paused()  # a fresh pause per call (contextmanager objects are ContextDecorators)
def _build(
    src: Source,
    *,
    name: str,
    settings: AreaSettings,
    progress: bool,
    folder: Path | None = None,
) -> Area | None:
    """Build an Area from a resolved source: in memory, or into the entry folder ``folder``.

    Writing into ``folder``, nothing is returned: the caller moves the folder into place
    and reads the Area back from it (memory-mapped, as every later load does).
    """
    from .basemap import read_basemap
    from .pois import split_layers

    t0 = time.perf_counter()
    total = {"pbf": 4, "xml": 2}.get(src.kind, 3) + 6 + (folder is not None)
    steps = Steps(total, enabled=progress, label=f"building {name}")
    parts = _Parts(folder)
    reports: dict[str, Any] = {}
    crs: str | None = None
    try:
        reading = _read_source(src, steps, settings)
        bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
        for network in ("walk", "drive"):
            steps.step(f"{network} graph: components, projection, travel times")
            G, reports[network] = prepare_graph(
                reading.graphs.pop(network), network=network, settings=settings, to_crs=crs
            )
            crs = crs or crs_string(G.graph["crs"])
            G.graph["crs"] = crs
            steps.step(f"{network} arrays: edge table, street index" + _WRITTEN * bool(folder))
            lon, lat = parts.network(network, G)
            if network == "walk":
                bounds = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
            del G, lon, lat
        features, basemap_features = reading.features()
        steps.step("POI layers" + _WRITTEN * bool(folder))
        parts.layer_set("pois", split_layers(features, bounds=reading.bounds))
        del features
        steps.step("base-map layers (roads, water, parks, landmarks)" + _WRITTEN * bool(folder))
        basemap = read_basemap(
            src.kind,
            path=src.path,
            bbox=src.bbox,
            query=src.query,
            bounds=reading.bounds,
            features=basemap_features,
        )
        del basemap_features
        parts.layer_set("basemap", basemap)
        del basemap
        if folder is not None:
            steps.step("writing the cache entry to disk (fsync)")
            parts.sync()
    finally:
        steps.close()
    assert crs is not None
    report: dict[str, Any] = {
        **reports,
        "pois": parts.counts["pois"],
        "basemap": parts.counts["basemap"],
        "source_kind": src.kind,
        "build_seconds": round(time.perf_counter() - t0, 3),
        "stages": steps.stages,
    }
    area = parts.area(
        name=name,
        crs=crs,
        bounds=bounds,
        settings=settings,
        report=report,
        source=src.label,
    )
    logger.info("Built area %s in %.1fs", name, time.perf_counter() - t0)
    return area


#: Added to a stage's label when the build writes what the stage made into the cache entry.
_WRITTEN = ", written out"


def _settings(settings: AreaSettings | None) -> AreaSettings:
    if settings is None:
        return AreaSettings()
    if not isinstance(settings, AreaSettings):
        msg = f"Expected AreaSettings or None, got {type(settings).__name__}"
        raise TypeError(msg)
    return settings


def build_area(
    source: str | Path,
    *,
    name: str | None = None,
    settings: AreaSettings | None = None,
    progress: bool = False,
    cache_result: bool = True,
) -> Area:
    """Build an Area from an OSM source, always rebuilding, and store it in the cache.

    Parameters
    ----------
    source
        ``.osm.pbf`` / ``.osm`` / ``.osm.bz2`` path, preset name (``helsinki``,
        ``dalian-hightech``), bounding box ``"min_lon,min_lat,max_lon,max_lat"`` or place
        name (the last two through Overpass).
    name
        Register the result under this name so ``load_area(name)`` finds it later
        (replacing an older area of that name). Defaults to the preset name, the file stem
        (``liechtenstein`` for ``liechtenstein.osm.pbf``) or a slug of the place name.
    settings
        Build settings (defaults: :class:`~routing.AreaSettings`).
    progress
        Show progress on stderr.
    cache_result
        Write the result to the cache (``$WARMHEART_HOME``).

    Returns
    -------
    Area
        Cached (the default): the Area read back from its new entry, as every later
        :func:`load_area` gets it (arrays memory-mapped; graphs and layers made on first
        use). The build writes each network and layer out as soon as it is made and drops
        it, so its peak memory holds one network, not the whole Area. With
        ``cache_result=False``: the Area as built, every graph and layer in memory.

    Raises
    ------
    AreaBuildError
        Missing, unreadable or truncated files; sources without roads; unknown suffixes;
        bad bounding boxes. No cache entry is written.
    OfflineError
        An Overpass source without network access.
    """
    src = resolve_source(source)
    settings = _settings(settings)
    if name is not None:
        cache.check_name(name)
    key = cache.cache_key(src.identity(), settings.fingerprint())
    if not cache_result:
        area = _build(src, name=name or src.name, settings=settings, progress=progress)
        assert area is not None
        return area
    area = _build_entry(src, key, name=name or src.name, settings=settings, progress=progress)
    _register(name or src.name, key, src, settings)
    return area


def _build_entry(
    src: Source, key: str, *, name: str, settings: AreaSettings, progress: bool, lock: bool = True
) -> Area:
    """Build into a new cache entry of ``key`` and load the Area from it.

    The Area returned is the one every later load gets: memory-mapped arrays, graphs and
    layers made on first use. ``lock``: take the build lock to move the entry into place
    (the caller may hold it already).
    """
    with cache.new_entry(key, lock=lock) as folder:
        _build(src, name=name, settings=settings, progress=progress, folder=folder)
    area = cache.load_entry(key)
    if area is None:  # removed by another process between the move and the read
        msg = f"Expected the entry of {name!r} just built, got none at {cache.entry_path(key)}"
        raise AreaBuildError(msg)
    return area


def _register(name: str, key: str, src: Source, settings: AreaSettings) -> None:
    meta = {
        "source": src.label,
        "source_kind": src.kind,
        "path": str(src.path) if src.path else None,
        "query": src.query,
        "bbox": list(src.bbox) if src.bbox else None,
        "settings": settings.to_dict(),
    }
    cache.register_name(name, key, meta)


#: Called after every cache miss build (tests count rebuilds through this hook).
_on_build: list[Callable[[str], None]] = []


def load_area(
    name_or_source: str | Path,
    *,
    settings: AreaSettings | None = None,
    progress: bool = False,
) -> Area:
    """Load an Area from the cache, building (and caching) it on a miss.

    Parameters
    ----------
    name_or_source
        A name registered with ``build_area(..., name=...)`` / ``warmheart area build --name``,
        a preset (``helsinki``), or any source :func:`build_area` accepts.
    settings
        Build settings; a registered name uses the settings it was built with unless given
        (then its source is loaded or built with these settings, under a separate entry).
    progress
        Show build progress on stderr on a cache miss.
    """
    record = cache.lookup_name(name_or_source) if isinstance(name_or_source, str) else None
    display_name: str | None = None
    reregister = False
    if record is not None:
        display_name = str(record["name"])
        if settings is None:
            current = record.get("cache_version") == cache.CACHE_VERSION
            area = cache.load_entry(record["key"]) if current else None
            if area is not None:
                area.name = display_name
                return area
            if current:
                logger.info("Cache entry of %r is gone; rebuilding it", display_name)
            else:
                logger.warning(
                    "Area %r was cached by an older warmheart (cache format %s, now %s): "
                    "rebuilding it once from %s",
                    display_name,
                    record.get("cache_version"),
                    cache.CACHE_VERSION,
                    record.get("source") or "its recorded source",
                )
                cache.remove_stale(record)
            settings = AreaSettings.from_dict(record.get("settings") or {})
            reregister = True
        name_or_source = _recorded_source(record)
    src = resolve_source(name_or_source)
    settings = _settings(settings)
    key = cache.cache_key(src.identity(), settings.fingerprint())
    area = cache.load_entry(key)
    built = False
    if area is None:
        with cache.build_lock(key):
            area = cache.load_entry(key)  # another process may have built it while we waited
            if area is None:
                built = True
                for hook in _on_build:
                    hook(src.label)
                area = _build_entry(
                    src,
                    key,
                    name=display_name or src.name,
                    settings=settings,
                    progress=progress,
                    lock=False,  # held already
                )
    if display_name is not None:
        area.name = display_name
    # a stale record points at the entry it now has (also when that entry already existed)
    if reregister or (built and display_name is None and src.label.startswith("preset")):
        _register(display_name or src.name, key, src, settings)
    return area


def _recorded_source(record: dict[str, Any]) -> str:
    """The source a registry record was built from, as load_area/build_area accept it."""
    if record.get("bbox"):
        return ",".join(repr(float(v)) for v in record["bbox"])
    source = record.get("path") or record.get("query")
    if not source:
        msg = f"Expected a rebuildable source for area {record.get('name')!r}, got none recorded"
        raise AreaBuildError(msg)
    return str(source)
