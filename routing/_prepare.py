"""A raw road graph made ready for routing: its largest strong component, projected, timed."""

from __future__ import annotations

import warnings
from itertools import chain
from typing import TYPE_CHECKING, Any

import numpy as np

from ._errors import AreaBuildError, AreaWarning
from .network import count_edges
from .speeds import add_travel_times

if TYPE_CHECKING:
    import networkx as nx

    from .settings import AreaSettings

__all__ = ["DROPPED_WARN_SHARE", "crs_string", "prepare_graph"]

#: Warn (AreaWarning) when the SCC reduction drops more than this share of a graph's nodes.
DROPPED_WARN_SHARE = 0.5


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


def crs_string(crs: Any) -> str:
    from pyproj import CRS

    parsed = CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.to_string()
