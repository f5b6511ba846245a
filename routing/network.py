"""Array views of a projected road graph: node index, sparse weight matrices, edge table.

Every shortest-path computation in warmheart (station locator, isochrones, shuttle
matrices) runs on :class:`GraphArrays` through ``scipy.sparse.csgraph`` rather than on the
networkx graph, so the conversion is done once per graph and cached on the Area.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from .edges import MIN_WEIGHT, EdgeTable, build_edge_table

if TYPE_CHECKING:
    import networkx as nx
    from numpy.typing import ArrayLike, NDArray
    from scipy.spatial import cKDTree

__all__ = ["GraphArrays", "count_edges", "graph_arrays"]


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


def graph_arrays(G: nx.MultiDiGraph) -> GraphArrays:
    """Build :class:`GraphArrays` (and its :class:`~routing.edges.EdgeTable`) from a graph.

    Parameters
    ----------
    G
        Projected graph: nodes carry ``x``/``y`` in metres and ``lon``/``lat`` (osmnx keeps the
        original coordinates there after projection); every edge carries ``length`` (m) and
        ``travel_time`` (s), and optionally a projected ``geometry``. ``G.graph["crs"]``
        names the projection (used to unproject geometry points).
    """
    nodes = np.fromiter(G.nodes, dtype=np.int64, count=G.number_of_nodes())
    position = {int(v): i for i, v in enumerate(nodes.tolist())}
    data = G.nodes
    x = np.fromiter((data[v]["x"] for v in nodes), dtype=float, count=len(nodes))
    y = np.fromiter((data[v]["y"] for v in nodes), dtype=float, count=len(nodes))
    lon = np.fromiter((data[v].get("lon", np.nan) for v in nodes), dtype=float, count=len(nodes))
    lat = np.fromiter((data[v].get("lat", np.nan) for v in nodes), dtype=float, count=len(nodes))

    m = count_edges(G)
    # Python lists first, arrays once: item assignment into numpy arrays costs ~5x more
    u_list, v_list, key_list, time_list, length_list = [], [], [], [], []
    geometry = np.empty(m, dtype=object)
    geometry_list = []
    for k, (u, v, key, d) in enumerate(G.edges(keys=True, data=True)):
        u_list.append(position[u])
        v_list.append(position[v])
        key_list.append(key if isinstance(key, int) else k)
        time_list.append(d["travel_time"])
        length_list.append(d["length"])
        geometry_list.append(d.get("geometry"))
    us = np.array(u_list, dtype=np.intp)
    vs = np.array(v_list, dtype=np.intp)
    keys = np.array(key_list, dtype=np.int64)
    times = np.array(time_list, dtype=float)
    lengths = np.array(length_list, dtype=float)
    geometry[:] = geometry_list
    del u_list, v_list, key_list, time_list, length_list, geometry_list
    # The matrices keep the fastest of parallel edges, and that edge's length alongside.
    order = np.lexsort((times, vs, us))
    rows, cols = us[order], vs[order]
    first = np.ones(m, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    chosen = order[first]
    n = len(nodes)
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
        keys,
        lengths,
        times,
        geometry,
        node_xy=np.column_stack([x, y]),
        node_lonlat=np.column_stack([lon, lat]),
        csr=time,
        crs=G.graph.get("crs"),
    )
    arrays = GraphArrays(nodes, x, y, lon, lat, time, length, edges)
    arrays.__dict__["_position"] = position  # already made for the edge list above
    return arrays
