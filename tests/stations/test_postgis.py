"""The PostGIS store beyond the shared contract: faults, the change feed, credentials, copy.

Everything runs against a real throwaway PostgreSQL + PostGIS cluster (``tests/pgcluster.py``);
the fault tests get a cluster of their own, since they kill and restart it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from stations import (
    DuplicateStationError,
    GeoPackageStore,
    PostGISStore,
    Station,
    StoreUnavailableError,
)
from stations.store import open_store
from webmap.cli import main

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.pgcluster import Cluster

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def station(i: int, **changes: object) -> Station:
    values: dict[str, object] = {
        "id": f"g{i:05d}",
        "kind": ("warm_station", "nursing_room", "shuttle_stop")[i % 3],
        "name": f"驿站 {i}",
        "names": {"en": f"Station {i}", "zh": f"驿站 {i}"},
        "lon": 116.3 + (i % 100) * 1e-3,
        "lat": 39.9 + (i // 100) * 1e-3,
        "amenities": ["microwave", "toilet"] if i % 2 else ["drinking_water"],
        "opening_hours": "Mo-Fr 09:00-17:00",
        "updated_at": "2024-05-01T08:30:00.123456Z",
    }
    values.update(changes)
    return Station(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[Cluster]:
    """A cluster these fault tests may kill and restart without disturbing other tests."""
    from tests.pgcluster import cluster_or_skip

    cluster = cluster_or_skip()
    yield cluster
    cluster.remove()


def _schema_url(cluster: Cluster, name: str) -> str:
    return f"{cluster.url}?schema={name}_{os.urandom(4).hex()}"


def test_url_selects_postgis_and_keeps_the_geometry_exact(pg_url: str) -> None:
    """open_store(path=URL) is a PostGISStore; lon/lat, names and microseconds round-trip."""
    with open_store(path=pg_url) as store:
        assert isinstance(store, PostGISStore)
        s = station(1, lon=116.123456789012, lat=39.987654321098)
        store.add(s)
        back = store.get(s.id)
        assert back == s and back.lon == s.lon and back.updated_at == s.updated_at
        assert dict(back.names) == {"en": "Station 1", "zh": "驿站 1"}


def test_geometry_column_is_srid_4326_with_a_gist_index(pg_cluster: Cluster, pg_url: str) -> None:
    """The table is a PostGIS point layer in EPSG:4326 with a GiST index (usable by QGIS)."""
    import psycopg

    with PostGISStore(pg_url) as store:
        store.add([station(i) for i in range(3)])
        schema = store.schema
    with psycopg.connect(pg_cluster.url) as conn:
        srid, gtype = conn.execute(
            "SELECT srid, type FROM geometry_columns WHERE f_table_schema = %s "
            "AND f_table_name = 'stations'",
            (schema,),
        ).fetchone()
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = "
            "'stations_geom_gist'",
            (schema,),
        ).fetchone()
        wkt = conn.execute(
            f"SELECT ST_AsText(geom) FROM {schema}.stations WHERE id = 'g00001'"
        ).fetchone()
    assert (srid, gtype) == (4326, "POINT")
    assert index is not None and "gist" in index[0].lower()
    assert wkt == ("POINT(116.301 39.9)",)


def test_bulk_add_uses_copy_and_stays_all_or_nothing(pg_url: str) -> None:
    """A large add goes through COPY; a taken id among thousands writes nothing."""
    with PostGISStore(pg_url) as store:
        store.add([station(i) for i in range(3000)])
        assert len(store) == 3000 and store.get("g02999") == station(2999)
        revision = store.revision
        with pytest.raises(DuplicateStationError, match="'g00007' already in the store"):
            store.add([station(i) for i in range(3000, 6000)] + [station(7)])
        assert len(store) == 3000 and store.revision == revision
        assert store.changes_since(revision - 1) is None  # 3,000 ids: logged as "re-read"


def test_two_stores_on_one_database_see_each_others_writes(pg_url: str) -> None:
    """Two processes' stores share revision and content; the feed tells the other at once."""
    a, b = PostGISStore(pg_url), PostGISStore(pg_url)
    seen: list[int] = []
    arrived = threading.Event()

    def note(revision: int) -> None:
        seen.append(revision)
        arrived.set()

    try:
        b.subscribe(note)
        deadline = time.monotonic() + 10
        while not b.following and time.monotonic() < deadline:
            time.sleep(0.01)
        assert b.following
        arrived.clear()
        started = time.perf_counter()
        a.add(station(1))
        assert arrived.wait(5), "no notification within 5 s"
        latency = time.perf_counter() - started
        assert b.revision == a.revision and b.get("g00001") == station(1)
        assert latency < 1.0
        now, changed, removed = b.changes_since(0)  # type: ignore[misc]
        assert (now, [s.id for s in changed], removed) == (a.revision, ["g00001"], [])
    finally:
        a.close()
        b.close()


def test_dropped_connection_mid_transaction_rolls_back_and_reconnects(
    pg_cluster: Cluster, pg_url: str
) -> None:
    """A connection killed by the server inside a transaction: nothing of it is stored, the
    caller gets StoreUnavailableError, and the same store object works again afterwards."""
    import psycopg

    with PostGISStore(pg_url) as store:
        store.add([station(1), station(2)])
        before, revision = store.all(), store.revision
        with pytest.raises(StoreUnavailableError, match="to answer"), store.transaction():
            store.delete("g00001")
            store.add(station(3))
            pid = store._local.conn.info.backend_pid
            with psycopg.connect(pg_cluster.admin_url()) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            store.update(station(2, name="half-written"))
        assert store.all() == before and store.revision == revision
        store.add(station(4))  # a fresh connection, by itself
        assert len(store) == 3


def test_password_never_appears_in_errors_repr_or_cli_output(pg_cluster: Cluster) -> None:
    """A password in the URL is replaced by *** in repr, location, errors, --help and JSON."""
    secret = pg_cluster.password
    good = f"{pg_cluster.url}?schema=creds_{os.urandom(3).hex()}"
    wrong_secret = "Wr0ng-" + os.urandom(6).hex()
    wrong = good.replace(secret, wrong_secret)
    with PostGISStore(good) as store:
        assert secret not in repr(store) and secret not in store.location
        assert "***" in store.location
    with pytest.raises(StoreUnavailableError) as info:
        PostGISStore(wrong)
    assert wrong_secret not in str(info.value) and "***" in str(info.value)
    runner = CliRunner()
    outputs = []
    for args in (
        ["stations", "info", "--area", "x", "--store", good, "--json"],
        ["stations", "info", "--area", "x", "--store", wrong],
        ["stations", "copy", "--help"],
        ["serve", "--help"],
    ):
        result = runner.invoke(main, args, env={"WARMHEART_STORE": good})
        outputs.append(result.output + (str(result.exception) if result.exception else ""))
    from webmap.config import load_config

    with pytest.raises(ValueError, match="schema") as bad_config:
        load_config({"WARMHEART_STORE": good.replace("?schema=", "?schema=Bad-")})
    outputs.append(str(bad_config.value))
    assert json.loads(outputs[0].splitlines()[-1])["path"].endswith(good.split("@")[1])
    assert "Expected the station database" in outputs[1]
    for text in outputs:
        assert secret not in text and wrong_secret not in text


def test_copy_between_geopackage_and_postgis_both_ways(tmp_path: Path, pg_url: str) -> None:
    """stations copy moves a GeoPackage into PostGIS and back, identical, all or nothing."""
    runner = CliRunner()
    gpkg = tmp_path / "src.gpkg"
    with GeoPackageStore(gpkg) as src:
        src.add([station(i) for i in range(250)])
        expected = src.all()
    result = runner.invoke(main, ["stations", "copy", str(gpkg), pg_url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["added"] == 250
    back = tmp_path / "back.gpkg"
    result = runner.invoke(main, ["stations", "copy", pg_url, str(back)])
    assert result.exit_code == 0, result.output
    assert "Copied 250 stations" in result.output
    with GeoPackageStore(back) as out, PostGISStore(pg_url) as db:
        assert out.all() == expected == db.all()
        db.delete("g00000")
        db.update(station(1, name="changed in the registry"))
        revision = db.revision
    # Copying again refuses (ids taken) and writes nothing; --replace updates.
    result = runner.invoke(main, ["stations", "copy", str(gpkg), pg_url])
    assert result.exit_code == 1 and "already in the store" in result.output
    with PostGISStore(pg_url) as db:
        assert db.revision == revision and len(db) == 249
    result = runner.invoke(main, ["stations", "copy", str(gpkg), pg_url, "--replace", "--json"])
    assert result.exit_code == 0, result.output
    assert (json.loads(result.stdout)["added"], json.loads(result.stdout)["updated"]) == (1, 249)
    with PostGISStore(pg_url) as db:
        assert db.all() == expected
    missing = runner.invoke(main, ["stations", "copy", str(tmp_path / "none.gpkg"), pg_url])
    assert missing.exit_code == 1 and "Expected a station store" in missing.output


WRITER = textwrap.dedent(
    """
    import sys, time
    from stations import PostGISStore, Station, StoreUnavailableError
    store = PostGISStore(sys.argv[1], connect_timeout=2)
    batches = int(sys.argv[2])
    b = 0
    while b < batches:
        try:
            with store.transaction():
                store.add([Station(id=f"w{b:04d}-{j}", kind="warm_station", name="w",
                                   lon=116.4 + j * 1e-4, lat=39.9) for j in range(10)])
                store.update(Station(id="counter", kind="warm_station", name=str(b),
                                     lon=116.0, lat=39.0))
        except StoreUnavailableError:
            time.sleep(0.1)  # the database is down: retry the same batch
            try:
                if f"w{b:04d}-0" in store:  # the lost answer was for a COMMIT that landed
                    print(b, flush=True); b += 1
            except StoreUnavailableError:
                pass
            continue
        print(b, flush=True)  # acknowledged
        b += 1
    print("done", flush=True)
    """
)


def test_database_killed_mid_write_loses_nothing_acknowledged(own_cluster: Cluster) -> None:
    """kill -9 of PostgreSQL while a client writes 10-station batches: after restart every
    acknowledged batch is there, every batch is whole, and the client carries on by itself."""
    url = _schema_url(own_cluster, "crash")
    with PostGISStore(url) as store:
        store.add(Station(id="counter", kind="warm_station", name="-", lon=116.0, lat=39.0))
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert child.stdout is not None
    acknowledged: list[str] = []
    reader = threading.Thread(target=lambda: acknowledged.extend(iter(child.stdout.readline, "")))
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while len(acknowledged) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        own_cluster.kill()  # SIGKILL the postmaster: a crash, not a shutdown
        time.sleep(0.5)
        own_cluster.start()  # crash recovery replays the WAL
        child.wait(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
        reader.join(10)
    assert child.returncode == 0, child.stderr.read() if child.stderr else ""
    acked = [int(line) for line in acknowledged if line.strip().isdigit()]
    assert acked == list(range(60)) and acknowledged[-1].strip() == "done"
    with PostGISStore(url) as store:
        ids = [s.id for s in store.all() if s.id != "counter"]
        per_batch: dict[str, int] = {}
        for sid in ids:
            per_batch[sid.split("-")[0]] = per_batch.get(sid.split("-")[0], 0) + 1
        assert set(per_batch.values()) == {10}  # no half-written batch
        assert len(per_batch) == 60
        assert store.get("counter").name == "59"
        now, _, _ = store.changes_since(store.revision)  # type: ignore[misc]
        assert now == store.revision == 61  # one revision per committed write, no gaps


HOLDER = textwrap.dedent(
    """
    import sys, time
    from stations import PostGISStore, Station
    store = PostGISStore(sys.argv[1])
    with store.transaction():
        store.delete("g00001")
        store.add(Station(id="new", kind="warm_station", name="n", lon=116.5, lat=39.95))
        print("mid-write", flush=True)
        time.sleep(60)  # the parent kills us here with SIGKILL
    """
)


def test_writer_killed_mid_transaction_leaves_the_last_commit(own_cluster: Cluster) -> None:
    """kill -9 of a process inside a transaction: readers never saw it, the server rolls it
    back, and the writers' lock is free again at once."""
    url = _schema_url(own_cluster, "holder")
    with PostGISStore(url) as store:
        store.add([station(1), station(2)])
        before, revision = store.all(), store.revision
        child = subprocess.Popen(
            [sys.executable, "-c", HOLDER, url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=PROJECT_ROOT,
        )
        assert child.stdout is not None
        line = child.stdout.readline()
        assert "mid-write" in line, child.stderr.read() if child.stderr else ""
        assert store.all() == before  # the open transaction is invisible
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        started = time.monotonic()
        store.add(station(3))  # waits at most until the server notices the dead client
        assert time.monotonic() - started < 10
        assert [s.id for s in store.all()] == ["g00001", "g00002", "g00003"]
        assert store.revision == revision + 1


def test_feed_reconnects_after_a_restart_and_catches_up(own_cluster: Cluster) -> None:
    """A follower whose LISTEN connection dies with the server reconnects by itself, and the
    writes made while it was away reach it through the change log."""
    url = _schema_url(own_cluster, "feed")
    follower, writer = PostGISStore(url), PostGISStore(url)
    seen: list[int] = []
    try:
        follower.subscribe(seen.append)
        deadline = time.monotonic() + 10
        while not follower.following and time.monotonic() < deadline:
            time.sleep(0.01)
        writer.add(station(1))
        own_cluster.pg_ctl("restart", "-m", "fast", "-l", str(own_cluster.folder / "server.log"))
        # The writer's connection died with the server; nothing of this write was sent on
        # it, so the store retries it once on a new connection.
        writer.add(station(2))
        deadline = time.monotonic() + 10
        while (not follower.following or follower.revision < writer.revision) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.02)
        assert follower.following and follower.revision == writer.revision == 2
        assert seen[-1] == 2 and follower._feed is not None and follower._feed.reconnects >= 1
        assert [s.id for s in follower.changes_since(0)[1]] == ["g00001", "g00002"]  # type: ignore[index]
    finally:
        follower.close()
        writer.close()


def test_follower_notices_a_registry_that_went_back(pg_cluster: Cluster, pg_url: str) -> None:
    """A registry dropped and recreated (or restored from an older backup) has a lower
    revision: a following process takes the database's word for it and catches up."""
    import psycopg

    follower, writer = PostGISStore(pg_url), PostGISStore(pg_url)
    seen: list[int] = []
    try:
        follower.subscribe(seen.append)
        writer.add([station(i) for i in range(3)])
        writer.add(station(3))
        wait = time.monotonic() + 10
        while follower.revision != 2 and time.monotonic() < wait:
            time.sleep(0.01)
        assert follower.revision == 2
        with psycopg.connect(pg_cluster.admin_url(), autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {follower.schema} CASCADE")
        with PostGISStore(pg_url) as fresh:
            fresh.add(station(7))  # revision 1 of the new registry
        wait = time.monotonic() + 10
        # the revision can be read before the feed's callback has run: wait for both
        while (follower.revision != 1 or seen[-1:] != [1]) and time.monotonic() < wait:
            time.sleep(0.01)
        assert follower.revision == 1 and seen[-1:] == [1]
        assert [s.id for s in follower.all()] == ["g00007"]
    finally:
        follower.close()
        writer.close()
