"""Following a store by its change log, and queries running concurrently with writes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from stations import GeoPackageStore, MemoryStore, PostGISStore, Station, geopackage, postgis
from stations import locate as locate_module
from stations.locate import Locator
from tests.stations.test_locate import make_stations

if TYPE_CHECKING:
    from routing import Area
    from stations import StationStore


def _station(i: int, **changes: object) -> Station:
    values: dict[str, object] = {
        "id": f"c{i:03d}",
        "kind": "warm_station",
        "name": f"驿站 {i}",
        "lon": 116.3 + i * 1e-3,
        "lat": 39.9,
    }
    values.update(changes)
    return Station(**values)  # type: ignore[arg-type]


def _logged_store(kind: str, request: pytest.FixtureRequest, folder: Path) -> StationStore:
    if kind == "postgis":
        return PostGISStore(request.getfixturevalue("pg_url"))
    return GeoPackageStore(folder / "c.gpkg")


LOGGED = pytest.mark.parametrize("kind", ["gpkg", "postgis"])


@LOGGED
def test_changes_since_lists_what_each_write_touched(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str
) -> None:
    """Adds and updates come back as stations, deletes as ids, all as of the current revision."""
    with _logged_store(kind, request, tmp_path) as store:
        store.add([_station(i) for i in range(3)])
        start = store.revision
        assert store.changes_since(start) == (start, [], [])
        store.update(_station(0, name="renamed"))
        store.delete("c001")
        store.add(_station(7))
        store.add(_station(8))
        store.delete("c008")  # added and removed again: reported as removed
        now, changed, removed = store.changes_since(start)  # type: ignore[misc]
        assert now == store.revision == start + 5
        assert {s.id: s.name for s in changed} == {"c000": "renamed", "c007": "驿站 7"}
        assert sorted(removed) == ["c001", "c008"]
        assert store.changes_since(now + 1) is None  # a revision the store never had


@LOGGED
def test_changes_since_gives_up_when_it_cannot_say(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """Revisions older than the log, or a write too large to list, mean "re-read all()"."""
    module = postgis if kind == "postgis" else geopackage
    monkeypatch.setattr(module, "LOG_KEEP", 3)
    monkeypatch.setattr(module, "LOG_MAX_IDS", 4)
    with _logged_store(kind, request, tmp_path) as store:
        store.add(_station(0))
        first = store.revision
        for i in range(1, 5):
            store.add(_station(i))
        assert store.changes_since(first) is None  # pruned out of the log
        assert store.changes_since(store.revision - 2) is not None
        before = store.revision
        store.add([_station(i) for i in range(10, 16)])  # 6 ids > LOG_MAX_IDS
        assert store.changes_since(before) is None
        with pytest.raises(Exception, match="already in the store"):
            store.add(_station(0))  # a failed write logs nothing and keeps the revision
        assert store.changes_since(store.revision) == (store.revision, [], [])


def test_memory_store_has_no_change_log() -> None:
    """Stores without a log answer None, which tells readers to re-read everything."""
    assert MemoryStore([_station(0)]).changes_since(0) is None


def _answer(locator: Locator, lon: float, lat: float) -> tuple[tuple[str, int], ...]:
    result = locator.nearest(lon, lat, k=3)
    return tuple((h.station.id, round(h.time_s * 10)) for h in result.hits)


@LOGGED
def test_locator_follows_writes_through_the_change_log(
    helsinki_area: Area,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """After adds, moves and deletes the locator answers like a fresh one, without all()."""
    base = make_stations(helsinki_area, 40, seed=3)
    extra = make_stations(helsinki_area, 10, seed=4, prefix="x")
    with _logged_store(kind, request, tmp_path) as store:
        store.add(base)
        locator = Locator(helsinki_area, store, labels_per_node=4)
        locator.prepare()
        reads = []
        monkeypatch.setattr(store, "all", lambda: reads.append(1) or [])
        store.add(extra[:5])
        store.delete(base[0].id)
        store.update(base[1].replace(lon=extra[9].lon, lat=extra[9].lat))  # a move
        store.update(base[2].replace(amenities=frozenset({"toilet"})))
        rng = np.random.default_rng(0)
        x0, y0, x1, y1 = helsinki_area.bounds
        origins = [
            (x0 + rng.random() * (x1 - x0), y0 + rng.random() * (y1 - y0)) for _ in range(15)
        ]
        got = [_answer(locator, lon, lat) for lon, lat in origins]
        assert reads == []  # caught up from the change log alone
        assert locator.revision == store.revision
        monkeypatch.undo()
        fresh = Locator(helsinki_area, store.all(), labels_per_node=4)
        assert got == [_answer(fresh, lon, lat) for lon, lat in origins]
        assert locator.nearest(*origins[0], k=50).hits[0].station in store.all()


def test_paths_are_drawn_outside_the_registry_lock(
    helsinki_area: Area, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock covers taking the snapshot only: another thread can take it while paths draw."""
    stations = make_stations(helsinki_area, 30, seed=5)
    locator = Locator(helsinki_area, stations, labels_per_node=4)
    free: list[bool] = []
    draw = locate_module.path_lonlat

    def spy(*args: object, **kwargs: object) -> object:
        def try_lock() -> None:
            got = locator._lock.acquire(timeout=0)
            if got:
                locator._lock.release()
            free.append(got)

        probe = threading.Thread(target=try_lock)
        probe.start()
        probe.join()
        return draw(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(locate_module, "path_lonlat", spy)
    x0, y0, x1, y1 = helsinki_area.bounds
    result = locator.nearest((x0 + x1) / 2, (y0 + y1) / 2, k=3)
    assert result.hits and free and all(free)


def test_concurrent_queries_see_some_revision(helsinki_area: Area, tmp_path: Path) -> None:
    """Threads querying while another adds and deletes stations always get an answer that is
    exactly the answer of one revision of the store."""
    arrays = helsinki_area.arrays("walk")
    base = make_stations(helsinki_area, 40, seed=6)
    x0, y0, x1, y1 = helsinki_area.bounds
    lon, lat = (x0 + x1) / 2, (y0 + y1) / 2
    origin = int(helsinki_area.snap(lon, lat).index[0])
    near = np.argsort(np.hypot(arrays.lon - arrays.lon[origin], arrays.lat - arrays.lat[origin]))
    new = [
        Station(
            id=f"w{i}",
            kind="warm_station",
            name=f"w{i}",
            lon=float(arrays.lon[j]),
            lat=float(arrays.lat[j]),
        )
        for i, j in enumerate(near[1:6].tolist())
    ]
    ops: list[tuple[str, Station]] = [("add", s) for s in new] + [("delete", s) for s in new]
    states = [list(base)]
    for op, s in ops:
        current = [t for t in states[-1] if t.id != s.id]
        states.append([*current, s] if op == "add" else current)
    expected = {_answer(Locator(helsinki_area, st, precompute=False), lon, lat) for st in states}
    assert len(expected) > 5  # the writes really change the answer
    with GeoPackageStore(tmp_path / "t.gpkg") as store:
        store.add(base)
        locator = Locator(helsinki_area, store, labels_per_node=4)
        locator.prepare()
        done = threading.Event()
        seen: list[tuple[tuple[str, int], ...]] = []
        errors: list[BaseException] = []

        def reader() -> None:
            try:
                while not done.is_set():
                    seen.append(_answer(locator, lon, lat))
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            for _ in range(2):
                for op, s in ops:
                    store.add(s) if op == "add" else store.delete(s.id)
        finally:
            done.set()
            for t in threads:
                t.join()
        assert not errors
        assert seen and set(seen) <= expected
        assert _answer(locator, lon, lat) == _answer(
            Locator(helsinki_area, states[-1], precompute=False), lon, lat
        )
