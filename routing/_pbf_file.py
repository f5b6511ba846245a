"""Read the highway ways and the nodes of an ``.osm.pbf`` file in one pass.

The file is read and walked blob by blob (``BlobHeader`` + ``Blob``; zlib or raw
blocks); each data block is decompressed by ``zlib`` and decoded in one compiled call
(:func:`routing._pbf_decode.decode_block`). What comes out is :class:`RoadWays`: every way
with a ``highway`` tag with its tags and node refs, the location of each ref, and a
lookup of node tags for the few nodes a graph keeps (their tag strings are kept per block
until then, undecoded).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from sys import intern
from typing import TYPE_CHECKING

import numpy as np

from ._errors import AreaBuildError
from ._pbf_decode import ERRORS, decode_block, parse_message

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from numpy.typing import NDArray

__all__ = ["UNDEFINED", "RoadWays", "read_ways"]

#: The location of a ref whose node the file does not hold.
UNDEFINED = 2**62
_KEY = np.frombuffer(b"highway", dtype=np.uint8)
_MAX_HEADER = 64 * 1024  # the format's limits
_MAX_BLOB = 32 * 1024 * 1024
#: Header features a reader must understand; these are the ones this reader does.
_FEATURES = {"OsmSchema-V0.6", "DenseNodes"}  # a history file (HistoricalInformation): no


@dataclass
class RoadWays:
    """Every way with a ``highway`` tag of a file, in file order, and its nodes.

    Attributes
    ----------
    ids
        Way ids.
    tags
        Each way's tags.
    offsets
        Way ``i`` has the nodes ``refs[offsets[i]:offsets[i + 1]]``.
    refs
        Node ids of all ways.
    x, y
        Longitude and latitude of each ref in 1e-9 degrees (:data:`UNDEFINED` where the
        file has no such node).
    """

    ids: NDArray[np.int64]
    tags: list[dict[str, str]]
    offsets: NDArray[np.int64]
    refs: NDArray[np.int64]
    x: NDArray[np.int64]
    y: NDArray[np.int64]
    _tagged: NDArray[np.int64] = field(repr=False)  # (node id, block, kv start, kv end)
    _kv: list[NDArray[np.int64]] = field(repr=False)  # per block: its nodes' tag strings
    _tables: list[tuple[bytes, NDArray[np.int64]]] = field(repr=False)

    def node_tags(self, nodes: NDArray[np.int64]) -> dict[int, dict[str, str]]:
        """The tags of those of ``nodes`` that have tags, by node id."""
        tagged = self._tagged
        at = np.searchsorted(tagged[:, 0], nodes)
        at = at[at < len(tagged)]
        at = at[np.isin(tagged[at, 0], nodes)]
        out: dict[int, dict[str, str]] = {}
        for node, block, start, end in tagged[at].tolist():
            data, strings = self._tables[block]
            kv = self._kv[block][start:end].tolist()
            text = [data[strings[i, 0] : strings[i, 1]].decode("utf-8", "replace") for i in kv]
            out[node] = dict(zip(text[0::2], text[1::2], strict=True))
        return out


def _fail(path: Path, what: str) -> AreaBuildError:
    return AreaBuildError(f"Expected a readable OSM PBF file, got {path} which {what}")


def _fields(buf: NDArray[np.uint8], start: int, end: int, path: Path) -> NDArray[np.int64]:
    out = np.empty(((end - start) // 2 + 2, 4), dtype=np.int64)
    n = parse_message(buf, start, end, out)
    if n < 0:
        raise _fail(path, f"has a malformed block header: {ERRORS.get(-n, 'too many fields')}")
    return out[:n]


def _blocks(path: Path, buf: NDArray[np.uint8]) -> Iterator[tuple[str, bytes]]:
    """The (type, decompressed data) of every blob of the file, in order."""
    pos, n = 0, len(buf)
    while pos < n:
        if pos + 4 > n:
            raise _fail(path, "ends inside a blob header (truncated)")
        size = int.from_bytes(bytes(buf[pos : pos + 4]), "big")
        start, pos = pos + 4, pos + 4 + size
        if size > _MAX_HEADER or pos > n:
            raise _fail(path, "has an invalid or truncated blob header")
        kind, datasize = "", -1
        for number, wire, a, b in _fields(buf, start, pos, path).tolist():
            if number == 1 and wire == 2:
                kind = bytes(buf[a:b]).decode("ascii", "replace")
            elif number == 3 and wire == 0:
                datasize = a
        if datasize < 0 or datasize > _MAX_BLOB or pos + datasize > n:
            raise _fail(path, "has a blob cut short (truncated) or of invalid size")
        start, pos = pos, pos + datasize
        data: bytes | None = None
        for number, wire, a, b in _fields(buf, start, pos, path).tolist():
            if wire != 2:
                continue
            if number == 1:
                data = bytes(buf[a:b])
            elif number == 3:
                try:
                    data = zlib.decompress(buf[a:b].data)
                except zlib.error as exc:
                    raise _fail(path, f"has a corrupt zlib block ({exc})") from exc
            elif number in (4, 6, 7):
                name = {4: "lzma", 6: "lz4", 7: "zstd"}[number]
                raise _fail(path, f"has {name}-compressed blocks (this reader takes zlib or raw)")
        if data is None:
            raise _fail(path, "has a blob without data")
        yield kind, data


def _check_header(path: Path, data: bytes) -> None:
    buf = np.frombuffer(data, dtype=np.uint8)
    needed = [
        bytes(buf[a:b]).decode("utf-8", "replace")
        for number, wire, a, b in _fields(buf, 0, len(buf), path).tolist()
        if number == 4 and wire == 2
    ]
    unknown = sorted(set(needed) - _FEATURES)
    if unknown:
        raise _fail(path, f"needs features this reader lacks: {', '.join(unknown)}")


def read_ways(path: Path) -> RoadWays:
    """One pass over a PBF: its highway ways, their node locations, and node tags.

    Raises
    ------
    AreaBuildError
        The file is not a readable PBF (empty, truncated, corrupt, not OSM).
    """
    node_parts: list[NDArray[np.int64]] = []
    tagged: list[NDArray[np.int64]] = []
    kvs: list[NDArray[np.int64]] = []
    tables: list[tuple[bytes, NDArray[np.int64]]] = []
    way_ids: list[NDArray[np.int64]] = []
    ref_parts: list[NDArray[np.int64]] = []
    sizes: list[NDArray[np.int64]] = []
    tags: list[dict[str, str]] = []
    try:
        raw = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc})") from exc
    if len(raw) == 0:
        raise _fail(path, "is empty")
    try:
        blocks = _blocks(path, raw)
        first = next(blocks, None)
        if first is None or first[0] != "OSMHeader":
            raise _fail(path, "does not start with an OSMHeader block")
        _check_header(path, first[1])
        for kind, data in blocks:
            if kind != "OSMData":
                continue
            block = np.frombuffer(data, dtype=np.uint8)
            error, strings, nodes, node_kv, ways, way_kv, refs = decode_block(block, _KEY)
            if error:
                raise _fail(path, f"has a malformed data block ({ERRORS[error]})")
            node_parts.append(nodes[:, :3].copy())
            has_tags = nodes[:, 4] > nodes[:, 3]
            if has_tags.any():
                rows = nodes[has_tags]
                column = np.full(len(rows), len(kvs))
                tagged.append(np.column_stack([rows[:, 0], column, rows[:, 3], rows[:, 4]]))
                lo, hi = int(strings[:, 0].min()), int(strings[:, 1].max())
                tables.append((data[lo:hi], strings - lo))
                kvs.append(node_kv)
            else:
                tables.append((b"", strings[:0]))
                kvs.append(node_kv[:0])
            if len(ways):
                tags.extend(_way_tags(path, block, strings, ways, way_kv))
                way_ids.append(ways[:, 0].copy())
                ref_parts.append(refs)
                sizes.append(ways[:, 4] - ways[:, 3])
    finally:
        del raw
    return _join(node_parts, tagged, kvs, tables, way_ids, ref_parts, sizes, tags)


def _way_tags(
    path: Path,
    block: NDArray[np.uint8],
    strings: NDArray[np.int64],
    ways: NDArray[np.int64],
    way_kv: NDArray[np.int64],
) -> list[dict[str, str]]:
    """The tags of the ways of one block (only the strings they use are decoded)."""
    used = np.unique(way_kv)
    text = np.empty(len(strings), dtype=object)
    try:
        # interned: a city's edges share their few distinct tag values (memory)
        text[used] = [intern(bytes(block[a:b]).decode("utf-8")) for a, b in strings[used].tolist()]
    except UnicodeDecodeError as exc:
        raise _fail(path, f"has a tag that is not UTF-8 ({exc})") from exc
    keys, values = text[way_kv[0::2]].tolist(), text[way_kv[1::2]].tolist()
    return [dict(zip(keys[a:b], values[a:b], strict=True)) for a, b in (ways[:, 1:3] // 2).tolist()]


def _join(
    node_parts: list[NDArray[np.int64]],
    tagged: list[NDArray[np.int64]],
    kvs: list[NDArray[np.int64]],
    tables: list[tuple[bytes, NDArray[np.int64]]],
    way_ids: list[NDArray[np.int64]],
    ref_parts: list[NDArray[np.int64]],
    sizes: list[NDArray[np.int64]],
    tags: list[dict[str, str]],
) -> RoadWays:
    """Locate every ref among the nodes (a node given twice: its last copy)."""
    empty = np.zeros(0, dtype=np.int64)
    nodes = np.concatenate(node_parts) if node_parts else np.zeros((0, 3), dtype=np.int64)
    del node_parts
    ids = nodes[:, 0]
    if len(ids) > 1 and not bool(np.all(ids[1:] > ids[:-1])):
        order = np.argsort(ids, kind="stable")
        nodes = nodes[order]
        last = np.append(nodes[1:, 0] != nodes[:-1, 0], True)
        nodes = nodes[last]
        ids = nodes[:, 0]
    refs = np.concatenate(ref_parts) if ref_parts else empty
    at = np.searchsorted(ids, refs)
    at[at >= len(ids)] = 0
    found = ids[at] == refs if len(ids) else np.zeros(len(refs), dtype=bool)
    x = np.where(found, nodes[at, 1] if len(ids) else 0, UNDEFINED)
    y = np.where(found, nodes[at, 2] if len(ids) else 0, UNDEFINED)
    marks = np.concatenate(tagged) if tagged else np.zeros((0, 4), dtype=np.int64)
    marks = marks[np.argsort(marks[:, 0], kind="stable")]
    if len(marks) > 1:  # a node given twice: the tags of its last copy
        marks = marks[np.append(marks[1:, 0] != marks[:-1, 0], True)]
    offsets = np.zeros(len(tags) + 1, dtype=np.int64)
    if sizes:
        np.cumsum(np.concatenate(sizes), out=offsets[1:])
    return RoadWays(
        ids=np.concatenate(way_ids) if way_ids else empty,
        tags=tags,
        offsets=offsets,
        refs=refs,
        x=x,
        y=y,
        _tagged=marks,
        _kv=kvs,
        _tables=tables,
    )
