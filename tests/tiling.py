"""A city-sized OSM input made reproducibly from a small extract: copies tiled side by side.

``tile_osm(source, out, columns=6, rows=5)`` reads an OSM file with pyosmium (``osmium``)
and writes a PBF holding ``columns x rows`` copies of it laid out on a grid, each copy
shifted by the extract's own width and height (plus a small gap) and every id offset per
copy (nodes, ways, relations and their references alike), so no two copies share an
element. Neighbouring copies are joined by two-way connector roads
(``highway=secondary``) between road nodes facing each other across the gap, one per band
along the shared side, so the tiled graph is one connected city rather than islands.

Liechtenstein tiled 6 x 5 has about the walk network of Beijing's urban districts; the
benchmark ``benchmarks/bench_city.py`` builds from it and the CI test
``tests/routing/test_city_scale.py`` from a 2 x 1 tiling of a small extract. The output
is written to a temp or cache folder and never committed (it is derived from OSM data:
© OpenStreetMap contributors, ODbL).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Tiling", "tile_osm"]

#: Road classes a connector may start or end on (the drive and walk graphs both keep them).
_ROADS = {"primary", "secondary", "tertiary", "unclassified", "residential"}


@dataclass(frozen=True)
class Tiling:
    """What :func:`tile_osm` wrote.

    Attributes
    ----------
    path
        The PBF file.
    copies
        ``columns * rows``.
    nodes, ways, relations
        Element counts in the output (connector ways included).
    connectors
        Connector roads added between neighbouring copies.
    """

    path: Path
    copies: int
    nodes: int
    ways: int
    relations: int
    connectors: int


def _read(source: Path) -> tuple[dict[str, list[object]], dict[int, tuple[float, float]]]:
    import osmium

    items: dict[str, list[object]] = {"n": [], "w": [], "r": []}
    road_nodes: set[int] = set()
    for obj in osmium.FileProcessor(str(source)):
        kind = obj.type_str()
        if kind == "n":
            loc = obj.location
            if not loc.valid():
                continue
            items["n"].append((obj.id, loc.lon, loc.lat, dict(obj.tags)))
        elif kind == "w":
            tags = dict(obj.tags)
            refs = [r.ref for r in obj.nodes]
            items["w"].append((obj.id, refs, tags))
            if tags.get("highway") in _ROADS:
                road_nodes.update(refs)
        else:
            members = [(m.type, m.ref, m.role) for m in obj.members]
            items["r"].append((obj.id, members, dict(obj.tags)))
    roads = {
        int(nid): (float(lon), float(lat))
        for nid, lon, lat, _tags in items["n"]  # type: ignore[misc]
        if nid in road_nodes
    }
    return items, roads


def _facing(
    roads: dict[int, tuple[float, float]], *, axis: int, high: bool, bands: int
) -> list[tuple[int, int]]:
    """Per band across ``axis``, the road node farthest toward that side: ``(band, id)``."""
    ids = np.fromiter(roads.keys(), dtype=np.int64, count=len(roads))
    xy = np.array(list(roads.values()), dtype=float).reshape(-1, 2)
    across = xy[:, 1 - axis]
    lo, hi = float(across.min()), float(across.max())
    band = np.minimum(((across - lo) / max(hi - lo, 1e-12) * bands).astype(int), bands - 1)
    out = []
    for b in range(bands):
        inside = np.flatnonzero(band == b)
        if inside.size:
            along = xy[inside, axis]
            pick = inside[int(np.argmax(along) if high else np.argmin(along))]
            out.append((b, int(ids[pick])))
    return out


def tile_osm(
    source: str | Path,
    out: str | Path,
    *,
    columns: int,
    rows: int,
    connectors: int = 6,
    gap: float = 0.002,
    offset: int = 0,
) -> Tiling:
    """Write ``columns x rows`` shifted copies of ``source`` as one PBF, joined by roads.

    Parameters
    ----------
    source
        An OSM file pyosmium reads (``.osm.pbf``, ``.osm``, ``.osm.bz2``).
    out
        The PBF to write (replaced atomically).
    columns, rows
        The grid of copies; copy ``(i, j)`` is shifted ``i`` widths east and ``j`` heights
        north of the original (which is copy ``(0, 0)``, ids unchanged).
    connectors
        Connector roads per pair of neighbouring copies (one per band along their side).
    gap
        Degrees between neighbouring copies (a connector crosses it).
    offset
        Start the grid this many columns east (ids shifted alike): ``offset=r`` with a
        1 x 1 grid makes replica ``r`` of an extract, a distinct area of the same shape.
    """
    import osmium

    if columns < 1 or rows < 1:
        msg = f"Expected at least one column and one row of copies, got {columns} x {rows}"
        raise ValueError(msg)
    source, out = Path(source), Path(out)
    items, roads = _read(source)
    if not roads:
        msg = f"Expected roads ({', '.join(sorted(_ROADS))}) in {source}, got none"
        raise ValueError(msg)
    lon = np.array([n[1] for n in items["n"]])  # type: ignore[index]
    lat = np.array([n[2] for n in items["n"]])  # type: ignore[index]
    dx = float(lon.max() - lon.min()) + gap
    dy = float(lat.max() - lat.min()) + gap
    top = max(
        max((n[0] for n in items["n"]), default=0),  # type: ignore[index]
        max((w[0] for w in items["w"]), default=0),  # type: ignore[index]
        max((r[0] for r in items["r"]), default=0),  # type: ignore[index]
    )
    stride = 10 ** len(str(int(top)))
    copies = [(i, j) for j in range(rows) for i in range(columns)]
    east = _facing(roads, axis=0, high=True, bands=connectors)
    west = dict(_facing(roads, axis=0, high=False, bands=connectors))
    north = _facing(roads, axis=1, high=True, bands=connectors)
    south = dict(_facing(roads, axis=1, high=False, bands=connectors))
    links: list[tuple[int, int]] = []
    copies = [(i + offset, j) for i, j in copies]
    base = offset  # copy c has ids shifted by (c + offset) strides
    for c, (i, j) in enumerate(copies):
        if i - offset + 1 < columns:
            links += [
                (a + (c + base) * stride, west[b] + (c + 1 + base) * stride)
                for b, a in east
                if b in west
            ]
        if j + 1 < rows:
            up = c + columns + base
            links += [
                (a + (c + base) * stride, south[b] + up * stride) for b, a in north if b in south
            ]
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp.osm.pbf")
    tmp.unlink(missing_ok=True)
    writer = osmium.SimpleWriter(str(tmp))
    counts = {"n": 0, "w": 0, "r": 0}
    try:
        for c, (i, j) in enumerate(copies):
            shift, sx, sy = (c + base) * stride, i * dx, j * dy
            for nid, x, y, tags in items["n"]:  # type: ignore[misc]
                writer.add_node(
                    osmium.osm.mutable.Node(id=nid + shift, location=(x + sx, y + sy), tags=tags)
                )
            counts["n"] += len(items["n"])
        for c in range(len(copies)):
            shift = (c + base) * stride
            for wid, refs, tags in items["w"]:  # type: ignore[misc]
                writer.add_way(
                    osmium.osm.mutable.Way(
                        id=wid + shift, nodes=[r + shift for r in refs], tags=tags
                    )
                )
            counts["w"] += len(items["w"])
        first_link = (len(copies) + base) * stride
        for k, (a, b) in enumerate(links):
            writer.add_way(
                osmium.osm.mutable.Way(
                    id=first_link + k,
                    nodes=[a, b],
                    tags={"highway": "secondary", "name": f"connector {k}"},
                )
            )
        counts["w"] += len(links)
        for c in range(len(copies)):
            shift = (c + base) * stride
            for rid, members, tags in items["r"]:  # type: ignore[misc]
                writer.add_relation(
                    osmium.osm.mutable.Relation(
                        id=rid + shift,
                        members=[(t, ref + shift, role) for t, ref, role in members],
                        tags=tags,
                    )
                )
            counts["r"] += len(items["r"])
    finally:
        writer.close()
    os.replace(tmp, out)
    return Tiling(out, len(copies), counts["n"], counts["w"], counts["r"], len(links))
