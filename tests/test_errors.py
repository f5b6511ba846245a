"""Every exception and warning the project defines derives from one base."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import routing
import stations
import webmap
from routing import WarmheartError, WarmheartWarning


def _project_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for package in (routing, stations, webmap):
        names = [package.__name__]
        names += [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]
        for name in names:
            module = importlib.import_module(name)
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if issubclass(obj, BaseException) and obj.__module__.split(".")[0] in (
                    "routing",
                    "stations",
                    "webmap",
                ):
                    found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return list(found.values())


CLASSES = _project_classes()


def test_the_walk_finds_the_known_errors() -> None:
    """The module walk sees errors of every layer (so the checks below are not vacuous)."""
    names = {cls.__name__ for cls in CLASSES}
    assert {"AreaBuildError", "StationValueError", "ParameterError", "SettingsError"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_project_exceptions_share_one_base(cls: type[BaseException]) -> None:
    """Errors are WarmheartErrors and warnings WarmheartWarnings."""
    if issubclass(cls, Warning):
        assert issubclass(cls, WarmheartWarning)
    else:
        assert issubclass(cls, WarmheartError)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        ("routing.CoordinateError", ValueError),
        ("routing.AreaBuildError", ValueError),
        ("routing.OfflineError", ConnectionError),
        ("routing.SettingsError", ValueError),
        ("routing.shuttle.ShuttleInputError", ValueError),
        ("routing.shuttle.PlanFileError", ValueError),
        ("stations.StationValueError", ValueError),
        ("stations.StationNotFoundError", KeyError),
        ("stations.StationImportError", ValueError),
        ("webmap._errors.ParameterError", ValueError),
        ("webmap._errors.StationNotFound", LookupError),
        ("routing.AreaWarning", UserWarning),
    ],
)
def test_errors_stay_subclasses_of_their_builtins(cls: str, builtin: type) -> None:
    """Code that catches ValueError, KeyError, ... keeps working."""
    module, _, name = cls.rpartition(".")
    assert issubclass(getattr(importlib.import_module(module), name), builtin)


def test_the_base_is_exported_where_users_look() -> None:
    """``routing``, ``stations`` and ``webmap`` export the same base."""
    assert stations.WarmheartError is webmap.WarmheartError is WarmheartError


def test_area_and_shuttle_settings_share_one_error() -> None:
    """One settings error type: a bad AreaSettings and a bad ShuttleSettings raise it."""
    from routing import AreaSettings, SettingsError
    from routing.shuttle import ShuttleSettings

    with pytest.raises(SettingsError, match="walk_speed_kmh"):
        AreaSettings(walk_speed_kmh=-1)
    with pytest.raises(SettingsError, match="max_walk_m"):
        ShuttleSettings(max_walk_m=-1)
    with pytest.raises(SettingsError, match="unknown"):
        AreaSettings.from_dict({"nope": 1})
    with pytest.raises(SettingsError, match="unknown"):
        ShuttleSettings.from_dict({"nope": 1})


def test_modules_import_first_in_a_fresh_process() -> None:
    """A module that another re-exports at its end imports on its own, too (the walk above
    imports the packages first, which hides such a cycle)."""
    import subprocess
    import sys

    for name in ("stations._siting_inputs", "stations.siting", "stations.coverage"):
        done = subprocess.run(
            [sys.executable, "-c", f"import {name}"], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, (name, done.stderr[-800:])
