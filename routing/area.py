"""The :class:`Area`: walk and drive graphs plus POI layers of one OSM extract.

An Area is what every other part of warmheart works on. Builders (from PBF, XML or
Overpass) live in :mod:`routing.build`; the disk cache in :mod:`routing.cache`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pyproj import Transformer

from ._errors import CoordinateError
from .lonlat import check_lonlat as check_lonlat  # the one lat/lon check, re-exported
from .network import GraphArrays, graph_arrays

if TYPE_CHECKING:
    import geopandas as gpd
    import networkx as nx
    from numpy.typing import ArrayLike, NDArray

    from .edges import EdgePoints

__all__ = ["POI_LAYERS", "Area", "Network", "Snapped"]

Network = Literal["walk", "drive"]

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


@dataclass(eq=False)
class Area:
    """Walk graph, drive graph and POI layers of one place, projected to a metric CRS.

    Attributes
    ----------
    name
        Short name used for the cache and on the command line (``helsinki``).
    crs
        The projected CRS of both graphs (a pyproj-readable string, e.g. ``"EPSG:32635"``).
    walk, drive
        osmnx MultiDiGraphs, strongly connected, with ``length`` (m) and ``travel_time`` (s) on
        every edge and ``x``/``y`` (projected) plus ``lon``/``lat`` on every node.
    pois
        Layer name (see :data:`POI_LAYERS`) to GeoDataFrame in EPSG:4326. Names keep their
        original script.
    bounds
        ``(min_lon, min_lat, max_lon, max_lat)`` of the walk graph.
    settings
        The settings the Area was built with (part of the cache key).
    report
        What the build dropped or fixed (components, unparsable speeds, ...).
    basemap
        Base-map layers (named roads, water, parks, landmarks; see :mod:`routing.basemap`);
        read them with :func:`routing.basemap.basemap_layers`, which also serves Areas
        cached before the layers existed.
    """

    name: str
    crs: str
    walk: nx.MultiDiGraph
    drive: nx.MultiDiGraph
    pois: dict[str, gpd.GeoDataFrame]
    bounds: tuple[float, float, float, float]
    settings: Any = None
    report: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    basemap: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)

    @cached_property
    def walk_arrays(self) -> GraphArrays:
        """Array view of the walk graph (built once, then cached)."""
        return graph_arrays(self.walk)

    @cached_property
    def drive_arrays(self) -> GraphArrays:
        """Array view of the drive graph (built once, then cached)."""
        return graph_arrays(self.drive)

    def arrays(self, network: Network) -> GraphArrays:
        """Array view of the ``"walk"`` or ``"drive"`` graph."""
        if network == "walk":
            return self.walk_arrays
        if network == "drive":
            return self.drive_arrays
        msg = f"Expected network 'walk' or 'drive', got {network!r}"
        raise ValueError(msg)

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
