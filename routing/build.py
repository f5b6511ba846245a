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
import hashlib
import logging
import re
import sys
import time
import warnings
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import cache
from ._errors import AreaBuildError, AreaWarning
from .area import Area
from .network import count_edges
from .presets import PRESETS
from .settings import AreaSettings
from .speeds import add_travel_times

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    import geopandas as gpd
    import networkx as nx

__all__ = ["Source", "build_area", "load_area", "resolve_source"]

logger = logging.getLogger(__name__)

#: Warn (AreaWarning) when the SCC reduction drops more than this share of a graph's nodes.
DROPPED_WARN_SHARE = 0.5
PBF_SUFFIXES = (".osm.pbf", ".pbf")
XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2", ".xml.gz")
#: Suffixes that mark a source as a (mistyped or unsupported) file rather than a place name.
_FILE_LIKE = (
    ".json",
    ".geojson",
    ".gpkg",
    ".shp",
    ".csv",
    ".txt",
    ".zip",
    ".o5m",
    ".o5c",
    ".osc",
    ".kml",
    ".gpx",
    ".bz2",
    ".gz",
    ".xz",
    ".pbf",
    ".osm",
    ".xml",
    ".toml",
)
_BBOX = re.compile(r"^\s*[-+0-9.eE]+\s*(,\s*[-+0-9.eE]+\s*){3}$")


@dataclass(frozen=True)
class Source:
    """A resolved OSM source.

    Attributes
    ----------
    kind
        ``"pbf"``, ``"xml"``, ``"place"`` or ``"bbox"``.
    path
        The file for ``pbf``/``xml``.
    query
        The place name for ``place``.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` for ``bbox``.
    name
        Default Area name (preset name, file stem, or a slug of the query).
    label
        Human-readable description (stored as ``Area.source``).
    """

    kind: str
    path: Path | None = None
    query: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    name: str = "area"
    label: str = ""

    def identity(self) -> str:
        """What the cache key hashes: the file's bytes, or the Overpass query."""
        if self.path is not None:
            return f"{self.kind}:sha256:{cache.file_digest(self.path)}"
        if self.bbox is not None:
            return "overpass-bbox:" + ",".join(f"{v:.7f}" for v in self.bbox)
        return f"overpass-place:{(self.query or '').strip().lower()}"


def _slug(text: str) -> str:
    """A valid area name from free text (non-ASCII names get a short hash: 北京 -> area-1a2b3c)."""
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text.strip()).strip("-._").lower()
    if not slug:
        slug = "area-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]
    return slug[:64].rstrip("-._")


def _file_stem(path: Path) -> str:
    name = path.name
    for suffix in sorted((*PBF_SUFFIXES, *XML_SUFFIXES), key=len, reverse=True):
        if name.lower().endswith(suffix):
            return _slug(name[: -len(suffix)])
    return _slug(path.stem)


def resolve_source(source: str | Path) -> Source:
    """Classify a source string or path; raise :class:`AreaBuildError` when it cannot be used.

    Parameters
    ----------
    source
        A preset name, a path to an ``.osm.pbf``/``.osm``/``.osm.bz2`` file, a bounding box
        ``"min_lon,min_lat,max_lon,max_lat"``, or a place name for Overpass.
    """
    from .overpass import parse_bbox

    if isinstance(source, str) and source.strip().lower() in PRESETS:
        preset = PRESETS[source.strip().lower()]
        path = preset.path()
        if path is not None:
            return Source("pbf", path=path, name=preset.name, label=f"preset {preset.name}")
        return Source("bbox", bbox=preset.bbox, name=preset.name, label=f"preset {preset.name}")
    if not isinstance(source, str | Path) or not str(source).strip():
        msg = f"Expected an OSM file path, a place name or a bounding box, got {source!r}"
        raise AreaBuildError(msg)
    text = str(source).strip()
    lowered = text.lower()
    if isinstance(source, str) and _BBOX.match(text):
        bbox = parse_bbox(text)
        return Source(
            "bbox",
            bbox=bbox,
            name="bbox-" + _slug(text.replace(",", "_")),
            label=f"Overpass bbox {text}",
        )
    path = Path(text).expanduser()
    known = lowered.endswith(PBF_SUFFIXES) or lowered.endswith(XML_SUFFIXES)
    looks_like_path = (
        isinstance(source, Path)
        or "/" in text
        or "\\" in text
        or known
        or path.is_file()
        or lowered.endswith(_FILE_LIKE)
    )
    if looks_like_path:
        if not path.exists():
            msg = f"Expected an existing OSM file, got {text!r} which does not exist"
            raise AreaBuildError(msg)
        if not path.is_file():
            msg = f"Expected an OSM file, got {text!r} which is not a regular file"
            raise AreaBuildError(msg)
        if lowered.endswith(PBF_SUFFIXES):
            return Source(
                "pbf", path=path.resolve(), name=_file_stem(path), label=str(path.resolve())
            )
        if lowered.endswith(XML_SUFFIXES):
            return Source(
                "xml", path=path.resolve(), name=_file_stem(path), label=str(path.resolve())
            )
        msg = (
            f"Expected an OSM file ending in {', '.join(PBF_SUFFIXES + XML_SUFFIXES)}, "
            f"got {path.name!r} (unknown suffix)"
        )
        raise AreaBuildError(msg)
    return Source(
        "place", query=text, name=_slug(text.split(",")[0]), label=f"Overpass place {text!r}"
    )


class _Steps:
    """Build stages drawn with tqdm on stderr when ``progress`` is on, and measured.

    ``step(text)`` announces the stage now starting; the bar counts finished stages.
    :attr:`stages` records, per finished stage, its wall and CPU seconds (this process and
    its finished children: the PBF feature reader's decoding child) and the peak resident
    memory so far of this process and of its largest child (``area.report["stages"]``,
    ``area info``).
    """

    def __init__(self, total: int, *, enabled: bool, label: str) -> None:
        self._bar: Any = None
        self._started = False
        self._t0 = time.perf_counter()
        self._current: tuple[str, float, float] | None = None
        self.stages: list[dict[str, Any]] = []
        if enabled:
            from tqdm.auto import tqdm

            self._bar = tqdm(  # stages: n finished of total, postfix = current one
                total=total,
                desc=label,
                unit="step",
                file=sys.stderr,
                leave=False,
                bar_format="{desc} [{n}/{total}] {postfix} ({elapsed})",
            )

    def _finish(self) -> None:
        if self._current is not None:
            text, wall, cpu = self._current
            peak, child_peak = _peak_mb()
            self.stages.append(
                {
                    "stage": text,
                    "wall_s": round(time.perf_counter() - wall, 3),
                    "cpu_s": round(_cpu_s() - cpu, 3),
                    "peak_mb": peak,
                    "child_peak_mb": child_peak,
                }
            )
            self._current = None

    def step(self, text: str) -> None:
        logger.info("%s (%.1fs)", text, time.perf_counter() - self._t0)
        self._finish()
        self._current = (text, time.perf_counter(), _cpu_s())
        if self._bar is not None:
            if self._started and self._bar.n < self._bar.total - 1:
                self._bar.update(1)
            self._bar.set_postfix_str(text)
        self._started = True

    def close(self) -> None:
        self._finish()
        if self._bar is not None:
            self._bar.update(self._bar.total - self._bar.n)
            self._bar.close()


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished children (the feature reader's child)."""
    try:
        import resource
    except ImportError:  # Windows: this process only
        return time.process_time()
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def _peak_mb() -> tuple[float | None, float | None]:
    """Peak resident memory (MB) so far of this process and of the largest feature reader
    child (as the child measured itself: the kernel's figure for a child starts from the
    high-water mark of the process that spawned it)."""
    from ._opl_table import child_peak_mb

    try:
        import resource
    except ImportError:  # Windows
        return None, child_peak_mb()
    scale = 1 << 20 if sys.platform == "darwin" else 1 << 10
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(own / scale, 1), child_peak_mb()


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


def _read_source(src: Source, steps: _Steps, settings: AreaSettings) -> _Reading:
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


def _largest_scc(G: nx.MultiDiGraph) -> tuple[nx.MultiDiGraph, dict[str, int]]:
    """Keep only the largest strongly connected component, in place (G is ours).

    The components come from ``scipy.sparse.csgraph`` on the node-index adjacency (seconds
    faster than networkx on a city); when two components tie for the largest, networkx's
    own choice (the first it finds) is kept, so the result is networkx's in every case.
    """
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    nodes = list(G)
    n0, m0 = len(nodes), count_edges(G)
    position = {node: i for i, node in enumerate(nodes)}
    succ = G._succ
    rows = np.repeat(np.arange(n0), np.fromiter(map(len, succ.values()), np.int64, count=n0))
    cols = np.fromiter(
        map(position.__getitem__, chain.from_iterable(succ.values())), np.int64, count=rows.size
    )
    adjacency = sparse.csr_matrix((np.ones(rows.size, np.int8), (rows, cols)), shape=(n0, n0))
    count, labels = connected_components(adjacency, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count) if n0 else np.zeros(0, np.int64)
    if sizes.size and int((sizes == sizes.max()).sum()) == 1:
        drop = [nodes[i] for i in np.flatnonzero(labels != int(sizes.argmax())).tolist()]
    else:  # a tie (or no node): the component networkx picks
        import networkx as nx

        components = list(nx.strongly_connected_components(G))
        largest = max(components, key=len) if components else set()
        drop = [n for n in nodes if n not in largest]
    G.remove_nodes_from(drop)
    return G, {
        "components": int(count),
        "dropped_nodes": len(drop),
        "dropped_edges": m0 - count_edges(G),
    }


def prepare_graph(
    G: nx.MultiDiGraph,
    *,
    network: str,
    settings: AreaSettings,
    to_crs: Any = None,
) -> tuple[nx.MultiDiGraph, dict[str, Any]]:
    """Reduce, project and weight a raw EPSG:4326 graph (in place; ``G`` must be ours).

    Keeps the largest strongly connected component (when ``settings.retain_largest_scc``),
    stores ``lon``/``lat`` on nodes, projects to ``to_crs`` (default: the local UTM zone) and
    sets ``speed_kph`` and ``travel_time`` on every edge.

    Returns
    -------
    tuple
        The projected graph and a report (nodes/edges before and after, dropped components,
        unparsable ``maxspeed`` values).
    """
    from ._project import project_graph_in_place

    raw_edges = count_edges(G)
    if raw_edges == 0:
        msg = f"Expected roads for the {network} network, got none in this source"
        raise AreaBuildError(msg)
    report: dict[str, Any] = {"raw_nodes": G.number_of_nodes(), "raw_edges": raw_edges}
    edges = raw_edges
    if settings.retain_largest_scc:
        G, scc = _largest_scc(G)
        report.update(scc)
        edges -= scc["dropped_edges"]
        share = scc["dropped_nodes"] / max(report["raw_nodes"], 1)
        if share > DROPPED_WARN_SHARE:
            warnings.warn(
                f"The {network} graph kept {G.number_of_nodes()} of {report['raw_nodes']} nodes"
                f" in its largest strongly connected component ({scc['components']} components)."
                " A small extract cut through one-way roads does this; use a larger extract"
                " for reliable routing.",
                AreaWarning,
                stacklevel=3,
            )
    if edges == 0:
        msg = f"Expected connected roads for the {network} network, got only isolated pieces"
        raise AreaBuildError(msg)
    project_graph_in_place(G, to_crs)
    report.update(add_travel_times(G, network=network, settings=settings))
    report["nodes"] = G.number_of_nodes()
    report["edges"] = edges
    return G, report


def _crs_string(crs: Any) -> str:
    from pyproj import CRS

    parsed = CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.to_string()


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
    steps = _Steps(total, enabled=progress, label=f"building {name}")
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
            crs = crs or _crs_string(G.graph["crs"])
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
