"""The city-scale pipeline on a small tiling: tile, build, reload from arrays, locate, serve.

``benchmarks/bench_city.py`` runs this pipeline on Liechtenstein tiled 6 x 5 and measures
it; here Hsinchu tiled 3 x 1 checks that it works (not how fast): the copies are joined into
one network, a cached build writes each part out and keeps no graph in memory, a reload
maps the stored arrays and builds nothing until asked, the arrays and the networkx graphs
read back equal those of the same build kept in memory (``cache_result=False``, which
never writes or drops anything), nearest answers across the seams of
the copies equal the independent raw-OSM reference (tests/reference.py, read from the tiled
file itself), and the web app serves the locator page and the API from the area by name.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import numpy as np
import pytest

from routing import build_area, load_area
from routing._pyrosm import READING_ROADS
from stations import Locator, Station
from tests.conftest import PROJECT_ROOT, shared_osm
from tests.reference import Reference
from tests.tiling import tile_osm

if TYPE_CHECKING:
    from routing import Area

WALK = 4.5 / 3.6
COLUMNS = 3


@pytest.fixture(scope="module")
def tiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hsinchu tiled 3 x 1 (a temp file, never committed)."""
    source = shared_osm("hsinchu_nctu.osm.pbf")
    out = tmp_path_factory.mktemp("tiles") / "hsinchu-3x1.osm.pbf"
    made = tile_osm(source, out, columns=COLUMNS, rows=1)
    assert made.copies == COLUMNS and made.connectors > 0
    return out


@pytest.fixture(scope="module")
def built(tiled: Path) -> Area:
    """The tiled area, built and registered as ``hsinchu-3x1``."""
    return build_area(tiled, name="hsinchu-3x1")


@pytest.fixture(scope="module")
def in_memory(tiled: Path) -> Area:
    """The same area built without the cache: every graph and array kept as made."""
    return build_area(tiled, cache_result=False)


@pytest.fixture(scope="module")
def reloaded(built: Area) -> Area:
    """The same area reloaded by name from its cache entry."""
    return load_area("hsinchu-3x1")


def test_copies_form_one_network(built: Area) -> None:
    """Connectors join the copies: the strongly connected graphs span every copy."""
    single = load_area(shared_osm("hsinchu_nctu.osm.pbf"))
    for network in ("walk", "drive"):
        one, many = single.arrays(network), built.arrays(network)
        assert many.n > 2.5 * one.n  # the largest component holds (almost) all three copies
        assert nx.is_strongly_connected(nx.DiGraph(list(zip(*many.time.nonzero(), strict=True))))
    width = single.bounds[2] - single.bounds[0]
    assert built.bounds[2] - built.bounds[0] > 2.5 * width
    stages = [s["stage"] for s in built.report["stages"]]
    assert stages[0] == READING_ROADS and stages[-1].startswith("writing the cache entry")
    assert all(s["cpu_s"] >= 0 and s["wall_s"] >= 0 for s in built.report["stages"])


def test_a_cached_build_keeps_no_graph(built: Area) -> None:
    """build_area returns the Area read back from its entry: each graph was written out and
    dropped during the build (its peak holds one network), so none is in memory after it."""
    assert built.graph_if_loaded("walk") is None and built.graph_if_loaded("drive") is None
    assert repr(built.pois).endswith("loaded=[])")
    stages = [s["stage"] for s in built.report["stages"]]
    assert stages.index("walk arrays: edge table, street index, written out") < stages.index(
        "drive graph: components, projection, travel times"
    )
    assert all(s["peak_mb"] is None or s["peak_mb"] > 0 for s in built.report["stages"])
    last = built.report["stages"][-1]
    if sys.platform.startswith("linux"):  # the feature reader child measured itself
        assert 0 < last["child_peak_mb"] < last["peak_mb"]


def test_reload_maps_arrays_and_builds_nothing(in_memory: Area, reloaded: Area) -> None:
    """A reload has the arrays and street index of the build kept in memory, and no graph or
    layer until asked."""
    assert reloaded.graph_if_loaded("walk") is None and reloaded.graph_if_loaded("drive") is None
    assert repr(reloaded.pois).endswith("loaded=[])")
    built = in_memory
    for network in ("walk", "drive"):
        a, b = built.arrays(network), reloaded.arrays(network)
        for name in ("nodes", "x", "y", "lon", "lat"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
        assert (a.time != b.time).nnz == 0 and (a.length != b.length).nnz == 0
        for name in ("u", "v", "key", "length", "time", "ptr", "xy", "cum", "twin", "csr_edge"):
            np.testing.assert_array_equal(getattr(a.edges, name), getattr(b.edges, name))
    x, y = built.arrays("walk").x[:50] + 7.0, built.arrays("walk").y[:50] - 5.0
    got, want = reloaded.locate(x, y, projected=True), built.locate(x, y, projected=True)
    np.testing.assert_array_equal(got.edge, want.edge)
    np.testing.assert_allclose(got.offset_m, want.offset_m)
    assert len(reloaded.pois["hosts"]) == len(built.pois["hosts"])
    for network in ("walk", "drive"):
        for kind in ("edge", "node"):
            assert reloaded.columns(network, kind) == built.columns(network, kind)
            for column in built.columns(network, kind):
                want = built._column(network, kind, column)
                got = reloaded._column(network, kind, column)
                assert repr(got.tolist()) == repr(want.tolist()), (network, column)


def test_networkx_view_equals_the_built_graph(in_memory: Area, reloaded: Area) -> None:
    """area.walk / area.drive made from the arrays: the nodes, edges and attributes of the
    graphs the build made (kept in memory)."""
    for network in ("walk", "drive"):
        G, H = in_memory.graph(network), reloaded.graph(network)
        assert list(G.nodes) == list(H.nodes)
        assert list(G.edges(keys=True)) == list(H.edges(keys=True))
        for (_, _, a), (_, _, b) in zip(G.edges(data=True), H.edges(data=True), strict=True):
            assert a["length"] == b["length"] and a["travel_time"] == b["travel_time"]
            assert set(a) - {"geometry"} == set(b) - {"geometry"}
            assert str(a.get("highway")) == str(b.get("highway"))
            if "geometry" in b:
                np.testing.assert_allclose(
                    np.asarray(b["geometry"].coords), np.asarray(a["geometry"].coords)
                )
        for n in list(G.nodes)[:200]:
            assert G.nodes[n] == H.nodes[n]
    column = reloaded.edge_column("walk", "highway")
    assert column.shape == (reloaded.arrays("walk").edges.m,)


def test_nearest_across_copies_matches_reference(tiled: Path, reloaded: Area) -> None:
    """Walks from one copy to stations in the next equal the raw-OSM reference."""
    ref = Reference.from_osm(tiled, network="walk", crs=reloaded.crs, speed_mps=WALK)
    rng = np.random.default_rng(5)
    xy = ref.near_streets(rng, 60, 20.0)
    lon, lat = reloaded.unproject(xy[:, 0], xy[:, 1])
    stations = [
        Station(id=f"c{i}", kind="warm_station", name=f"C{i}", lon=float(a), lat=float(b))
        for i, (a, b) in enumerate(zip(lon, lat, strict=True))
    ]
    locator = Locator(reloaded, stations, labels_per_node=4)
    origins = ref.near_streets(np.random.default_rng(6), 25, 20.0)
    expected = ref.walk_times(origins, xy, max_distance=500.0)
    olon, olat = reloaded.unproject(origins[:, 0], origins[:, 1])
    batch = locator.nearest_batch(olon, olat, k=3)
    for i in range(len(origins)):
        want = np.sort(expected[i])[:3]
        want = want[np.isfinite(want)]
        got = batch.time_s[i][np.isfinite(batch.time_s[i])]
        np.testing.assert_allclose(got, want, rtol=1e-3, atol=0.05)


SERVE = r"""
import json, sys
from webmap import create_app
from tests.webmap._contract import check_response
app = create_app({"TESTING": True, "WARMHEART_AREA": "hsinchu-3x1",
                  "WARMHEART_STORE": sys.argv[1], "WARMHEART_TILES": "none"})
client = app.test_client()
page = client.get("/")
url = f"/api/nearest?lon={sys.argv[2]}&lat={sys.argv[3]}&k=2"
near = client.get(url)
check_response(app, "GET", "/api/nearest", near)  # the documented schema
print(json.dumps({"page": page.status_code, "page_bytes": len(page.data),
                  "nearest": near.status_code, "body": near.get_json()}))
"""


def test_locator_page_and_api_serve_the_tiled_area(
    built: Area, tmp_path: Path, warmheart_home: Path
) -> None:
    """A fresh process serves / and /api/nearest from the area by name."""
    from stations.sample import write_sample_stations

    store = tmp_path / "stations.gpkg"
    assert write_sample_stations(built, store) > 0
    lon = (built.bounds[0] + built.bounds[2]) / 2
    lat = (built.bounds[1] + built.bounds[3]) / 2
    out = subprocess.run(
        [sys.executable, "-c", SERVE, str(store), f"{lon:.6f}", f"{lat:.6f}"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["page"] == 200 and answer["page_bytes"] > 1000
    assert answer["nearest"] == 200, answer["body"]
    assert len(answer["body"]["results"]) == 2
