"""A synthetic street grid for the label search's tests and benchmark (no OSM input needed).

``street_grid(side, seed=...)`` is a ``side`` x ``side`` grid of two-way links 40-120 m long
walked at 1.25 m/s, with 15% of the links missing so that shortest walks detour and times
rarely tie; ``benchmarks/bench_labels.py --stress`` times the label search on a
city-sized one.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

__all__ = ["street_grid"]


def street_grid(side: int, *, seed: int) -> sparse.csr_matrix:
    """The grid's travel-time matrix (s), CSR, one entry per direction of each link."""
    rng = np.random.default_rng(seed)
    ids = np.arange(side * side).reshape(side, side)
    a = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    b = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    keep = rng.random(a.size) > 0.15
    a, b = a[keep], b[keep]
    t = rng.uniform(40.0, 120.0, a.size) / 1.25
    rows = np.concatenate([a, b])
    cols = np.concatenate([b, a])
    return sparse.csr_matrix((np.concatenate([t, t]), (rows, cols)), shape=(side * side,) * 2)
