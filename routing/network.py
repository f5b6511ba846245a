"""Array views of a projected road graph: node index, sparse weight matrices, edge table.

Every shortest-path computation in warmheart (station locator, isochrones, shuttle
matrices) runs on :class:`GraphArrays` through ``scipy.sparse.csgraph`` rather than on the
networkx graph, so the conversion is done once per graph and cached on the Area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import sparse

from .edges import MIN_WEIGHT, EdgeTable, build_edge_table

if TYPE_CHECKING:
    from collections.abc import Iterable

    import networkx as nx
    from numpy.typing import ArrayLike, NDArray
    from scipy.spatial import cKDTree

__all__ = [
    "GraphArrays",
    "GraphLists",
    "count_edges",
    "fill_graph",
    "graph_arrays",
    "graph_lists",
]


@dataclass(frozen=True, eq=False)
class GraphArrays:
    """Dense-indexed arrays of a projected graph.

    Node ``i`` of every array is the graph node ``nodes[i]``. Weight matrices hold, for each
    ordered pair of adjacent nodes, the minimum over parallel edges.

    Attributes
    ----------
    nodes
        Graph node ids (OSM ids), shape ``(n,)``.
    x, y
        Projected coordinates in metres (the graph's CRS).
    lon, lat
        WGS-84 coordinates of the nodes.
    time
        CSR matrix of edge ``travel_time`` in seconds.
    length
        CSR matrix of edge ``length`` in metres, on the same sparsity pattern as ``time``.
    edges
        Every directed edge (parallel edges, loops and self-loops kept) with its geometry:
        the :class:`~routing.edges.EdgeTable`. The two matrices above collapse parallel
        edges and are the shortest-path kernel only; geometry comes from here.
    """

    nodes: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    time: sparse.csr_matrix
    length: sparse.csr_matrix
    edges: EdgeTable = field(repr=False)

    @cached_property
    def _tree(self) -> cKDTree:
        # built on first use: a reloaded Area that only locates on edges never needs it
        from scipy.spatial import cKDTree

        return cKDTree(np.column_stack([self.x, self.y]))

    @cached_property
    def _position(self) -> dict[int, int]:
        return {int(v): i for i, v in enumerate(self.nodes.tolist())}

    @property
    def n(self) -> int:
        """Number of nodes."""
        return int(self.nodes.shape[0])

    def index_of(self, node_ids: ArrayLike) -> NDArray[np.intp]:
        """Dense indices of graph node ids; raises ``KeyError`` naming an unknown id."""
        ids = np.atleast_1d(np.asarray(node_ids))
        try:
            return np.fromiter((self._position[int(v)] for v in ids), dtype=np.intp, count=len(ids))
        except KeyError as exc:
            msg = f"Node {exc.args[0]} is not in this graph"
            raise KeyError(msg) from None

    def nearest(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Nearest node (dense index) and straight-line distance in metres for projected points.

        Pass all points in one call: the KD-tree query is vectorised.
        """
        pts = np.column_stack(
            [np.atleast_1d(np.asarray(x, dtype=float)), np.atleast_1d(np.asarray(y, dtype=float))]
        )
        dist, idx = self._tree.query(pts)
        return idx.astype(np.intp), dist.astype(np.float64)


def count_edges(G: nx.MultiDiGraph) -> int:
    """Edges of a multigraph, parallel ones included (``G.number_of_edges()``, faster).

    networkx counts through its degree views, ~1 s per call on a city walk graph; this
    sums the key dicts of the adjacency directly.
    """
    succ = G._succ  # the adjacency dicts themselves: no view objects per node
    return sum(map(len, chain.from_iterable(map(dict.values, succ.values()))))


@dataclass(frozen=True, eq=False)
class GraphLists:
    """What :class:`GraphArrays` is made of, read out of a graph (:func:`graph_lists`).

    Node ``i`` is ``nodes[i]`` at ``x``/``y`` (``lon``/``lat``); edge ``e`` runs from node
    index ``u[e]`` to ``v[e]`` with its ``key``, ``time`` (s), ``length`` (m) and projected
    ``geometry`` (a LineString or ``None``), in the graph's edge order. Holding these, the
    graph itself can be dropped before the arrays are made (:meth:`arrays`).
    """

    nodes: NDArray[np.int64]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    u: NDArray[np.intp]
    v: NDArray[np.intp]
    key: NDArray[np.int64]
    time: NDArray[np.float64]
    length: NDArray[np.float64]
    geometry: NDArray[np.object_]
    crs: str | None

    def arrays(self) -> GraphArrays:
        """The :class:`GraphArrays` (and :class:`~routing.edges.EdgeTable`) of these lists."""
        us, vs, times, lengths = self.u, self.v, self.time, self.length
        m, n = us.size, self.nodes.size
        # The matrices keep the fastest of parallel edges, and that edge's length alongside.
        order = np.lexsort((times, vs, us))
        rows, cols = us[order], vs[order]
        first = np.ones(m, dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        chosen = order[first]
        del order, rows, cols, first
        time = sparse.csr_matrix(
            (np.maximum(times[chosen], MIN_WEIGHT), (us[chosen], vs[chosen])), shape=(n, n)
        )
        length = sparse.csr_matrix(
            (np.maximum(lengths[chosen], MIN_WEIGHT), (us[chosen], vs[chosen])), shape=(n, n)
        )
        time.sort_indices()
        length.sort_indices()
        edges = build_edge_table(
            us,
            vs,
            self.key,
            lengths,
            times,
            self.geometry,
            node_xy=np.column_stack([self.x, self.y]),
            node_lonlat=np.column_stack([self.lon, self.lat]),
            csr=time,
            crs=self.crs,
        )
        return GraphArrays(self.nodes, self.x, self.y, self.lon, self.lat, time, length, edges)


def graph_lists(G: nx.MultiDiGraph) -> GraphLists:
    """Read the nodes and edges of a projected graph into :class:`GraphLists`.

    Parameters
    ----------
    G
        Projected graph: nodes carry ``x``/``y`` in metres and ``lon``/``lat`` (osmnx keeps the
        original coordinates there after projection); every edge carries ``length`` (m) and
        ``travel_time`` (s), and optionally a projected ``geometry``. ``G.graph["crs"]``
        names the projection (used to unproject geometry points).
    """
    nodes = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    data = G._node  # the node dicts themselves (no view per lookup)
    n = len(nodes)
    values = [data[v] for v in nodes.tolist()]
    x = np.fromiter((d["x"] for d in values), dtype=float, count=n)
    y = np.fromiter((d["y"] for d in values), dtype=float, count=n)
    lon = np.fromiter((d.get("lon", np.nan) for d in values), dtype=float, count=n)
    lat = np.fromiter((d.get("lat", np.nan) for d in values), dtype=float, count=n)
    del values
    position = {v: i for i, v in enumerate(nodes.tolist())}
    m = count_edges(G)
    # Python lists first, arrays once: item assignment into numpy arrays costs ~5x more
    u_list, v_list, key_list, time_list, length_list = [], [], [], [], []
    geometry_list = []
    k = 0
    for u, nbrs in G._succ.items():  # G.edges(keys=True, data=True) order, without views
        iu = position[u]
        for v, keydict in nbrs.items():
            iv = position[v]
            for key, d in keydict.items():
                u_list.append(iu)
                v_list.append(iv)
                key_list.append(key if isinstance(key, int) else k)
                time_list.append(d["travel_time"])
                length_list.append(d["length"])
                geometry_list.append(d.get("geometry"))
                k += 1
    geometry = np.empty(m, dtype=object)
    geometry[:] = geometry_list
    return GraphLists(
        nodes,
        x,
        y,
        lon,
        lat,
        u=np.array(u_list, dtype=np.intp),
        v=np.array(v_list, dtype=np.intp),
        key=np.array(key_list, dtype=np.int64),
        time=np.array(time_list, dtype=float),
        length=np.array(length_list, dtype=float),
        geometry=geometry,
        crs=G.graph.get("crs"),
    )


def fill_graph(
    G: nx.MultiDiGraph,
    nodes: Iterable[tuple[int, dict[str, Any]]],
    edges: Iterable[tuple[int, int, int, dict[str, Any]]],
) -> None:
    """``G.add_nodes_from(nodes); G.add_edges_from(edges)`` on an empty graph, written
    straight into its adjacency dicts: the same graph, in the same order, as those calls
    make, in a quarter of their time on a city and without copying each data dict (the
    dicts given become the graph's). The nodes of every edge are in ``nodes``."""
    node, succ, pred = G._node, G._succ, G._pred
    for n, data in nodes:
        node[n] = data
        succ[n] = {}
        pred[n] = {}
    for u, v, key, data in edges:
        keydict = succ[u].get(v)
        if keydict is None:
            keydict = succ[u][v] = pred[v][u] = {}
        keydict[key] = data
    nx_cache = getattr(G, "__networkx_cache__", None)
    if nx_cache:
        nx_cache.clear()


def graph_arrays(G: nx.MultiDiGraph) -> GraphArrays:
    """Build :class:`GraphArrays` (and its :class:`~routing.edges.EdgeTable`) from a graph
    (as :func:`graph_lists` reads it)."""
    return graph_lists(G).arrays()
