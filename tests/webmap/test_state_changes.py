"""The web state's station list follows writes through the store's change log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from flask import Flask


def test_all_stations_patches_its_cache_after_writes(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an add, an update and a delete the cached list equals a fresh read, without all()."""
    state = app.extensions["warmheart"]
    before = state.all_stations()
    assert len(before) >= 3
    store = state.store
    first, second = before[0], before[1]
    added = first.replace(id="zz-new", name="new station")
    store.add(added)
    store.update(second.replace(name="renamed"))
    store.delete(first.id)

    def no_full_read() -> list[object]:
        raise AssertionError("re-read the whole store")

    monkeypatch.setattr(store, "all", no_full_read)
    got = state.all_stations()
    monkeypatch.undo()
    assert got == store.all()
    assert [s.id for s in got] == sorted(s.id for s in got)
    assert "zz-new" in {s.id for s in got} and first.id not in {s.id for s in got}
    assert state.query_stations(kinds=[second.kind])  # filters run on the patched list
