"""Decode the nodes and highway ways of OSM PBF data blocks (compiled with numba).

An ``.osm.pbf`` file is a run of blobs (``BlobHeader`` + ``Blob``, zlib-compressed
``PrimitiveBlock`` messages; https://wiki.openstreetmap.org/wiki/PBF_Format). A block holds
a string table and groups of nodes (plain or ``DenseNodes``), ways and relations.
:func:`decode_block` reads one decompressed block in one compiled call: every node's id
and location (in 1e-9 degrees, ``offset + granularity * value``), the tag string indices
of tagged nodes, and the id, tag string indices and node refs of every way with a
``highway`` key. Relations and metadata are skipped. Every read is bounds-checked: a
malformed block sets an error code instead of reading outside the buffer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["Decoded", "decode_block", "parse_message"]

#: What :func:`decode_block` returns: (error, strings, nodes, node_kv, ways, way_kv, refs).
Decoded = tuple[
    int,
    "NDArray[np.int64]",
    "NDArray[np.int64]",
    "NDArray[np.int64]",
    "NDArray[np.int64]",
    "NDArray[np.int64]",
    "NDArray[np.int64]",
]

#: Error codes of :func:`decode_block` (0 is success).
ERRORS = {
    1: "a varint runs past the end of its message",
    2: "a length-delimited field runs past the end of its message",
    3: "an unsupported protobuf wire type",
    4: "a string index outside the block's string table",
    5: "a DenseNodes message whose id, lat and lon lists differ in length",
    6: "a way whose keys and values differ in length",
}


@njit(cache=True, nogil=True)
def _varint(buf: NDArray[np.uint8], pos: int, end: int) -> tuple[int, int]:  # pragma: no cover
    """(value, next position) of the varint at ``pos``; next position -1 past ``end``."""
    result = 0
    shift = 0
    while pos < end:
        byte = np.uint64(buf[pos])
        pos += 1
        result |= int((byte & np.uint64(0x7F)) << np.uint64(shift))
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            return 0, -1
    return 0, -1


@njit(cache=True, nogil=True)
def _zigzag(value: int) -> int:  # pragma: no cover
    return (value >> 1) ^ -(value & 1)


@njit(cache=True, nogil=True)
def _skip(buf: NDArray[np.uint8], pos: int, end: int, wire: int) -> int:  # pragma: no cover
    """Position after a field's value of type ``wire`` at ``pos``; -1 when malformed."""
    if wire == 0:
        return _varint(buf, pos, end)[1]
    if wire == 1:
        return pos + 8 if pos + 8 <= end else -1
    if wire == 2:
        size, pos = _varint(buf, pos, end)
        if pos < 0 or size < 0 or pos + size > end:
            return -1
        return pos + size
    if wire == 5:
        return pos + 4 if pos + 4 <= end else -1
    return -1


@njit(cache=True, nogil=True)
def parse_message(
    buf: NDArray[np.uint8], start: int, end: int, out: NDArray[np.int64]
) -> int:  # pragma: no cover
    """The top-level fields of the message ``buf[start:end]``, one row of ``out`` each:
    ``(field number, wire type, value or start, end)``. Returns the row count, or
    ``-code`` (see :data:`ERRORS`) when malformed or ``out`` is full (-7)."""
    pos = start
    n = 0
    while pos < end:
        key, pos = _varint(buf, pos, end)
        if pos < 0:
            return -1
        field, wire = key >> 3, key & 7
        if n >= out.shape[0]:
            return -7
        out[n, 0] = field
        out[n, 1] = wire
        if wire == 0:
            value, pos = _varint(buf, pos, end)
            if pos < 0:
                return -1
            out[n, 2] = value
            out[n, 3] = pos
        elif wire == 2:
            size, pos = _varint(buf, pos, end)
            if pos < 0 or size < 0 or pos + size > end:
                return -2
            out[n, 2] = pos
            out[n, 3] = pos + size
            pos += size
        else:
            nxt = _skip(buf, pos, end, wire)
            if nxt < 0:
                return -3
            out[n, 2] = pos
            out[n, 3] = nxt
            pos = nxt
        n += 1
    return n


@njit(cache=True, nogil=True)
def _packed(
    buf: NDArray[np.uint8], start: int, end: int, out: NDArray[np.int64], at: int, signed: bool
) -> int:  # pragma: no cover
    """Append the packed varints of ``buf[start:end]`` to ``out`` from ``at``; the new
    length, or -1 when malformed or ``out`` is full."""
    pos = start
    while pos < end:
        value, pos = _varint(buf, pos, end)
        if pos < 0 or at >= out.shape[0]:
            return -1
        out[at] = _zigzag(value) if signed else value
        at += 1
    return at


@njit(cache=True, nogil=True)
def _deltas(
    buf: NDArray[np.uint8],
    start: int,
    end: int,
    scratch: NDArray[np.int64],
    out: NDArray[np.int64],
    row: int,
    col: int,
    scale: int,
    offset: int,
) -> int:  # pragma: no cover
    """Decode the packed, delta-coded sint64 list ``buf[start:end]`` into ``out[row:, col]``
    as ``offset + scale * value``; the count, or -1 when malformed or ``out`` is full."""
    c = _packed(buf, start, end, scratch, 0, True)
    if c < 0 or row + c > out.shape[0]:
        return -1
    acc = 0
    for j in range(c):
        acc += scratch[j]
        out[row + j, col] = offset + scale * acc
    return c


@njit(cache=True, nogil=True)
def _equals(
    buf: NDArray[np.uint8], start: int, end: int, text: NDArray[np.uint8]
) -> bool:  # pragma: no cover
    if end - start != text.shape[0]:
        return False
    for i in range(text.shape[0]):  # noqa: SIM110 - compiled: no generators
        if buf[start + i] != text[i]:
            return False
    return True


@njit(cache=True, nogil=True)
def decode_block(buf: NDArray[np.uint8], key: NDArray[np.uint8]) -> Decoded:  # pragma: no cover
    """Decode one PrimitiveBlock (see the module doc); ``key`` is ``b"highway"``.

    Returns ``(error, strings, nodes, node_kv, ways, way_kv, refs)``:
    ``strings`` (start, end) of each string-table entry in ``buf``; ``nodes`` rows of
    (id, lon, lat, kv start, kv end) with locations in 1e-9 degrees and the node's
    alternating key/value string indices at ``node_kv[kv start:kv end]``; ``ways`` rows of
    (id, kv start, kv end, refs start, refs end) for the ways with a ``key`` tag.
    """
    n = buf.shape[0]
    fields = np.empty((n // 2 + 4, 4), dtype=np.int64)
    count = parse_message(buf, 0, n, fields)
    empty = np.zeros((0, 5), dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    if count < 0:
        return -count, np.zeros((0, 2), dtype=np.int64), empty, none, empty, none, none
    granularity, lat_offset, lon_offset = 100, 0, 0
    table_start, table_end = 0, 0
    for i in range(count):
        field = fields[i, 0]
        if field == 1:
            table_start, table_end = fields[i, 2], fields[i, 3]
        elif field == 17:
            granularity = fields[i, 2]
        elif field == 19:
            lat_offset = fields[i, 2]
        elif field == 20:
            lon_offset = fields[i, 2]
    groups = fields[:count][fields[:count, 0] == 2].copy()
    # the string table: repeated bytes s = 1
    inner = np.empty((max(table_end - table_start, 1), 4), dtype=np.int64)
    m = parse_message(buf, table_start, table_end, inner)
    if m < 0:
        return -m, np.zeros((0, 2), dtype=np.int64), empty, none, empty, none, none
    strings = inner[:m, 2:4].copy()
    wanted = -1
    for s in range(m):
        if _equals(buf, strings[s, 0], strings[s, 1], key):
            wanted = s
            break
    size = n + 1
    nodes = np.empty((size, 5), dtype=np.int64)
    node_kv = np.empty(size, dtype=np.int64)
    ways = np.empty((size // 4 + 1, 5), dtype=np.int64)
    way_kv = np.empty(size, dtype=np.int64)
    refs = np.empty(size, dtype=np.int64)
    n_nodes = n_nkv = n_ways = n_wkv = n_refs = 0
    scratch = np.empty(size, dtype=np.int64)
    for g in range(groups.shape[0]):
        gs, ge = groups[g, 2], groups[g, 3]
        items = np.empty(((ge - gs) // 2 + 1, 4), dtype=np.int64)
        k = parse_message(buf, gs, ge, items)
        if k < 0:
            return -k, strings, empty, none, empty, none, none
        for it in range(k):
            field, start, end = items[it, 0], items[it, 2], items[it, 3]
            if items[it, 1] != 2:
                continue
            if field == 2:  # DenseNodes
                parts = np.empty((end - start + 1, 4), dtype=np.int64)
                p = parse_message(buf, start, end, parts)
                if p < 0:
                    return -p, strings, empty, none, empty, none, none
                ids_at = lat_at = lon_at = kv_at = -1
                for q in range(p):
                    if parts[q, 1] == 2:
                        if parts[q, 0] == 1:
                            ids_at = q
                        elif parts[q, 0] == 8:
                            lat_at = q
                        elif parts[q, 0] == 9:
                            lon_at = q
                        elif parts[q, 0] == 10:
                            kv_at = q
                if ids_at < 0:
                    continue
                base = n_nodes
                c = _deltas(buf, parts[ids_at, 2], parts[ids_at, 3], scratch, nodes, base, 0, 1, 0)
                if c < 0 or lat_at < 0 or lon_at < 0:
                    return 5, strings, empty, none, empty, none, none
                at_lat, at_lon = parts[lat_at], parts[lon_at]
                lats = _deltas(
                    buf, at_lat[2], at_lat[3], scratch, nodes, base, 2, granularity, lat_offset
                )
                lons = _deltas(
                    buf, at_lon[2], at_lon[3], scratch, nodes, base, 1, granularity, lon_offset
                )
                if lats != c or lons != c:
                    return 5, strings, empty, none, empty, none, none
                for j in range(c):
                    nodes[base + j, 3] = n_nkv
                    nodes[base + j, 4] = n_nkv
                if kv_at >= 0:
                    c2 = _packed(buf, parts[kv_at, 2], parts[kv_at, 3], scratch, 0, False)
                    if c2 < 0:
                        return 1, strings, empty, none, empty, none, none
                    j = 0
                    q = 0
                    while q < c2 and j < c:
                        nodes[base + j, 3] = n_nkv
                        while q < c2 and scratch[q] != 0:
                            if q + 1 >= c2 or scratch[q] >= m or scratch[q + 1] >= m:
                                return 4, strings, empty, none, empty, none, none
                            node_kv[n_nkv] = scratch[q]
                            node_kv[n_nkv + 1] = scratch[q + 1]
                            n_nkv += 2
                            q += 2
                        nodes[base + j, 4] = n_nkv
                        q += 1
                        j += 1
                n_nodes += c
            elif field == 1:  # a plain Node
                parts = np.empty((end - start + 1, 4), dtype=np.int64)
                p = parse_message(buf, start, end, parts)
                if p < 0 or n_nodes >= size:
                    return 2, strings, empty, none, empty, none, none
                nodes[n_nodes, 0:3] = 0
                keys_at = vals_at = -1
                for q in range(p):
                    if parts[q, 0] == 1 and parts[q, 1] == 0:
                        nodes[n_nodes, 0] = _zigzag(parts[q, 2])
                    elif parts[q, 0] == 8 and parts[q, 1] == 0:
                        nodes[n_nodes, 2] = lat_offset + granularity * _zigzag(parts[q, 2])
                    elif parts[q, 0] == 9 and parts[q, 1] == 0:
                        nodes[n_nodes, 1] = lon_offset + granularity * _zigzag(parts[q, 2])
                    elif parts[q, 0] == 2 and parts[q, 1] == 2:
                        keys_at = q
                    elif parts[q, 0] == 3 and parts[q, 1] == 2:
                        vals_at = q
                nodes[n_nodes, 3] = n_nkv
                if keys_at >= 0 and vals_at >= 0:
                    a = _packed(buf, parts[keys_at, 2], parts[keys_at, 3], scratch, 0, False)
                    b = _packed(buf, parts[vals_at, 2], parts[vals_at, 3], scratch, a, False)
                    if a < 0 or b - a != a:
                        return 6, strings, empty, none, empty, none, none
                    for j in range(a):
                        if scratch[j] >= m or scratch[a + j] >= m:
                            return 4, strings, empty, none, empty, none, none
                        node_kv[n_nkv] = scratch[j]
                        node_kv[n_nkv + 1] = scratch[a + j]
                        n_nkv += 2
                nodes[n_nodes, 4] = n_nkv
                n_nodes += 1
            elif field == 3:  # a Way
                parts = np.empty((end - start + 1, 4), dtype=np.int64)
                p = parse_message(buf, start, end, parts)
                if p < 0:
                    return 2, strings, empty, none, empty, none, none
                way_id = 0
                keys_at = vals_at = refs_at = -1
                for q in range(p):
                    if parts[q, 0] == 1 and parts[q, 1] == 0:
                        way_id = parts[q, 2]
                    elif parts[q, 0] == 2 and parts[q, 1] == 2:
                        keys_at = q
                    elif parts[q, 0] == 3 and parts[q, 1] == 2:
                        vals_at = q
                    elif parts[q, 0] == 8 and parts[q, 1] == 2:
                        refs_at = q
                if keys_at < 0 or wanted < 0:
                    continue
                a = _packed(buf, parts[keys_at, 2], parts[keys_at, 3], scratch, 0, False)
                if a < 0:
                    return 1, strings, empty, none, empty, none, none
                found = False
                for j in range(a):
                    if scratch[j] == wanted:
                        found = True
                        break
                if not found:
                    continue
                if vals_at < 0:
                    return 6, strings, empty, none, empty, none, none
                b = _packed(buf, parts[vals_at, 2], parts[vals_at, 3], scratch, a, False)
                if b - a != a:
                    return 6, strings, empty, none, empty, none, none
                ways[n_ways, 0] = way_id
                ways[n_ways, 1] = n_wkv
                for j in range(a):
                    if scratch[j] >= m or scratch[a + j] >= m:
                        return 4, strings, empty, none, empty, none, none
                    way_kv[n_wkv] = scratch[j]
                    way_kv[n_wkv + 1] = scratch[a + j]
                    n_wkv += 2
                ways[n_ways, 2] = n_wkv
                ways[n_ways, 3] = n_refs
                if refs_at >= 0:
                    c = _packed(buf, parts[refs_at, 2], parts[refs_at, 3], refs, n_refs, True)
                    if c < 0:
                        return 1, strings, empty, none, empty, none, none
                    acc = 0
                    for j in range(n_refs, c):
                        acc += refs[j]
                        refs[j] = acc
                    n_refs = c
                ways[n_ways, 4] = n_refs
                n_ways += 1
    return (
        0,
        strings,
        nodes[:n_nodes].copy(),
        node_kv[:n_nkv].copy(),
        ways[:n_ways].copy(),
        way_kv[:n_wkv].copy(),
        refs[:n_refs].copy(),
    )
