"""maxspeed parsing with fallbacks and the AreaSettings dataclass."""

from __future__ import annotations

import pickle
from pathlib import Path

import networkx as nx
import pytest

from routing import AreaSettings
from routing.speeds import MPH, add_travel_times, parse_maxspeed


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("50", 50.0),
        (" 60 ", 60.0),
        ("50 km/h", 50.0),
        ("30 mph", 30 * MPH),
        ("30mph", 30 * MPH),
        ("10 knots", 18.52),
        ("70|100", 85.0),
        ("50;70", 60.0),
        (["30", "50"], 40.0),
        (["30", "signals"], 30.0),
        ("CN:urban", 50.0),
        ("CN:rural", 70.0),
        ("RU:urban", 60.0),
        ("DE:zone30", 30.0),
        ("DE:zone:30", 30.0),
        ("FR:walk", 7.0),
        ("walk", 7.0),
        (40, 40.0),
        (7.5, 7.5),
        ("signals", None),
        ("none", None),
        ("variable", None),
        ("", None),
        (None, None),
        ("fast", None),
        ("0", None),
        ("-20", None),
        ("9999", None),  # osmnx #934: absurd values are rejected, not used
        ("10000 km/h", None),
        (float("nan"), None),
        (True, None),
        ("XX:unknown_zone", None),
    ],
)
def test_parse_maxspeed(value: object, expected: float | None) -> None:
    """Tag values parse to km/h or None."""
    got = parse_maxspeed(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_parse_maxspeed_cap_is_configurable() -> None:
    """The plausibility cap is a parameter."""
    assert parse_maxspeed("150") is None
    assert parse_maxspeed("150", max_speed=200) == 150


def _line_graph(maxspeed: object, highway: object = "primary") -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    G.add_edge(1, 2, length=1000.0, maxspeed=maxspeed, highway=highway)
    return G


def test_drive_travel_time_uses_bus_factor() -> None:
    """1 km at maxspeed 60 with bus factor 0.5 takes 120 s."""
    G = _line_graph("60")
    add_travel_times(G, network="drive", settings=AreaSettings(bus_factor=0.5))
    d = G.edges[1, 2, 0]
    assert d["car_speed_kph"] == 60
    assert d["speed_kph"] == 30
    assert d["travel_time"] == pytest.approx(120.0)


def test_drive_fallback_to_highway_class_and_report() -> None:
    """Unusable maxspeed falls back to the class speed (settings override) and is reported."""
    G = _line_graph("CN:nonsense", highway=["residential", "tertiary"])
    settings = AreaSettings(highway_speeds={"residential": 20, "tertiary": 40}, bus_factor=1.0)
    report = add_travel_times(G, network="drive", settings=settings)
    assert G.edges[1, 2, 0]["car_speed_kph"] == 30.0
    assert report["maxspeed_unparsed"] == 1
    assert report["maxspeed_unparsed_values"] == {"CN:nonsense": 1}


def test_drive_unknown_class_uses_fallback_speed() -> None:
    """A class in neither table runs at fallback_speed_kmh."""
    G = _line_graph(None, highway="weird_class")
    add_travel_times(G, network="drive", settings=AreaSettings(fallback_speed_kmh=12, bus_factor=1))
    assert G.edges[1, 2, 0]["car_speed_kph"] == 12


def test_walk_travel_time() -> None:
    """1 km at 4 km/h takes 900 s whatever the maxspeed."""
    G = _line_graph("120")
    add_travel_times(G, network="walk", settings=AreaSettings(walk_speed_kmh=4.0))
    assert G.edges[1, 2, 0]["travel_time"] == pytest.approx(900.0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"walk_speed_kmh": 0}, r"walk_speed_kmh in \[0.5, 20.0\], got 0"),
        ({"walk_speed_kmh": float("nan")}, r"walk_speed_kmh"),
        ({"bus_factor": 3}, r"bus_factor in"),
        ({"bus_factor": "fast"}, r"bus_factor to be a number, got 'fast'"),
        ({"snap_max_distance": -1}, r"snap_max_distance"),
        ({"highway_speeds": {"primary": 500}}, r"highway_speeds\['primary'\]"),
        ({"highway_speeds": [1, 2]}, r"highway_speeds as a table"),
        ({"retain_largest_scc": "yes"}, r"retain_largest_scc to be true or false"),
    ],
)
def test_settings_validate(kwargs: dict[str, object], match: str) -> None:
    """Bad settings are rejected in __post_init__ with an 'Expected' message."""
    with pytest.raises(ValueError, match=match):
        AreaSettings(**kwargs)  # type: ignore[arg-type]


def test_settings_frozen_and_picklable() -> None:
    """Settings are immutable, compare by value, and survive pickling (the cache)."""
    s = AreaSettings(highway_speeds={"primary": 45})
    with pytest.raises(AttributeError):
        s.walk_speed_kmh = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.highway_speeds["primary"] = 1  # type: ignore[index]
    again = pickle.loads(pickle.dumps(s))
    assert again == s
    assert again.fingerprint() == s.fingerprint()
    assert s.fingerprint() != AreaSettings().fingerprint()


def test_settings_from_toml(tmp_path: Path) -> None:
    """Settings load from TOML, including the [highway_speeds] table."""
    path = tmp_path / "s.toml"
    path.write_text(
        "walk_speed_kmh = 4.0\nbus_factor = 0.8\n[highway_speeds]\nprimary = 45\n",
        encoding="utf-8",
    )
    s = AreaSettings.from_file(path)
    assert (s.walk_speed_kmh, s.bus_factor, s.speed_for_highway("primary")) == (4.0, 0.8, 45)
    assert s.speed_for_highway("residential") == 25.0


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("walk_speed = 4\n", r"unknown \['walk_speed'\]"),
        ("walk_speed_kmh = \n", r"valid TOML"),
        ("walk_speed_kmh = 100\n", r"walk_speed_kmh in"),
    ],
)
def test_settings_toml_errors(tmp_path: Path, text: str, match: str) -> None:
    """Unknown keys, syntax errors and bad values in TOML are clear errors."""
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        AreaSettings.from_file(path)


def test_settings_missing_toml(tmp_path: Path) -> None:
    """A missing settings file is named."""
    with pytest.raises(ValueError, match="does not exist"):
        AreaSettings.from_file(tmp_path / "nope.toml")
