"""The Area disk cache: hits, misses, named areas, atomic writes, damaged entries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from routing import AreaBuildError, AreaSettings, build_area, cache, load_area
from routing import build as build_module
from tests.conftest import TEST_DATA

TINY = TEST_DATA / "tiny_beijing.osm"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty WARMHEART_HOME."""
    folder = tmp_path / "home"
    monkeypatch.setenv("WARMHEART_HOME", str(folder))
    return folder


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every cache-miss build of load_area."""
    seen: list[str] = []
    monkeypatch.setattr(build_module, "_on_build", [seen.append])
    return seen


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A private copy of the tiny fixture (tests may modify it)."""
    return Path(shutil.copy(TINY, tmp_path / "tiny.osm"))


def _entries(home: Path) -> list[Path]:
    """Cache entries (one folder each; hidden temporary folders are not entries)."""
    folder = home / "areas"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def test_home_from_environment(home: Path) -> None:
    """WARMHEART_HOME decides the cache folder."""
    assert cache.warmheart_home() == home


def test_home_default_is_per_user(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without WARMHEART_HOME the folder is the per-user cache folder."""
    monkeypatch.delenv("WARMHEART_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    home = cache.warmheart_home()
    assert home.name == "warmheart"
    assert str(Path.home()) in str(home) or str(tmp_path) in str(home)


def test_second_load_is_a_cache_hit(home: Path, builds: list[str], source: Path) -> None:
    """Loading the same source twice builds once; the reload equals the build."""
    first = load_area(source)
    second = load_area(source)
    assert len(builds) == 1
    assert len(_entries(home)) == 1
    assert sorted(second.walk.nodes) == sorted(first.walk.nodes)
    assert second.drive.number_of_edges() == first.drive.number_of_edges()
    assert list(second.pois["hosts"]["name"]) == list(first.pois["hosts"]["name"])
    assert second.report["cache_path"] == str(_entries(home)[0])


def test_settings_change_is_a_miss(home: Path, builds: list[str], source: Path) -> None:
    """Different settings give a different cache entry."""
    load_area(source)
    slow = load_area(source, settings=AreaSettings(walk_speed_kmh=3.0))
    assert len(builds) == 2
    assert len(_entries(home)) == 2
    assert {d["speed_kph"] for *_, d in slow.walk.edges(data=True)} == {3.0}


def test_changed_file_is_a_miss(home: Path, builds: list[str], source: Path) -> None:
    """Editing the source file (same path) invalidates the cache."""
    load_area(source)
    text = source.read_text(encoding="utf-8").replace("中国银行</", "中国银行</")
    source.write_text(text.replace('v="物美超市"', 'v="物美超市 (新)"'), encoding="utf-8")
    area = load_area(source)
    assert len(builds) == 2
    assert "物美超市 (新)" in set(area.pois["hosts"]["name"])


def test_cache_version_is_part_of_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bumping CACHE_VERSION changes every key."""
    before = cache.cache_key("xml:sha256:abc", AreaSettings().fingerprint())
    monkeypatch.setattr(cache, "CACHE_VERSION", cache.CACHE_VERSION + 1)
    assert cache.cache_key("xml:sha256:abc", AreaSettings().fingerprint()) != before


def test_named_area_round_trip(home: Path, builds: list[str], source: Path) -> None:
    """build_area(..., name=N) registers N; load_area(N) loads it without rebuilding."""
    built = build_area(source, name="tiny-bj")
    assert "tiny-bj" in cache.list_names()
    loaded = load_area("tiny-bj")
    assert builds == []
    assert loaded.name == "tiny-bj"
    assert sorted(loaded.walk.nodes) == sorted(built.walk.nodes)


def test_named_area_rebuilds_when_entry_deleted(home: Path, source: Path) -> None:
    """A registered name whose cache file vanished is rebuilt from its recorded source."""
    build_area(source, name="tiny-bj")
    for path in _entries(home):
        shutil.rmtree(path)
    area = load_area("tiny-bj")
    assert area.name == "tiny-bj"
    assert len(_entries(home)) == 1


def test_failed_write_leaves_no_entry(
    home: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that dies while writing its entry leaves neither the entry nor a temp file."""

    def broken_dump(obj: object, fh: object, protocol: int = 0) -> None:
        fh.write(b"half an area")  # type: ignore[attr-defined]
        raise OSError("disk full")

    monkeypatch.setattr("routing._arraystore.pickle.dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        load_area(source)
    leftovers = [p for p in (home / "areas").iterdir() if p.suffix != ".lock"]
    assert leftovers == []


def test_failed_build_midway_leaves_no_entry(
    home: Path, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build failing after the graphs are made writes nothing and registers no name."""

    def explode(*args: object, **kwargs: object) -> None:
        raise AreaBuildError("boom while splitting POI layers")

    monkeypatch.setattr("routing.pois.split_layers", explode)
    with pytest.raises(AreaBuildError, match="boom"):
        build_area(source, name="never")
    assert _entries(home) == []
    # the networks were written into the entry's temporary folder already: it is gone too
    assert [p for p in (home / "areas").iterdir() if p.suffix != ".lock"] == []
    assert cache.lookup_name("never") is None


def test_damaged_entry_is_rebuilt(home: Path, builds: list[str], source: Path) -> None:
    """An unreadable cache file is discarded and rebuilt instead of crashing."""
    load_area(source)
    (entry,) = _entries(home)
    (entry / "meta.pickle").write_bytes(b"\x80\x05garbage")
    area = load_area(source)
    assert len(builds) == 2
    assert area.walk.number_of_nodes() > 0
    reloaded = cache.load_entry(entry.name)
    assert reloaded is not None and reloaded.name == area.name


def test_entry_path_rejects_non_keys() -> None:
    """Only hexadecimal keys map to cache files (no user paths are ever unpickled)."""
    with pytest.raises(ValueError, match="hexadecimal cache key"):
        cache.entry_path("../../etc/passwd")


def test_build_registers_default_name(home: Path, builds: list[str], source: Path) -> None:
    """Without --name, build_area registers the file stem ('tiny' for tiny.osm)."""
    build_area(source)
    assert cache.list_names() == ["tiny"]
    assert load_area("tiny").name == "tiny"
    assert builds == []


def test_non_ascii_file_name_gets_a_valid_default_name(home: Path, source: Path) -> None:
    """A Chinese file name still gives a registrable default name."""
    renamed = source.rename(source.with_name("望京.osm"))
    area = build_area(renamed)
    assert area.name.startswith("area-")
    assert cache.list_names() == [area.name]


def test_named_area_with_other_settings(home: Path, builds: list[str], source: Path) -> None:
    """load_area(NAME, settings=...) builds NAME's source with those settings; NAME stays."""
    build_area(source, name="tiny-bj")
    slow = load_area("tiny-bj", settings=AreaSettings(walk_speed_kmh=3.0))
    assert slow.name == "tiny-bj"
    assert {d["speed_kph"] for *_, d in slow.walk.edges(data=True)} == {3.0}
    default = load_area("tiny-bj")
    assert {d["speed_kph"] for *_, d in default.walk.edges(data=True)} == {4.5}
    assert len(builds) == 1


CONCURRENT_CHILD = """
import json, sys
from routing import build as b, load_area
built = []
b._on_build.append(built.append)
area = load_area(sys.argv[1])
print(json.dumps({"built": len(built), "seconds": area.report["build_seconds"]}))
"""


def test_concurrent_processes_build_once(home: Path, source: Path) -> None:
    """Two processes loading the same new source at once build it once and share the entry."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "WARMHEART_HOME": str(home)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_CHILD, str(source)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["built"] for r in results) == [0, 1]
    assert results[0]["seconds"] == results[1]["seconds"]  # both hold the one built Area
    assert len(_entries(home)) == 1


def test_edge_geometries_survive_the_cache(home: Path, source: Path) -> None:
    """The edge geometries of a build kept in memory come back from its cache entry: through
    the Area a cached build returns and through a later reload."""
    kept = build_area(source, cache_result=False)
    before = {(u, v, k): g.wkt for u, v, k, g in kept.walk.edges(keys=True, data="geometry") if g}
    assert before  # the fixture has simplified edges with geometry
    built = build_area(source)
    after_save = {
        (u, v, k): g.wkt for u, v, k, g in built.walk.edges(keys=True, data="geometry") if g
    }
    assert after_save == before
    reloaded = load_area("tiny")
    again = {
        (u, v, k): g.wkt for u, v, k, g in reloaded.walk.edges(keys=True, data="geometry") if g
    }
    assert again == before


def test_entry_of_an_older_format_is_rebuilt_once_with_a_warning(
    home: Path, builds: list[str], source: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A name cached as a pickle by an older warmheart: warned, old file removed, rebuilt."""
    import json

    build_area(source, name="old-one")
    record_path = home / "names" / "old-one.json"
    record = json.loads(record_path.read_text(encoding="utf-8"))
    record.update(key="ab" * 16, cache_version=cache.CACHE_VERSION - 1)
    record_path.write_text(json.dumps(record), encoding="utf-8")
    stale = home / "areas" / f"{'ab' * 16}.pickle"
    stale.write_bytes(b"an old pickled area")
    with caplog.at_level("WARNING", logger="routing.build"):
        area = load_area("old-one")
    assert "cached by an older warmheart" in caplog.text
    assert f"cache format {cache.CACHE_VERSION - 1}, now {cache.CACHE_VERSION}" in caplog.text
    assert not stale.exists()
    assert area.arrays("walk").n > 0
    assert json.loads(record_path.read_text(encoding="utf-8"))["cache_version"] == (
        cache.CACHE_VERSION
    )
    caplog.clear()
    with caplog.at_level("WARNING", logger="routing.build"):
        load_area("old-one")
    assert "older warmheart" not in caplog.text
