"""The store contract (GeoPackage, in-memory and PostGIS) and GeoPackage durability.

The contract tests take the ``store`` fixture, so each runs unchanged against all three
stores; the PostGIS one is a fresh schema in a throwaway cluster (``pg_url``, skipped with
a message when PostgreSQL + PostGIS are not installed, a failure under ``CI=true``).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import warnings
from datetime import datetime
from pathlib import Path

import pyogrio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stations import (
    DuplicateStationError,
    GeoPackageStore,
    MemoryStore,
    PostGISStore,
    Station,
    StationNotFoundError,
    StationStore,
    StationValueError,
)
from stations.store import default_store_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def station(i: int, **changes: object) -> Station:
    base: dict[str, object] = {
        "id": f"s{i:03d}",
        "kind": ("warm_station", "nursing_room", "shuttle_stop")[i % 3],
        "name": f"驿站 {i}",
        "names": {"en": f"Station {i}"},
        "lon": 116.40 + i * 0.001,
        "lat": 39.90 + i * 0.001,
        "amenities": ["microwave", "toilet"] if i % 2 else ["drinking_water"],
        "opening_hours": "Mo-Su 22:00-02:00" if i % 4 == 0 else "Mo-Fr 09:00-17:00",
        "updated_at": "2024-01-01T00:00:00Z",
    }
    base.update(changes)
    return Station(**base)  # type: ignore[arg-type]


def open_kind(kind: str, request: pytest.FixtureRequest, folder: Path) -> StationStore:
    """A new, empty store of ``kind`` (``memory``, ``gpkg`` or ``postgis``), closed after."""
    if kind == "memory":
        return MemoryStore()
    if kind == "postgis":
        s: StationStore = PostGISStore(request.getfixturevalue("pg_url"))
    else:
        s = GeoPackageStore(folder / "stations.gpkg")
    request.addfinalizer(s.close)
    return s


@pytest.fixture(params=["gpkg", "memory", "postgis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> StationStore:
    return open_kind(request.param, request, tmp_path)


def test_add_get_update_delete(store: StationStore) -> None:
    """Stations can be added, read back equal, updated and deleted."""
    items = [station(i) for i in range(6)]
    assert store.add(items) == 6
    assert len(store) == 6 and store.get("s003") == items[3]
    assert [s.id for s in store.all()] == [s.id for s in items]
    store.update(items[3].replace(name="新名字"))
    assert store.get("s003").name == "新名字"
    store.delete("s003")
    assert "s003" not in store and len(store) == 5


def test_missing_ids_raise(store: StationStore) -> None:
    """get/update/delete of an unknown id raise StationNotFoundError (a KeyError)."""
    with pytest.raises(StationNotFoundError, match="'nope'"):
        store.get("nope")
    with pytest.raises(KeyError):
        store.update(station(1, id="nope"))
    with pytest.raises(StationNotFoundError):
        store.delete("nope")
    assert store.revision == 0


def test_duplicate_ids_leave_store_untouched(store: StationStore) -> None:
    """A batch with a taken or repeated id raises, lists the ids, and writes nothing."""
    store.add([station(1), station(2)])
    revision = store.revision
    with pytest.raises(DuplicateStationError, match="'s002' already in the store") as info:
        store.add([station(3), station(2)])
    assert info.value.ids == ["s002"]
    with pytest.raises(DuplicateStationError, match="'s005' more than once"):
        store.add([station(5), station(5)])
    assert len(store) == 2 and "s003" not in store and store.revision == revision


def test_query_filters(store: StationStore) -> None:
    """query honours bbox, kinds, amenities (all of), open_at, limit and offset."""
    store.add([station(i) for i in range(12)])
    box = (116.4025, 39.9025, 116.4065, 39.9065)
    assert [s.id for s in store.query(bbox=box)] == ["s003", "s004", "s005", "s006"]
    assert {s.kind for s in store.query(kinds="nursing_room")} == {"nursing_room"}
    assert len(store.query(kinds=["warm_station", "shuttle_stop"])) == 8
    both = store.query(amenities=["microwave", "toilet"])
    assert [s.id for s in both] == [f"s{i:03d}" for i in range(1, 12, 2)]
    night = store.query(open_at=datetime(2024, 3, 5, 1, 0))  # Tuesday 01:00
    assert [s.id for s in night] == ["s000", "s004", "s008"]
    assert [s.id for s in store.query(limit=3, offset=2)] == ["s002", "s003", "s004"]
    assert [s.id for s in store.query(bbox=box, limit=2, offset=1)] == ["s004", "s005"]
    assert store.query(kinds="shuttle_stop", amenities="drinking_water", bbox=box) == []


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"kinds": ["cafe"]}, "warm_station, nursing_room, shuttle_stop; got 'cafe'"),
        ({"amenities": "wifi"}, "from microwave, .*; got 'wifi'"),
        ({"bbox": (1, 2, 3)}, "four finite numbers"),
        ({"bbox": (10, 0, 5, 1)}, "min_lon <= max_lon"),
        ({"limit": -1}, "limit as a whole number"),
    ],
)
def test_query_rejects_bad_filters(store: StationStore, kwargs: dict, pattern: str) -> None:
    """Bad query filters raise StationValueError listing valid values."""
    with pytest.raises(StationValueError, match=pattern):
        store.query(**kwargs)


def test_revision_changes_only_on_commit(store: StationStore) -> None:
    """revision changes after each committed write, once per transaction, not on rollback."""
    r0 = store.revision
    store.add(station(1))
    r1 = store.revision
    assert r1 != r0
    with store.transaction():
        store.add(station(2))
        store.update(station(2, name="x"))
        store.delete("s001")
    r2 = store.revision
    assert r2 != r1
    with pytest.raises(RuntimeError), store.transaction():
        store.add(station(3))
        raise RuntimeError("boom")
    assert store.revision == r2 and "s003" not in store and "s002" in store


def test_transaction_error_halfway_rolls_back(store: StationStore) -> None:
    """A failure after several writes inside a transaction undoes all of them."""
    store.add([station(1), station(2)])
    with pytest.raises(DuplicateStationError), store.transaction():
        store.delete("s001")
        store.update(station(2, name="changed"))
        store.add(station(2))  # fails: id taken
    assert store.get("s001") == station(1) and store.get("s002") == station(2)


def test_closest_ranks_by_great_circle_distance(store: StationStore) -> None:
    """closest() gives the k nearest in a straight line, as a brute-force haversine says,
    across cities, with a kind filter; bad arguments are refused."""
    import numpy as np

    from stations._storebase import great_circle_m

    rng = np.random.default_rng(7)
    cities = [(116.40, 39.90), (121.47, 31.23), (114.06, 22.54), (126.63, 45.75)]
    items = [
        station(i, lon=cx + rng.normal(0, 0.05), lat=cy + rng.normal(0, 0.05))
        for i, (cx, cy) in enumerate(cities[j % 4] for j in range(160))
    ]
    store.add(items)
    for lon, lat, kinds in [
        (116.41, 39.91, None),
        (121.5, 31.2, "nursing_room"),
        (126.0, 45.0, ["warm_station", "shuttle_stop"]),
        (118.0, 35.0, None),  # between cities: the window has to grow far
    ]:
        wanted = {kinds} if isinstance(kinds, str) else set(kinds or ())
        brute = sorted(
            (great_circle_m(lon, lat, s.lon, s.lat), s.id)
            for s in items
            if not wanted or s.kind in wanted
        )[:7]
        got = store.closest(lon, lat, k=7, kinds=kinds)
        assert [s.id for s, _ in got] == [sid for _, sid in brute]
        assert [d for _, d in got] == pytest.approx([d for d, _ in brute], rel=1e-6)
    assert len(store.closest(116.4, 39.9, k=1000)) == 160
    twins = [station(900 + i, lon=118.0 + (i % 2) * 0.01, lat=35.0) for i in range(6)]
    store.add(twins)  # three stations on each of two points: ties go by id
    assert [s.id for s, _ in store.closest(118.0, 35.0, k=2)] == ["s900", "s902"]
    assert [s.id for s, _ in store.closest(118.0, 35.0, k=4)] == ["s900", "s902", "s904", "s901"]
    with pytest.raises(ValueError, match="latitude"):
        store.closest(116.4, 123.4)
    with pytest.raises(ValueError, match="swapped"):
        store.closest(39.9, 116.4)
    with pytest.raises(StationValueError, match="k in"):
        store.closest(116.4, 39.9, k=0)
    with pytest.raises(StationValueError, match="got 'cafe'"):
        store.closest(116.4, 39.9, kinds="cafe")


def test_upsert(store: StationStore) -> None:
    """upsert adds new and updates existing stations in one go."""
    store.add(station(1))
    assert store.upsert([station(1, name="updated"), station(2)]) == (1, 1)
    assert store.get("s001").name == "updated" and len(store) == 2


def test_gpkg_is_a_geopackage_read_by_pyogrio(tmp_path: Path) -> None:
    """GDAL (pyogrio/geopandas) reads the file as one EPSG:4326 point layer with our fields."""
    path = tmp_path / "s.gpkg"
    with GeoPackageStore(path) as store:
        store.add([station(i) for i in range(5)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # GDAL complaints (bad header, extent, ...) fail
        assert [list(x) for x in pyogrio.list_layers(path)] == [["stations", "Point"]]
        df = pyogrio.read_dataframe(path, layer="stations")
        info = pyogrio.read_info(path, layer="stations")
    assert df.crs.to_epsg() == 4326 and len(df) == 5
    row = df.set_index("id").loc["s001"]
    assert row.geometry.x == pytest.approx(116.401) and row["name"] == "驿站 1"
    assert json.loads(row["amenities"]) == ["microwave", "toilet"]
    assert info["geometry_type"] == "Point" and info["features"] == 5
    assert info["total_bounds"] == pytest.approx((116.4, 39.9, 116.404, 39.904))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x47504B47
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 10200
        assert conn.execute("SELECT count(*) FROM rtree_stations_geom").fetchone()[0] == 5


def test_gdal_written_rows_are_read(tmp_path: Path) -> None:
    """Rows appended by GDAL keep the spatial index in step (standard triggers)."""
    path = tmp_path / "s.gpkg"
    with GeoPackageStore(path) as store:
        store.add(station(1))
    df = pyogrio.read_dataframe(path, layer="stations")
    df["id"] = "gdal-1"
    pyogrio.write_dataframe(df, path, layer="stations", append=True)
    with GeoPackageStore(path) as store:
        assert {s.id for s in store.query(bbox=(116.4, 39.9, 116.402, 39.902))} == {
            "s001",
            "gdal-1",
        }


def test_store_reopens_with_same_content_and_revision(tmp_path: Path) -> None:
    """A second store on the same file sees the same stations and revision."""
    path = tmp_path / "s.gpkg"
    a = GeoPackageStore(path)
    a.add([station(1), station(2)])
    b = GeoPackageStore(path)
    assert b.all() == a.all() and b.revision == a.revision
    b.delete("s001")
    assert a.revision == b.revision and "s001" not in a
    a.close()
    b.close()


def test_not_a_geopackage_is_refused(tmp_path: Path) -> None:
    """Opening some other SQLite database or a text file as a store fails clearly."""
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StationValueError, match="Expected a GeoPackage"):
        GeoPackageStore(other)
    text = tmp_path / "notes.gpkg"
    text.write_text("hello, not sqlite at all " * 20)
    with pytest.raises(StationValueError, match="Expected a GeoPackage"):
        GeoPackageStore(text)


CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from stations import GeoPackageStore, Station
    store = GeoPackageStore(sys.argv[1])
    conn = store._connect()
    with store.transaction():
        store.delete("s001")
        store.add(Station(id="new", kind="warm_station", name="n", lon=116.5, lat=39.95))
        conn.execute("UPDATE stations SET name = 'half-written'")
        print("mid-write", flush=True)
        if sys.argv[2] == "exit":
            os._exit(9)  # dies between statements, before COMMIT
        time.sleep(60)  # the parent kills us here with SIGKILL
    """
)


@pytest.mark.parametrize("how", ["exit", "sigkill"])
def test_store_survives_crash_mid_write(tmp_path: Path, how: str) -> None:
    """A process that dies or is killed (SIGKILL) mid-transaction leaves the last commit."""
    path = tmp_path / "s.gpkg"
    with GeoPackageStore(path) as store:
        store.add([station(i) for i in range(1, 4)])
        before, revision = store.all(), store.revision
    child = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, str(path), how],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert "mid-write" in line, child.stderr.read() if child.stderr else ""
    if how == "sigkill":
        # Meanwhile a reader sees only the committed state.
        with GeoPackageStore(path) as reader:
            assert reader.all() == before
        child.kill()
    child.wait(timeout=120)
    assert child.returncode in (9, -signal.SIGKILL)
    with GeoPackageStore(path) as store:
        assert store.all() == before and store.revision == revision
        store.add(station(9))  # and it is writable again
    assert len(pyogrio.read_dataframe(path, layer="stations")) == 4


def test_concurrent_reader_sees_whole_batches(tmp_path: Path) -> None:
    """A reader thread polling during 30 ten-station transactions only sees whole batches."""
    path = tmp_path / "s.gpkg"
    writer = GeoPackageStore(path)
    reader = GeoPackageStore(path)
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            seen.append(len(reader.all()))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        for batch in range(30):
            with writer.transaction():
                for j in range(10):
                    writer.add(station(batch * 10 + j))
    finally:
        done.set()
        thread.join()
    assert seen and all(n % 10 == 0 for n in seen)
    assert len(reader) == 300
    writer.close()
    reader.close()


def test_reader_never_sees_half_an_update(tmp_path: Path) -> None:
    """While a transaction is open, another connection sees only the committed state."""
    path = tmp_path / "s.gpkg"
    writer = GeoPackageStore(path)
    writer.add([station(1), station(2)])
    reader = GeoPackageStore(path)
    with writer.transaction():
        writer.delete("s001")
        writer.add(station(3))
        assert {s.id for s in reader.all()} == {"s001", "s002"}
    assert {s.id for s in reader.all()} == {"s002", "s003"}
    writer.close()
    reader.close()


def test_default_store_path_follows_warmheart_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """An area's store defaults to $WARMHEART_HOME/stations/<area>.gpkg; bad names fail."""
    monkeypatch.setenv("WARMHEART_HOME", "/tmp/wh-test-home")
    assert default_store_path("beijing") == Path("/tmp/wh-test-home/stations/beijing.gpkg")
    with pytest.raises(StationValueError, match="without path separators"):
        default_store_path("../etc")


def test_nested_transaction_rolls_back_only_itself(store: StationStore) -> None:
    """A failed inner transaction undoes its own writes; the outer one still commits."""
    r0 = store.revision
    with store.transaction():
        store.add(station(1))
        with pytest.raises(RuntimeError), store.transaction():
            store.add(station(2))
            raise RuntimeError("inner")
        store.add(station(3))
    assert [s.id for s in store.all()] == ["s001", "s003"] and store.revision != r0


# --- property tests: the GeoPackage store behaves exactly like the in-memory model ----------

KIND_ST = st.sampled_from(["warm_station", "nursing_room", "shuttle_stop"])
AMENITY_ST = st.frozensets(st.sampled_from(["microwave", "toilet", "drinking_water", "fridge"]))
STATION_ST = st.builds(
    lambda i, kind, amenities, x, y, night: Station(
        id=f"p{i}",
        kind=kind,
        name=f"站 {i}",
        lon=116.0 + x,
        lat=39.0 + y,
        amenities=amenities,
        opening_hours="Mo-Su 22:00-02:00" if night else "Mo-Fr 09:00-17:00",
    ),
    st.integers(0, 15),
    KIND_ST,
    AMENITY_ST,
    st.floats(0, 0.01),
    st.floats(0, 0.01),
    st.booleans(),
)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.lists(STATION_ST, min_size=1, max_size=4)),
        st.tuples(st.just("update"), STATION_ST),
        st.tuples(st.just("delete"), st.integers(0, 15)),
        st.tuples(st.just("failed_tx"), st.lists(STATION_ST, min_size=1, max_size=3)),
    ),
    max_size=12,
)
QUERY_ST = st.fixed_dictionaries(
    {},
    optional={
        "bbox": st.tuples(st.floats(0, 0.006), st.floats(0, 0.006)).map(
            lambda c: (116.0 + c[0], 39.0 + c[1], 116.0 + c[0] + 0.004, 39.0 + c[1] + 0.004)
        ),
        "kinds": st.lists(KIND_ST, min_size=1, max_size=2),
        "amenities": st.lists(st.sampled_from(["microwave", "toilet", "fridge"]), max_size=2),
        "open_at": st.sampled_from([datetime(2024, 3, 5, 1, 0), datetime(2024, 3, 5, 10, 0)]),
        "limit": st.integers(0, 6),
        "offset": st.integers(0, 4),
    },
)


def _apply(store: StationStore, op: tuple) -> str:
    name, arg = op
    try:
        if name == "add":
            store.add(arg)
        elif name == "update":
            store.update(arg)
        elif name == "delete":
            store.delete(f"p{arg}")
        else:
            with store.transaction():
                for s in arg:
                    if s.id in store:
                        store.update(s)
                    else:
                        store.add(s)
                raise RuntimeError("abort")
    except (DuplicateStationError, StationNotFoundError, RuntimeError) as exc:
        return type(exc).__name__
    return "ok"


@pytest.mark.parametrize("kind", ["gpkg", "postgis"])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS, queries=st.lists(QUERY_ST, min_size=1, max_size=4))
def test_store_matches_memory_model(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str, ops: list, queries: list[dict]
) -> None:
    """Random writes (including failing ones) and queries give the same results as in memory."""
    memory = MemoryStore()
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        if kind == "postgis":
            gpkg: StationStore = PostGISStore(
                request.getfixturevalue("pg_cluster").url + f"?schema=p_{os.urandom(6).hex()}"
            )
        else:
            gpkg = GeoPackageStore(Path(folder) / "p.gpkg")
        try:
            for op in ops:
                before = (memory.revision, gpkg.revision)
                outcome = _apply(memory, op)
                assert _apply(gpkg, op) == outcome
                changed = (memory.revision != before[0], gpkg.revision != before[1])
                assert changed[0] == changed[1] == (outcome == "ok")
            assert gpkg.all() == memory.all() and len(gpkg) == len(memory)
            for query in queries:
                assert gpkg.query(**query) == memory.query(**query)
        finally:
            gpkg.close()


def test_geometry_blob_variants_decode() -> None:
    """The point decoder reads envelopes, big-endian WKB and empty points; rejects junk."""
    import math
    import struct

    from stations._gpkg import decode_point, encode_point

    assert decode_point(encode_point(116.5, 39.9)) == (116.5, 39.9)
    with_envelope = struct.pack("<2sBBi4d", b"GP", 0, 0b011, 4326, 1, 1, 2, 2)
    big_endian_wkb = struct.pack(">BIdd", 0, 1, 116.5, 39.9)
    assert decode_point(with_envelope + big_endian_wkb) == (116.5, 39.9)
    empty = struct.pack("<2sBBi", b"GP", 0, 0b10001, 4326) + struct.pack("<BIdd", 1, 1, 0, 0)
    assert all(math.isnan(v) for v in decode_point(empty))
    with pytest.raises(ValueError, match="starting with b'GP'"):
        decode_point(b"\x01\x01\x00\x00\x00" + bytes(16))
    line = struct.pack("<2sBBi", b"GP", 0, 1, 4326) + struct.pack("<BI", 1, 2) + bytes(20)
    with pytest.raises(ValueError, match="WKB Point"):
        decode_point(line)
