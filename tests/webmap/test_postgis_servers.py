"""Several ``warmheart serve`` processes on one PostGIS registry (real servers, real database).

Two servers run as subprocesses on the Helsinki sample with ``WARMHEART_STORE`` pointing at
one PostgreSQL schema. Writes through either are answered by the other within a second
(LISTEN/NOTIFY); a CLI import running at the same time leaves all three consistent; a
database restart and a killed server under load lose nothing that was acknowledged, and
the servers reconnect by themselves. Their logs never show the database password. While
the database is down, an app keeps answering the locator and the station list from memory.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from stations import PostGISStore, Station

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from routing import Area
    from tests.pgcluster import Cluster

TOKEN = "postgis-servers-token-0123"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
WARMHEART = str(Path(sys.executable).parent / "warmheart")
SERVE_OPTIONS = ("--tiles", "none", "--threads", "4")


@dataclass
class Server:
    """A ``warmheart serve`` subprocess and the log lines it printed."""

    proc: subprocess.Popen[str]
    port: int
    log: list[str] = field(default_factory=list)

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 10
    ) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
            conn.request(
                method, path, body=None if body is None else json.dumps(body), headers=headers
            )
            response = conn.getresponse()
            data = response.read()
            return response.status, json.loads(data) if data else None
        finally:
            conn.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_servers(url: str, n: int = 2) -> list[Server]:
    """Start ``n`` servers on the store ``url`` and wait until each answers."""
    env = dict(
        os.environ,
        WARMHEART_STORE=url,
        WARMHEART_ADMIN_TOKEN=TOKEN,
        WARMHEART_RATELIMIT_ENABLED="0",
        WARMHEART_PREPARE="0",
    )
    servers = []
    for _ in range(n):
        port = _free_port()
        proc = subprocess.Popen(
            [WARMHEART, "serve", "--area", "helsinki", "--port", str(port), *SERVE_OPTIONS],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
        server = Server(proc, port)
        assert proc.stdout is not None
        threading.Thread(
            target=lambda s=server: s.log.extend(iter(s.proc.stdout.readline, "")),  # type: ignore[union-attr]
            daemon=True,
        ).start()
        servers.append(server)
    deadline = time.monotonic() + 120
    for server in servers:
        while True:
            assert server.proc.poll() is None, "".join(server.log)
            try:
                if server.request("GET", "/api/stations?limit=1", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "".join(server.log)
            time.sleep(0.1)
        # WARMHEART_PREPARE=0 starts faster but leaves the locator's labels to the first
        # query; make them now, as a default server does at start, so that the timings
        # below are the change feed's and not a first query's.
        status, _ = server.request("GET", "/api/nearest?lon=24.9384&lat=60.1699&k=1", timeout=60)
        assert status == 200, "".join(server.log)
    return servers


def stop_servers(servers: list[Server]) -> None:
    for server in servers:
        if server.proc.poll() is None:
            server.proc.terminate()
    for server in servers:
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.proc.kill()


def wait_for(check: Callable[[], bool], timeout: float) -> float:
    """Poll ``check`` every 5 ms; return the seconds it took (fail after ``timeout``)."""
    started = time.perf_counter()
    while not check():
        if time.perf_counter() - started > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.005)
    return time.perf_counter() - started


def feature(area: Area, i: int, prefix: str = "pg") -> dict[str, Any]:
    walk = area.arrays("walk")
    j = (i * 37) % len(walk.lon)
    return {
        "type": "Feature",
        "id": f"{prefix}-{i:04d}",
        "geometry": {"type": "Point", "coordinates": [float(walk.lon[j]), float(walk.lat[j])]},
        "properties": {"kind": "warm_station", "name": f"驿站 {prefix} {i}"},
    }


def seed(area: Area, url: str, n: int = 30) -> None:
    with PostGISStore(url) as store:
        for i in range(n):
            f = feature(area, i, "seed")
            lon, lat = f["geometry"]["coordinates"]
            store.add(
                Station(
                    id=f["id"], kind="warm_station", name=f["properties"]["name"], lon=lon, lat=lat
                )
            )


def matched(server: Server) -> int:
    status, body = server.request("GET", "/api/stations?limit=1")
    assert status == 200, body
    return int(body["numberMatched"])


@pytest.fixture
def servers(helsinki_area: Area, pg_url: str) -> Iterator[list[Server]]:
    seed(helsinki_area, pg_url)
    running = start_servers(pg_url)
    yield running
    stop_servers(running)


def test_write_through_one_server_is_answered_by_the_other_within_a_second(
    helsinki_area: Area, servers: list[Server], pg_cluster: Cluster
) -> None:
    """POST / PUT / DELETE through one server are visible on the other in under 1 s, and the
    other's locator answers with the new station (it applied just that change)."""
    a, b = servers
    body = feature(helsinki_area, 1000)  # a place no seeded station shares (seed-0001 does 1's)
    status, created = a.request("POST", "/api/stations", body)
    assert status == 201, created
    seen = wait_for(lambda: b.request("GET", f"/api/stations/{body['id']}")[0] == 200, 1.0)
    lon, lat = body["geometry"]["coordinates"]
    status, near = b.request("GET", f"/api/nearest?lon={lon}&lat={lat}&k=1")
    assert status == 200 and near["results"][0]["station"]["id"] == body["id"]
    status, _ = b.request("PUT", f"/api/stations/{body['id']}", {"name": "renamed"})
    assert status == 200
    wait_for(
        lambda: (
            a.request("GET", f"/api/stations/{body['id']}")[1]["properties"]["name"] == "renamed"
        ),
        1.0,
    )
    assert a.request("DELETE", f"/api/stations/{body['id']}")[0] == 204
    wait_for(lambda: b.request("GET", f"/api/stations/{body['id']}")[0] == 404, 1.0)
    status, near = b.request("GET", f"/api/nearest?lon={lon}&lat={lat}&k=1")
    assert near["results"][0]["station"]["id"] != body["id"]
    assert seen < 1.0
    for server in servers:
        assert pg_cluster.password not in "".join(server.log)


def _post_many(
    server: Server, area: Area, ids: range, prefix: str, acked: list[str], errors: list[str]
) -> None:
    for i in ids:
        body = feature(area, i, prefix)
        try:
            status, answer = server.request("POST", "/api/stations", body, timeout=30)
        except OSError as exc:  # a killed server: not acknowledged
            errors.append(f"{type(exc).__name__}")
            continue
        if status == 201:
            acked.append(body["id"])
        else:
            errors.append(f"{status} {answer}")


def test_two_servers_and_a_cli_import_write_concurrently(
    helsinki_area: Area, servers: list[Server], pg_url: str, tmp_path: Path
) -> None:
    """Both servers taking writes while `warmheart stations import` runs: every write lands
    once, the change log has one entry per revision, and both servers agree with the DB."""
    a, b = servers
    rows = ["id,kind,name,lon,lat"]
    walk = helsinki_area.arrays("walk")
    for i in range(300):
        j = (i * 53) % len(walk.lon)
        rows.append(
            f"imp-{i:04d},nursing_room,导入 {i},{float(walk.lon[j])!r},{float(walk.lat[j])!r}"
        )
    csv = tmp_path / "import.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    acked: list[str] = []
    errors: list[str] = []
    threads = [
        threading.Thread(
            target=_post_many, args=(a, helsinki_area, range(0, 40), "a", acked, errors)
        ),
        threading.Thread(
            target=_post_many, args=(b, helsinki_area, range(0, 40), "b", acked, errors)
        ),
    ]
    for t in threads:
        t.start()
    import_options = ["--store", pg_url, "--no-check", "--json"]
    cli = subprocess.run(
        [WARMHEART, "stations", "import", str(csv), "--area", "helsinki", *import_options],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    for t in threads:
        t.join()
    assert cli.returncode == 0, cli.stderr
    assert errors == [] and len(acked) == 80
    with PostGISStore(pg_url) as store:
        ids = {s.id for s in store.all()}
        total, revision = len(ids), store.revision
        changes = store.changes_since(0)
    assert set(acked) <= ids and {f"imp-{i:04d}" for i in range(300)} <= ids
    assert total == 30 + 80 + 300
    assert changes is None or changes[0] == revision  # every revision accounted for
    wait_for(lambda: matched(a) == matched(b) == total, 1.0)
    origin = feature(helsinki_area, 5, "imp")["geometry"]["coordinates"]
    answers = [
        s.request("GET", f"/api/nearest?lon={origin[0]}&lat={origin[1]}&k=5")[1] for s in servers
    ]
    assert [r["station"]["id"] for r in answers[0]["results"]] == [
        r["station"]["id"] for r in answers[1]["results"]
    ]


@pytest.fixture(scope="module")
def fault_cluster() -> Iterator[Cluster]:
    """A cluster of this module's own, restarted by the fault test."""
    from tests.pgcluster import cluster_or_skip

    cluster = cluster_or_skip()
    yield cluster
    cluster.remove()


def test_database_restart_and_a_killed_server_under_load(
    helsinki_area: Area, fault_cluster: Cluster
) -> None:
    """Restart PostgreSQL while both servers take writes, then kill -9 one server: every
    acknowledged write is stored, failures are JSON 503s (never 500), the servers reconnect
    by themselves, and the survivor keeps up with the registry."""
    url = f"{fault_cluster.url}?schema=restart"
    seed(helsinki_area, url)
    running = start_servers(url)
    a, b = running
    try:
        acked: list[str] = []
        errors: list[str] = []
        threads = [
            threading.Thread(
                target=_post_many, args=(s, helsinki_area, range(0, 400), p, acked, errors)
            )
            for s, p in ((a, "ra"), (b, "rb"))
        ]
        for t in threads:
            t.start()
        # Restart once writes are flowing, with most still to come (not after a fixed
        # sleep: on a quiet machine 400 writes can be over before it ends).
        wait_for(lambda: len(acked) >= 10, 30)
        fault_cluster.pg_ctl(
            "restart", "-m", "fast", "-l", str(fault_cluster.folder / "server.log")
        )
        for t in threads:
            t.join()
        assert acked and errors  # the restart really hit writes in flight
        other = [e for e in errors if not (e.startswith("503 ") and "unavailable" in e)]
        assert not other, (other[:5], "".join(a.log + b.log)[-4000:])
        # Both reconnect by themselves: writes succeed again without a restart.
        for server, i in ((a, 900), (b, 901)):
            body = feature(helsinki_area, i, "after")
            wait_for(
                lambda s=server, bd=body: s.request("POST", "/api/stations", bd)[0] in (201, 400),
                15,
            )
            acked.append(body["id"])
        # kill -9 one server in the middle of a burst of writes.
        burst: list[str] = []
        burst_errors: list[str] = []
        writer = threading.Thread(
            target=_post_many, args=(a, helsinki_area, range(0, 400), "kill", burst, burst_errors)
        )
        writer.start()
        wait_for(lambda: len(burst) >= 5, 30)
        a.proc.kill()
        writer.join()
        with PostGISStore(url) as store:
            ids = {s.id for s in store.all()}
            total = len(ids)
        assert burst and burst_errors  # killed with writes acknowledged and in flight
        assert set(acked) <= ids and set(burst) <= ids
        assert {sid for sid in ids if sid.startswith("kill-")} >= set(burst)
        wait_for(lambda: matched(b) == total, 1.0)
        assert fault_cluster.password not in "".join(a.log + b.log)
        assert "Traceback" not in "".join(b.log), "".join(b.log)[-3000:]
    finally:
        stop_servers(running)


def test_app_keeps_answering_from_memory_while_the_database_is_down(
    make_app: Callable[..., Any], helsinki_area: Area, fault_cluster: Cluster
) -> None:
    """With PostgreSQL stopped, the locator and the station list answer from what the app
    holds, lookups and writes are JSON 503s that match the API document, and everything
    works again by itself once the database is back."""
    url = f"{fault_cluster.url}?schema=down"
    seed(helsinki_area, url, 10)
    app = make_app(WARMHEART_STORE=url, WARMHEART_PREPARE=False, WARMHEART_ADMIN_TOKEN=TOKEN)
    client = app.test_client()  # the contract client: every answer checked against the doc
    auth = {"Authorization": f"Bearer {TOKEN}"}
    lon, lat = feature(helsinki_area, 3, "seed")["geometry"]["coordinates"]
    nearest = f"/api/nearest?lon={lon}&lat={lat}&k=1"
    assert client.get(nearest).json["results"][0]["station"]["id"] == "seed-0003"
    state = app.extensions["warmheart"]
    fault_cluster.stop()
    try:
        wait_for(lambda: not state.store.following, 5)
        assert client.get(nearest).json["results"][0]["station"]["id"] == "seed-0003"
        assert client.get("/api/stations").json["numberMatched"] == 10
        answers = [
            client.get("/api/stations/seed-0001"),
            client.post("/api/stations", json=feature(helsinki_area, 1, "down"), headers=auth),
            client.delete("/api/stations/seed-0001", headers=auth),
        ]
        for answer in answers:
            assert answer.status_code == 503, answer.json
            assert "unavailable" in answer.json["error"]["message"]
            assert answer.headers["Retry-After"] == "2"
            assert fault_cluster.password not in answer.get_data(as_text=True)
    finally:
        fault_cluster.start()
    body = feature(helsinki_area, 2, "back")
    wait_for(lambda: client.post("/api/stations", json=body, headers=auth).status_code == 201, 15)
    wait_for(lambda: client.get("/api/stations").json["numberMatched"] == 11, 5)
    state.store.close()
