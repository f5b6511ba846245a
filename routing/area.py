"""The :class:`Area`: walk and drive graphs plus POI layers of one OSM extract.

An Area is what every other part of warmheart works on. Builders (from PBF, XML or
Overpass) live in :mod:`routing.build`; the disk cache in :mod:`routing.cache`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pyproj import Transformer

from ._errors import CoordinateError
from .lonlat import check_lonlat as check_lonlat  # the one lat/lon check, re-exported
from .network import GraphArrays, graph_arrays

if TYPE_CHECKING:
    from pathlib import Path

    import geopandas as gpd
    import networkx as nx
    from numpy.typing import ArrayLike, NDArray

    from .edges import EdgePoints

__all__ = ["POI_LAYERS", "Area", "Network", "Snapped"]

Network = Literal["walk", "drive"]

logger = logging.getLogger(__name__)

#: POI layers every Area carries (GeoDataFrames in EPSG:4326, possibly empty).
POI_LAYERS = (
    "hosts",  # candidate station hosts; column ``host_type``: bank|supermarket|fuel|estate_agent
    "bus_stops",
    "residential_areas",  # landuse=residential polygons
    "residential_buildings",
    "offices",  # office=* / company premises
    "buildings",  # every building=* outline (polygons): where addresses and businesses are
    "hotspots",  # worker hotspots; column ``hotspot_type`` (routing.pois.HOTSPOT_TAGS)
)


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points snapped to graph nodes.

    Attributes
    ----------
    index
        Dense node index into :class:`~routing.network.GraphArrays` (``-1`` where not ``ok``).
    node
        Graph node id (``-1`` where not ``ok``).
    distance
        Straight-line distance in metres from the point to the node (``nan`` for invalid input).
    ok
        ``True`` where the point is valid and within ``max_distance`` of the network.
    """

    index: NDArray[np.intp]
    node: NDArray[np.int64]
    distance: NDArray[np.float64]
    ok: NDArray[np.bool_]


class Area:
    """Walk graph, drive graph and POI layers of one place, projected to a metric CRS.

    Serving runs on the array views (:meth:`arrays`); an Area reloaded from the cache holds
    only those (memory-mapped, see :mod:`routing._arraystore`) and makes the networkx
    graphs and POI layers on first access.

    Attributes
    ----------
    name
        Short name used for the cache and on the command line (``helsinki``).
    crs
        The projected CRS of both graphs (a pyproj-readable string, e.g. ``"EPSG:32635"``).
    walk, drive
        osmnx MultiDiGraphs, strongly connected, with ``length`` (m) and ``travel_time`` (s) on
        every edge and ``x``/``y`` (projected) plus ``lon``/``lat`` on every node. On a
        reloaded Area each is rebuilt from the arrays on first access (seconds on a city:
        code on a request path uses :meth:`arrays` and :meth:`edge_column` instead).
    pois
        Layer name (see :data:`POI_LAYERS`) to GeoDataFrame in EPSG:4326. Names keep their
        original script. A reloaded Area reads each layer on first access.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` of the walk graph.
    settings
        The settings the Area was built with (part of the cache key).
    report
        What the build dropped or fixed (components, unparsable speeds, ...).
    basemap
        Base-map layers (named roads, water, parks, landmarks; see :mod:`routing.basemap`);
        read them with :func:`routing.basemap.basemap_layers`, which also serves Areas
        cached before the layers existed. A reloaded Area reads each on first access.
    """

    def __init__(
        self,
        name: str,
        crs: str,
        walk: nx.MultiDiGraph | None = None,
        drive: nx.MultiDiGraph | None = None,
        pois: Mapping[str, gpd.GeoDataFrame] | None = None,
        bounds: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0),
        settings: Any = None,
        report: dict[str, Any] | None = None,
        source: str = "",
        basemap: Mapping[str, gpd.GeoDataFrame] | None = None,
        *,
        arrays: Mapping[str, GraphArrays] | None = None,
        stored: tuple[Path, dict[str, Any]] | None = None,
    ) -> None:
        self.name = name
        self.crs = crs
        self.pois: Mapping[str, gpd.GeoDataFrame] = {} if pois is None else pois
        self.bounds = bounds
        self.settings = settings
        self.report: dict[str, Any] = {} if report is None else report
        self.source = source
        self.basemap: Mapping[str, gpd.GeoDataFrame] = {} if basemap is None else basemap
        self._graphs: dict[str, nx.MultiDiGraph] = {}
        if walk is not None:
            self._graphs["walk"] = walk
        if drive is not None:
            self._graphs["drive"] = drive
        self._arrays: dict[str, GraphArrays] = dict(arrays or {})
        self._stored = stored
        for network in ("walk", "drive"):
            if network not in self._graphs and (stored is None or network not in self._arrays):
                msg = f"Expected a {network} graph or stored arrays for area {name!r}, got neither"
                raise ValueError(msg)

    def __repr__(self) -> str:
        return f"Area(name={self.name!r}, crs={self.crs!r}, source={self.source!r})"

    @property
    def walk(self) -> nx.MultiDiGraph:
        """The walk graph (networkx; rebuilt from the arrays on first access)."""
        return self.graph("walk")

    @property
    def drive(self) -> nx.MultiDiGraph:
        """The drive graph (networkx; rebuilt from the arrays on first access)."""
        return self.graph("drive")

    def graph(self, network: Network) -> nx.MultiDiGraph:
        """The ``"walk"`` or ``"drive"`` networkx graph (see :attr:`walk`)."""
        _check_network(network)
        G = self._graphs.get(network)
        if G is None:
            from ._arraystore import graph_from_arrays

            assert self._stored is not None
            info = self._stored[1][network]
            logger.info("Making the %s networkx graph of %s from its arrays", network, self.name)
            G = self._graphs[network] = graph_from_arrays(
                self.arrays(network),
                crs=self.crs,
                graph=info["graph"],
                edge_columns={c: self.edge_column(network, c) for c in info["edge_columns"]},
                node_columns={c: self.node_column(network, c) for c in info["node_columns"]},
            )
        return G

    def graph_if_loaded(self, network: Network) -> nx.MultiDiGraph | None:
        """The networkx graph when it is in memory already, else ``None`` (nothing is built)."""
        return self._graphs.get(network)

    @property
    def walk_arrays(self) -> GraphArrays:
        """Array view of the walk graph (built once, then cached)."""
        return self.arrays("walk")

    @property
    def drive_arrays(self) -> GraphArrays:
        """Array view of the drive graph (built once, then cached)."""
        return self.arrays("drive")

    def arrays(self, network: Network) -> GraphArrays:
        """Array view of the ``"walk"`` or ``"drive"`` graph."""
        _check_network(network)
        arrays = self._arrays.get(network)
        if arrays is None:
            arrays = self._arrays[network] = graph_arrays(self._graphs[network])
        return arrays

    def columns(self, network: Network, kind: Literal["edge", "node"] = "edge") -> list[str]:
        """Names of the edge (or node) attributes besides those the arrays hold."""
        _check_network(network)
        G = self._graphs.get(network)
        if G is None:
            assert self._stored is not None
            return list(self._stored[1][network][f"{kind}_columns"])
        from ._arraystore import attribute_names

        return attribute_names(G, kind)

    def edge_column(self, network: Network, column: str) -> NDArray[Any]:
        """One edge attribute (``highway``, ``name``, ``speed_kph``, ...) of every edge.

        In :class:`~routing.edges.EdgeTable` order, ``None`` where an edge lacks it; read
        from the cache entry without making the networkx graph. ``KeyError`` names the
        attributes there are.
        """
        return self._column(network, "edge", column)

    def node_column(self, network: Network, column: str) -> NDArray[Any]:
        """One node attribute (besides x/y/lon/lat) of every node, in array order."""
        return self._column(network, "node", column)

    def _column(self, network: Network, kind: Literal["edge", "node"], column: str) -> Any:
        names = self.columns(network, kind)
        if column not in names:
            msg = f"Expected a {network} {kind} attribute among {', '.join(names)}; got {column!r}"
            raise KeyError(msg)
        G = self._graphs.get(network)
        if G is None:
            from ._arraystore import read_column

            assert self._stored is not None
            return read_column(self._stored[0], network, kind, column)
        from ._arraystore import _edge_dicts

        items = _edge_dicts(G) if kind == "edge" else list(G._node.values())
        out = np.empty(len(items), object)
        out[:] = [d.get(column) for d in items]
        return out

    @cached_property
    def _to_projected(self) -> Transformer:
        return Transformer.from_crs("EPSG:4326", self.crs, always_xy=True)

    @cached_property
    def _to_lonlat(self) -> Transformer:
        return Transformer.from_crs(self.crs, "EPSG:4326", always_xy=True)

    def project(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """WGS-84 lon/lat to the Area's projected x/y (metres). Validates ranges."""
        lon_a, lat_a = check_lonlat(lon, lat)
        x, y = self._to_projected.transform(lon_a, lat_a)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def unproject(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Projected x/y (metres) back to WGS-84 lon/lat."""
        lon, lat = self._to_lonlat.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)

    def snap(
        self,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        network: Network = "walk",
        max_distance: float | None = None,
        projected: bool = False,
    ) -> Snapped:
        """Snap many points to their nearest ``network`` node in one vectorised call.

        For measuring walks use :meth:`locate` (the nearest *edge*): a node can be hundreds
        of metres away along a superblock while the street passes by the point.

        Parameters
        ----------
        lon, lat
            WGS-84 coordinates, or projected x/y in metres when ``projected`` is true.
        network
            ``"walk"`` or ``"drive"``.
        max_distance
            Points farther than this (metres) from any node are flagged ``ok=False`` rather
            than snapped across a river or off the map. Defaults to the Area settings'
            ``snap_max_distance`` (or 500 m).
        projected
            Treat the inputs as projected coordinates of the Area's CRS.
        """
        x, y = self._xy(lon, lat, projected=projected)
        arrays = self.arrays(network)
        index, distance = arrays.nearest(x, y)
        ok = distance <= self._limit(max_distance)
        index = np.where(ok, index, -1).astype(np.intp)
        node = np.where(ok, arrays.nodes[np.maximum(index, 0)], -1).astype(np.int64)
        return Snapped(index=index, node=node, distance=distance, ok=ok)

    def locate(
        self,
        lon: ArrayLike,
        lat: ArrayLike,
        *,
        network: Network = "walk",
        max_distance: float | None = None,
        projected: bool = False,
    ) -> EdgePoints:
        """Locate many points on their nearest ``network`` edge in one vectorised call.

        Each point is projected onto the nearest street geometry (a two-way street is
        located once, on its representative directed edge; the twin is the way back). See
        :class:`~routing.edges.EdgePoints` for what comes back and
        :meth:`~routing.edges.EdgePoints.entries` / ``exits`` for the partial costs.

        Parameters
        ----------
        lon, lat
            WGS-84 coordinates, or projected x/y in metres when ``projected`` is true.
        network
            ``"walk"`` or ``"drive"``.
        max_distance
            Points farther than this (metres) from every edge are flagged ``ok=False``
            ("off the map"); their ``distance`` still says how far the nearest edge is.
            Defaults to the Area settings' ``snap_max_distance`` (or 500 m).
        projected
            Treat the inputs as projected coordinates of the Area's CRS.

        Raises
        ------
        CoordinateError
            NaN, infinite or out-of-range coordinates (the message names the first one).
        """
        x, y = self._xy(lon, lat, projected=projected)
        return self.arrays(network).edges.locate(x, y, max_distance=self._limit(max_distance))

    def _limit(self, max_distance: float | None) -> float:
        if max_distance is None:
            return float(getattr(self.settings, "snap_max_distance", 500.0))
        return float(max_distance)

    def _xy(
        self, lon: ArrayLike, lat: ArrayLike, *, projected: bool
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if not projected:
            return self.project(lon, lat)
        x = np.atleast_1d(np.asarray(lon, dtype=float))
        y = np.atleast_1d(np.asarray(lat, dtype=float))
        if x.shape != y.shape:
            msg = f"Expected as many x as y coordinates, got {x.size} and {y.size}"
            raise CoordinateError(msg)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            msg = "Expected finite projected coordinates, got NaN or infinity"
            raise CoordinateError(msg)
        return x, y


def _check_network(network: str) -> None:
    if network not in ("walk", "drive"):
        msg = f"Expected network 'walk' or 'drive', got {network!r}"
        raise ValueError(msg)
