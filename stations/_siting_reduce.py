"""Covering instances made smaller before solving: demand merged by candidate set.

In maximal and set covering only *which* candidates reach a demand matters, not how far,
so demands reached by exactly the same candidates are one demand of the summed weight, and
a demand that a fixed candidate (an existing station) covers is covered whatever is opened:
it keeps one pair, to that fixed candidate, and joins the others it covers. The covered
weight of every open set that contains the fixed candidates is unchanged, so solutions,
bounds and gains of the merged instance are those of the original. Clustered demand (many
points per street block) shrinks a lot.

Merging is exact: sets are grouped by a random 64-bit hash, then every member of a group is
compared with its first member pair by pair; a member that differs (a hash collision) stays
a demand of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["merge_demand"]


def merge_demand(
    ptr: NDArray[np.int64],
    dem: NDArray[np.int64],
    w: NDArray[np.float64],
    fixed: NDArray[np.bool_],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Merge demands with the same candidate set (see the module notes).

    Parameters
    ----------
    ptr, dem
        Candidate-major covering pairs: candidate ``j`` covers ``dem[ptr[j]:ptr[j+1]]``.
    w
        Demand weights.
    fixed
        Candidates open whatever is chosen.

    Returns
    -------
    tuple
        ``(ptr, dem, w, members)`` of the merged instance (same candidates; demands
        renumbered, one merged demand of no pairs holding every unreachable demand's
        weight; ``members``: the original demands in each).
    """
    k, n = ptr.size - 1, w.size
    cand = np.repeat(np.arange(k, dtype=np.int64), np.diff(ptr))
    # a demand covered by a fixed candidate keeps only its first such pair
    on_fixed = fixed[cand]
    first_fixed = np.full(n, k, dtype=np.int64)
    np.minimum.at(first_fixed, dem[on_fixed], cand[on_fixed])
    keep = (first_fixed[dem] == k) | (cand == first_fixed[dem])
    d, c = dem[keep], cand[keep]
    order = np.lexsort((c, d))
    d, c = d[order], c[order]
    count = np.bincount(d, minlength=n)
    start = np.concatenate([[0], np.cumsum(count)[:-1]])
    salt = _salt(k)
    key = np.zeros(n, dtype=np.uint64)
    np.add.at(key, d, salt[c])  # wraps modulo 2**64: still a hash
    _, group = np.unique(np.column_stack([key, count.astype(np.uint64)]), axis=0,
                         return_inverse=True)  # fmt: skip
    group = group.ravel()
    rep = np.full(group.max(initial=-1) + 1, n, dtype=np.int64)
    np.minimum.at(rep, group, np.arange(n))
    # exact check: each member's candidates equal its representative's, position by position
    mine = np.repeat(np.arange(n), count)
    offset = np.arange(d.size) - start[mine]
    theirs = start[rep[group[mine]]] + offset
    differs = np.zeros(n, dtype=bool)
    differs[mine[c != c[theirs]]] = True
    head = np.where(differs, -1 - np.arange(n), rep[group])  # a collision stays alone
    _, new_id = np.unique(head, return_inverse=True)
    new_id = new_id.ravel()
    m = int(new_id.max(initial=-1)) + 1
    weight = np.bincount(new_id, weights=w, minlength=m).astype(np.float64)
    first = np.full(m, n, dtype=np.int64)
    np.minimum.at(first, new_id, np.arange(n))
    # the pairs of each merged demand's first member, renumbered, candidate-major again
    lead = first[new_id[d]] == d
    out_c, out_d = c[lead], new_id[d[lead]]
    order = np.lexsort((out_d, out_c))
    out_c, out_d = out_c[order], out_d[order]
    out_ptr = np.zeros(k + 1, dtype=np.int64)
    out_ptr[1:] = np.cumsum(np.bincount(out_c, minlength=k))
    members = np.bincount(new_id, minlength=m).astype(np.float64)
    return out_ptr, np.asarray(out_d, dtype=np.int64), weight, members


def _salt(k: int) -> NDArray[np.uint64]:
    """One random 64-bit number per candidate (a demand's hash: the sum over its set)."""
    return np.random.default_rng(20261201).integers(1, 2**63, k, dtype=np.uint64)
