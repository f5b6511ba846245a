"""A PBF's elements as a table: the OPL text of :mod:`routing._pbf_opl`, parsed with pyarrow.

One row per node, way and relation, in the file's order: kind, id, the tags of the keys
asked for (sparse, :class:`Tags`), node locations, way node locations (NaN where a node is
missing from the file) and whether each way is closed, relation member ways. libosmium
writes the text in a child process while this process parses it, so the two share the
machine's cores; no Python code runs per node or per way.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ._errors import AreaBuildError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import pyarrow as pa

__all__ = [
    "NODE",
    "RELATION",
    "WAY",
    "Table",
    "Tags",
    "child_peak_mb",
    "isin",
    "ranges",
    "read_table",
]

NODE, WAY, RELATION = ord("n"), ord("w"), ord("r")


def read_table(
    path: Path, keys: list[str], *, node_keys: list[str], relation_keys: list[str]
) -> Table:
    """The nodes with one of ``node_keys``, every way and the relations with one of
    ``relation_keys`` of the PBF file ``path``, with their tags of ``keys``.

    Raises
    ------
    AreaBuildError
        When libosmium cannot read the file.
    """
    return _parse_opl(_opl_blocks(path, node_keys, relation_keys), keys)


def _opl_blocks(path: Path, node_keys: list[str], relation_keys: list[str]) -> Iterator[pa.Array]:
    """The OPL lines of :mod:`routing._pbf_opl`, in blocks, parsed while they are written.

    libosmium writes them in a child process, so decoding the file and parsing the text
    share the machine's cores.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    command = [sys.executable, "-m", "routing._pbf_opl", str(path)]
    command += [",".join(node_keys), ",".join(relation_keys)]
    # our own module, the file as an argument, no shell
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603
    assert child.stdout is not None and child.stderr is not None
    try:
        reader = pacsv.open_csv(
            child.stdout,
            read_options=pacsv.ReadOptions(column_names=["line"], block_size=1 << 25),
            parse_options=pacsv.ParseOptions(delimiter="\x1f", quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}),
        )
        for batch in reader:
            yield batch.column(0)
    except pa.ArrowInvalid:  # no text at all ("Empty CSV file"): the child says why below
        if child.wait() == 0:
            raise
    finally:  # a child still writing stops at the closed pipe
        child.stdout.close()
        error = _take_peak(child.stderr.read().decode("utf-8", "replace").strip())
        child.stderr.close()
        status = child.wait()
    if status != 0:
        reason = error.splitlines()[-1] if error else f"exit status {status}"
        msg = f"Expected a readable OSM PBF file, got {path} which pyosmium cannot read: {reason}"
        raise AreaBuildError(msg)


#: The largest peak memory (kB) a reader child reported in this process (see child_peak_mb).
_CHILD_PEAK_KB = [0]


def _take_peak(text: str) -> str:
    """The child's standard error without its peak line, whose figure is recorded."""
    from ._pbf_opl import PEAK_LINE

    lines = text.splitlines()
    if lines and lines[-1].startswith(PEAK_LINE + " "):
        with contextlib.suppress(ValueError):
            _CHILD_PEAK_KB[0] = max(_CHILD_PEAK_KB[0], int(lines.pop().split()[1]))
    return "\n".join(lines)


def child_peak_mb() -> float | None:
    """The largest peak resident memory (MB) of a reader child this process has run, as the
    child measured it itself (``None`` when none ran or it could not tell)."""
    return round(_CHILD_PEAK_KB[0] / 1024, 1) if _CHILD_PEAK_KB[0] else None


class Tags:
    """The parsed tags of the kept keys, sparse: per key, the rows that have it and the values."""

    def __init__(
        self, n: int, rows: np.ndarray, key: np.ndarray, values: np.ndarray, keys: list[str]
    ):
        order = np.argsort(key, kind="stable")
        rows, key, values = rows[order], key[order], values[order]
        bounds = np.searchsorted(key, np.arange(len(keys) + 1))
        self.n = n
        self._rows = {k: rows[bounds[j] : bounds[j + 1]] for j, k in enumerate(keys)}
        self._values = {k: values[bounds[j] : bounds[j + 1]] for j, k in enumerate(keys)}

    def column(self, key: str, rows: np.ndarray) -> np.ndarray:
        """The values of ``key`` of ``rows``, ``None`` where absent."""
        out = np.full(len(rows), None, dtype=object)
        have, values = self._rows[key], self._values[key]
        if len(have) and len(rows):
            pos = np.minimum(np.searchsorted(have, rows), len(have) - 1)
            hit = have[pos] == rows
            out[hit] = values[pos[hit]]
        return out

    def rows_where(self, key: str, values: Literal[True] | tuple[str, ...]) -> np.ndarray:
        """The rows whose ``key`` is one of ``values`` (``True``: any value)."""
        have = self._rows[key]
        if values is True:
            return have
        return have[isin(self._values[key], values)]


@dataclass
class Table:
    """The parsed elements: one row per node, way and relation, in the file's order."""

    kind: np.ndarray  # uint8: b"n", b"w" or b"r"
    osm_id: np.ndarray  # int64
    tags: Tags
    lon: np.ndarray  # nodes: their location (NaN when unknown); others NaN
    lat: np.ndarray
    refs_off: np.ndarray  # offsets of each row's way nodes into coords (others: none)
    coords: np.ndarray  # (n, 2) way node locations, NaN where unknown
    closed: np.ndarray  # ways: first node id == last node id
    members: dict[int, list[int]]  # relation row -> member way ids, in member order


def _parse_opl(blocks: Iterator[pa.Array], keys: list[str]) -> Table:
    parts: list[dict[str, Any]] = []
    row0 = 0
    for lines in blocks:
        parts.append(_parse_batch(lines, keys, row0))
        row0 += len(lines)
    return _join(parts, keys, row0)


def _parse_batch(lines: pa.Array, keys: list[str], row0: int) -> dict[str, Any]:
    """One block of OPL lines: ``n<id> T<tags> x<lon> y<lat>``, ``w<id> T<tags> N<nodes>``
    (``n<id>x<lon>y<lat>,...``) or ``r<id> T<tags> M<members>`` (``w<id>@<role>,...``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    fields = pc.split_pattern(lines, " ", max_splits=2)
    head = pc.list_element(fields, 0)
    kind = np.frombuffer(pc.utf8_slice_codeunits(head, 0, 1).buffers()[2], np.uint8)
    kind = kind[: len(lines)].copy()
    n = len(kind)
    osm_id = pc.cast(pc.utf8_slice_codeunits(head, 1), pa.int64()).to_numpy()
    rest = pc.list_element(fields, 2)
    out: dict[str, Any] = {"kind": kind, "osm_id": osm_id, "lon": np.full(n, np.nan)}
    out["lat"] = np.full(n, np.nan)
    out["tags"] = _tag_pairs(pc.utf8_slice_codeunits(pc.list_element(fields, 1), 1), keys, row0)
    nodes = np.flatnonzero(kind == NODE)
    if len(nodes):
        xy = pc.split_pattern(pc.take(rest, nodes), " ")
        out["lon"][nodes] = _floats(pc.utf8_slice_codeunits(pc.list_element(xy, 0), 1))
        out["lat"][nodes] = _floats(pc.utf8_slice_codeunits(pc.list_element(xy, 1), 1))
    ways = np.flatnonzero(kind == WAY)
    out["counts"] = np.zeros(n, dtype=np.int64)
    out["closed"] = np.zeros(n, dtype=bool)
    out["coords"] = np.empty((0, 2))
    if len(ways):
        counts, coords, first, last = _way_nodes(pc.utf8_slice_codeunits(pc.take(rest, ways), 1))
        out["counts"][ways] = counts
        out["coords"] = coords
        out["closed"][ways] = (counts > 0) & (first == last)
    out["members"] = {
        row0 + int(r): [
            int(m[1 : m.index("@")]) for m in rest[int(r)].as_py()[1:].split(",") if m[:1] == "w"
        ]
        for r in np.flatnonzero(kind == RELATION)
    }
    return out


#: OPL node lists to CSV lines ``id,lon,lat``: ``n<id>x<lon>y<lat>`` with "," between
#: nodes and ";" between ways (``bytes.translate``: one pass, "n" deleted).
_TO_CSV = bytes.maketrans(b",;xy", b"\n\n,,")


def _way_nodes(refs: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Node counts, node locations (NaN where unknown), first and last node ids of ways.

    ``refs`` are OPL node lists ``n<id>x<lon>y<lat>,...`` (an unknown location has empty
    ``x`` and ``y``): joined, rewritten as CSV lines ``id,lon,lat`` and parsed into typed
    columns by pyarrow's CSV reader.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    m = len(refs)
    rows = np.flatnonzero(pc.not_equal(refs, "").to_numpy(zero_copy_only=False))
    counts = np.zeros(m, dtype=np.int64)
    first = np.zeros(m, dtype=np.int64)
    last = np.zeros(m, dtype=np.int64)
    if not len(rows):
        return counts, np.empty((0, 2)), first, last
    one = pa.LargeListArray.from_arrays(pa.array([0, len(rows)], pa.int64()), pc.take(refs, rows))
    text = pc.binary_join(one, ";")[0].as_buffer().to_pybytes()
    raw = np.frombuffer(text, dtype=np.uint8)
    ends = np.append(np.flatnonzero(raw == ord(";")), len(raw))  # where each way ends
    commas = np.flatnonzero(raw == ord(","))
    counts[rows] = np.diff(np.searchsorted(commas, ends), prepend=0) + 1
    table = pacsv.read_csv(
        pa.BufferReader(text.translate(_TO_CSV, b"n")),
        read_options=pacsv.ReadOptions(column_names=["id", "lon", "lat"]),
        convert_options=pacsv.ConvertOptions(
            column_types={"id": pa.int64(), "lon": pa.float64(), "lat": pa.float64()}
        ),
    )
    coords = np.column_stack(
        [table.column(c).to_numpy().astype(np.float64) for c in ("lon", "lat")]
    )
    ids = table.column("id").to_numpy()
    stop = np.cumsum(counts[rows])
    first[rows] = ids[stop - counts[rows]]
    last[rows] = ids[stop - 1]
    return counts, coords, first, last


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``starts[i], starts[i] + 1, ..., starts[i] + counts[i] - 1`` for each ``i``, joined."""
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return np.arange(int(counts.sum()), dtype=np.int64) + shift


def _floats(strings: pa.Array) -> np.ndarray:
    """Decimal strings as float64, NaN where empty."""
    import pyarrow as pa
    import pyarrow.compute as pc

    nulled = pc.if_else(pc.equal(strings, ""), pa.scalar(None, pa.string()), strings)
    return pc.cast(nulled, pa.float64()).to_numpy(zero_copy_only=False)


_ESCAPE = re.compile(r"%([0-9a-fA-F]+)%")


def _unescape(text: str) -> str:
    """An OPL string as written: ``%hex%`` stands for the code point ``hex``."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _tag_pairs(tags: pa.Array, keys: list[str], row0: int) -> tuple[np.ndarray, ...]:
    """``(rows, key index, values)`` of the tags of ``keys`` in OPL tag lists ``k=v,k=v``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pairs = pc.split_pattern(tags, ",")
    owner = pc.list_parent_indices(pairs).to_numpy()
    flat = pc.list_flatten(pairs)
    present = np.flatnonzero(pc.not_equal(flat, "").to_numpy(zero_copy_only=False))
    split = pc.split_pattern(pc.take(flat, present), "=", max_splits=1)
    key_of = pc.index_in(pc.list_element(split, 0), value_set=pa.array(keys))
    hit = np.flatnonzero(pc.is_valid(key_of).to_numpy(zero_copy_only=False))
    values = pc.list_element(pc.take(split, hit), 1)
    vals = values.to_numpy(zero_copy_only=False).astype(object)
    for i in np.flatnonzero(pc.match_substring(values, "%").to_numpy(zero_copy_only=False)):
        vals[i] = _unescape(vals[i])
    key_index = pc.take(key_of, hit).to_numpy().astype(np.int32)
    return owner[present[hit]] + row0, key_index, vals


def _join(parts: list[dict[str, Any]], keys: list[str], n: int) -> Table:
    def cat(name: str, empty: np.ndarray) -> np.ndarray:
        return np.concatenate([p[name] for p in parts]) if parts else empty

    counts = cat("counts", np.zeros(0, np.int64))
    members: dict[int, list[int]] = {}
    for p in parts:
        members.update(p["members"])
    rows, key, values = (
        (np.concatenate([p["tags"][i] for p in parts]) for i in range(3))
        if parts
        else (np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, object))
    )
    return Table(
        kind=cat("kind", np.zeros(0, np.uint8)),
        osm_id=cat("osm_id", np.zeros(0, np.int64)).astype(np.int64),
        tags=Tags(n, rows, key, values, keys),
        lon=cat("lon", np.zeros(0)),
        lat=cat("lat", np.zeros(0)),
        refs_off=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
        coords=cat("coords", np.empty((0, 2))),
        closed=cat("closed", np.zeros(0, bool)),
        members=members,
    )


def isin(column: np.ndarray, values: tuple[str, ...] | frozenset[str]) -> np.ndarray:
    return pd.Series(column, dtype=object).isin(list(values)).to_numpy()
