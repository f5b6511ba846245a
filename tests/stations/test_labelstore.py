"""Station labels on disk: reused when nothing changed, recomputed when a station moved."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from stations import Locator, Station
from stations import _labelstore as store

if TYPE_CHECKING:
    from routing import Area


def _stations(area: Area, shift: float = 0.0) -> list[Station]:
    arrays = area.arrays("walk")
    pick = np.random.default_rng(3).integers(0, arrays.n, 25)
    return [
        Station(
            id=f"l{i}",
            kind="warm_station",
            name=f"L{i}",
            lon=float(arrays.lon[v]) + (shift if i == 0 else 0.0),
            lat=float(arrays.lat[v]),
        )
        for i, v in enumerate(pick)
    ]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A labels folder of this test's own (the area cache stays the session's)."""
    monkeypatch.setattr(store, "_folder", lambda: tmp_path / "labels")
    return tmp_path / "labels"


def test_second_locator_maps_the_stored_labels(
    helsinki_area: Area, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same area and stations: no search; the labels and answers are the stored ones."""
    first = Locator(helsinki_area, _stations(helsinki_area)).labels()
    assert len(list(home.iterdir())) == 1
    calls: list[int] = []
    real = store.build_labels
    monkeypatch.setattr(store, "build_labels", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = Locator(helsinki_area, _stations(helsinki_area)).labels()
    assert calls == []
    for name in ("time", "slot", "next", "radius"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))


def test_a_moved_station_is_searched_again(
    helsinki_area: Area, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One station 70 m off: a new digest and a fresh search, equal to no store at all."""
    Locator(helsinki_area, _stations(helsinki_area)).labels()
    calls: list[int] = []
    real = store.build_labels
    monkeypatch.setattr(store, "build_labels", lambda *a, **k: calls.append(1) or real(*a, **k))
    moved = Locator(helsinki_area, _stations(helsinki_area, shift=0.001)).labels()
    assert calls == [1]
    assert len(list(home.iterdir())) == 2
    plain = Locator(helsinki_area, _stations(helsinki_area, shift=0.001), precompute=True)
    monkeypatch.setattr(store, "_folder", lambda: home / "other")
    fresh = plain.labels()
    np.testing.assert_array_equal(moved.slot, fresh.slot)
    np.testing.assert_array_equal(moved.time, fresh.time)


def test_only_the_newest_sets_are_kept(
    helsinki_area: Area, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past KEEP label sets the least recently used are removed."""
    monkeypatch.setattr(store, "KEEP", 2)
    for shift in (0.0, 0.0005, 0.001):
        Locator(helsinki_area, _stations(helsinki_area, shift=shift)).labels()
    assert len([p for p in home.iterdir() if not p.name.startswith(".")]) == 2
