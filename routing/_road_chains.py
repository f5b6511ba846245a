"""Topological simplification of directed street segments into chains (osmnx's rules).

The segments of a road network (two nodes each, in way order) are merged into the edges
of a simplified graph as pyrosm 0.25's ``to_graph(..., simplify=True)`` merges them,
which follows ``osmnx.simplification.simplify_graph`` with
``edge_attrs_differ=["maxspeed", "highway"]``:

- a node is an *endpoint* (kept) when it has a self-loop, no in- or no out-edge, other
  than two distinct neighbours with a total degree of 2 or 4, or when its edges disagree
  on one of the ``differ`` columns;
- from every endpoint, each unvisited out-edge starts a chain that walks through the
  interstitial nodes to the next endpoint; where several edges run between the same two
  consecutive nodes of a chain only the first is kept;
- edges left over form rings without an endpoint, which are dropped.

Everything here is arrays; the one sequential part (the walk) is compiled with numba.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numba import njit

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Chains", "chain_directed_edges", "chain_flags"]


@dataclass(frozen=True)
class Chains:
    """Simplified edges as runs of directed edges.

    Attributes
    ----------
    edges
        The directed edges (positions in the input) of every chain, chain after chain,
        each in walk order.
    ptr
        Chain ``k`` is ``edges[ptr[k]:ptr[k + 1]]``.
    u, v
        First and last node id of each chain.
    nodes
        The node id of every position the chains pass through, chain after chain:
        chain ``k`` runs through ``nodes[ptr[k] + k : ptr[k + 1] + k + 1]``.
    """

    edges: NDArray[np.int64]
    ptr: NDArray[np.int64]
    u: NDArray[np.int64]
    v: NDArray[np.int64]
    nodes: NDArray[np.int64]

    @property
    def count(self) -> int:
        """Number of chains (simplified edges)."""
        return len(self.ptr) - 1

    def chain_of(self) -> NDArray[np.int64]:
        """The chain of each entry of :attr:`edges`."""
        return np.repeat(np.arange(self.count), np.diff(self.ptr))


def _distinct_neighbours(u: NDArray[np.int64], v: NDArray[np.int64], n: int) -> NDArray[np.int64]:
    """Number of distinct undirected neighbours of each node (a self-loop counts once)."""
    low, high = np.minimum(u, v), np.maximum(u, v)
    pairs = pd.unique(low * n + high)
    low, high = np.divmod(pairs, n)
    counts = np.bincount(low, minlength=n)
    counts += np.bincount(high[high != low], minlength=n)
    return counts


def _endpoints(
    u: NDArray[np.int64], v: NDArray[np.int64], n: int, differ: list[NDArray[np.int64]]
) -> NDArray[np.bool_]:
    """osmnx ``_is_endpoint`` rules 1-3 and 5 for the nodes ``0..n-1`` of the edges u -> v."""
    out_deg = np.bincount(u, minlength=n)
    in_deg = np.bincount(v, minlength=n)
    endpoint = (in_deg == 0) | (out_deg == 0)
    endpoint[u[u == v]] = True
    total = in_deg + out_deg
    endpoint |= ~((_distinct_neighbours(u, v, n) == 2) & ((total == 2) | (total == 4)))
    if differ:
        node_of = np.concatenate([u, v])
        for codes in differ:
            both = np.concatenate([codes, codes])
            low = np.full(n, np.iinfo(np.int64).max)
            high = np.full(n, np.iinfo(np.int64).min)
            np.minimum.at(low, node_of, both)
            np.maximum.at(high, node_of, both)
            endpoint |= high > low
    return endpoint


@njit(cache=True, nogil=True)
def _walk(
    indptr: NDArray[np.int64],
    targets: NDArray[np.int64],
    edge_of: NDArray[np.int64],
    endpoint: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:  # pragma: no cover - compiled
    """Chains from every endpoint's unvisited out-edges (CSR order), rings dropped."""
    m = targets.shape[0]
    visited = np.zeros(m, dtype=np.bool_)
    out = np.empty(m, dtype=np.int64)
    ptr = np.empty(m + 1, dtype=np.int64)
    ptr[0] = 0
    n_out = 0
    n_chain = 0
    for e in range(indptr.shape[0] - 1):
        if not endpoint[e]:
            continue
        for p in range(indptr[e], indptr[e + 1]):
            if visited[p]:
                continue
            visited[p] = True
            out[n_out] = edge_of[p]
            n_out += 1
            prev = e
            cur = targets[p]
            if not endpoint[cur]:
                for q in range(indptr[e], indptr[e + 1]):  # parallels of the first step
                    if targets[q] == cur:
                        visited[q] = True
            guard = 0
            while not endpoint[cur]:
                nxt = -1
                for q in range(indptr[cur], indptr[cur + 1]):
                    if not visited[q] and targets[q] != prev:
                        nxt = q
                        break
                if nxt == -1:
                    break
                visited[nxt] = True
                out[n_out] = edge_of[nxt]
                n_out += 1
                for q in range(indptr[cur], indptr[cur + 1]):  # parallels of this step
                    if targets[q] == targets[nxt]:
                        visited[q] = True
                prev = cur
                cur = targets[nxt]
                guard += 1
                if guard > m:
                    break
            n_chain += 1
            ptr[n_chain] = n_out
    return out[:n_out].copy(), ptr[: n_chain + 1].copy()


def chain_directed_edges(
    u: NDArray[np.int64], v: NDArray[np.int64], *, differ: list[NDArray[np.int64]]
) -> Chains:
    """Merge the directed edges ``u[i] -> v[i]`` (node ids) into simplified chains.

    Parameters
    ----------
    u, v
        Node ids of the directed edges, in the order the graph is built from.
    differ
        Per column whose change keeps a node as an endpoint, an integer code of each
        directed edge's value (equal values, equal codes; a missing value its own code).
    """
    m = len(u)
    codes, uniques = pd.factorize(np.concatenate([u, v]), sort=False)
    uniques = np.asarray(uniques, dtype=np.int64)
    fu, fv = codes[:m].astype(np.int64), codes[m:].astype(np.int64)
    n = len(uniques)
    endpoint = _endpoints(fu, fv, n, differ)
    order = np.argsort(fu, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(fu, minlength=n), out=indptr[1:])
    edges, ptr = _walk(indptr, fv[order], order.astype(np.int64), endpoint)
    first, last = ptr[:-1], ptr[1:] - 1
    count = len(ptr) - 1
    # the nodes along each chain: its first edge's source, then every edge's target
    nodes = np.empty(len(edges) + count, dtype=np.int64)
    chain = np.repeat(np.arange(count), np.diff(ptr))
    nodes[first + np.arange(count)] = uniques[fu[edges[first]]]
    nodes[np.arange(len(edges)) + chain + 1] = uniques[fv[edges]]
    return Chains(
        edges=edges,
        ptr=ptr,
        u=uniques[fu[edges[first]]],
        v=uniques[fv[edges[last]]],
        nodes=nodes,
    )


def chain_flags(flags: NDArray[np.bool_], chains: Chains) -> list[bool | list[bool]]:
    """One value per chain of a boolean of the directed edges: the value where the chain's
    edges agree, else the sorted list of the values (``[False, True]``), as osmnx gives."""
    per_edge = flags[chains.edges]
    values: list[bool | list[bool]] = per_edge[chains.ptr[:-1]].tolist()
    chain = chains.chain_of()
    inner = chain[1:] == chain[:-1]
    for k in np.unique(chain[1:][inner & (per_edge[1:] != per_edge[:-1])]).tolist():
        values[k] = [False, True]
    return values
