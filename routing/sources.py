"""What an Area is built from: a file, a preset, a bounding box or a place name.

:func:`resolve_source` classifies what a user typed (``warmheart area build SOURCE``,
``build_area(source)``) into a :class:`Source`, or says why it cannot be used; its
:meth:`Source.identity` is what the cache key hashes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from . import cache
from ._errors import AreaBuildError
from .presets import PRESETS

__all__ = ["PBF_SUFFIXES", "XML_SUFFIXES", "Source", "file_stem", "resolve_source"]

PBF_SUFFIXES = (".osm.pbf", ".pbf")
XML_SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2", ".xml.gz")
#: Suffixes that mark a source as a (mistyped or unsupported) file rather than a place name.
_FILE_LIKE = (
    ".json",
    ".geojson",
    ".gpkg",
    ".shp",
    ".csv",
    ".txt",
    ".zip",
    ".o5m",
    ".o5c",
    ".osc",
    ".kml",
    ".gpx",
    ".bz2",
    ".gz",
    ".xz",
    ".pbf",
    ".osm",
    ".xml",
    ".toml",
)
_BBOX = re.compile(r"^\s*[-+0-9.eE]+\s*(,\s*[-+0-9.eE]+\s*){3}$")


@dataclass(frozen=True)
class Source:
    """A resolved OSM source.

    Attributes
    ----------
    kind
        ``"pbf"``, ``"xml"``, ``"place"`` or ``"bbox"``.
    path
        The file for ``pbf``/``xml``.
    query
        The place name for ``place``.
    bbox
        ``(min_lon, min_lat, max_lon, max_lat)`` for ``bbox``.
    name
        Default Area name (preset name, file stem, or a slug of the query).
    label
        Human-readable description (stored as ``Area.source``).
    """

    kind: str
    path: Path | None = None
    query: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    name: str = "area"
    label: str = ""

    def identity(self) -> str:
        """What the cache key hashes: the file's bytes, or the Overpass query."""
        if self.path is not None:
            return f"{self.kind}:sha256:{cache.file_digest(self.path)}"
        if self.bbox is not None:
            return "overpass-bbox:" + ",".join(f"{v:.7f}" for v in self.bbox)
        return f"overpass-place:{(self.query or '').strip().lower()}"


def _slug(text: str) -> str:
    """A valid area name from free text (non-ASCII names get a short hash: 北京 -> area-1a2b3c)."""
    slug = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text.strip()).strip("-._").lower()
    if not slug:
        slug = "area-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:6]
    return slug[:64].rstrip("-._")


def file_stem(path: Path) -> str:
    name = path.name
    for suffix in sorted((*PBF_SUFFIXES, *XML_SUFFIXES), key=len, reverse=True):
        if name.lower().endswith(suffix):
            return _slug(name[: -len(suffix)])
    return _slug(path.stem)


def resolve_source(source: str | Path) -> Source:
    """Classify a source string or path; raise :class:`AreaBuildError` when it cannot be used.

    Parameters
    ----------
    source
        A preset name, a path to an ``.osm.pbf``/``.osm``/``.osm.bz2`` file, a bounding box
        ``"min_lon,min_lat,max_lon,max_lat"``, or a place name for Overpass.
    """
    from .overpass import parse_bbox

    if isinstance(source, str) and source.strip().lower() in PRESETS:
        preset = PRESETS[source.strip().lower()]
        path = preset.path()
        if path is not None:
            return Source("pbf", path=path, name=preset.name, label=f"preset {preset.name}")
        return Source("bbox", bbox=preset.bbox, name=preset.name, label=f"preset {preset.name}")
    if not isinstance(source, str | Path) or not str(source).strip():
        msg = f"Expected an OSM file path, a place name or a bounding box, got {source!r}"
        raise AreaBuildError(msg)
    text = str(source).strip()
    lowered = text.lower()
    if isinstance(source, str) and _BBOX.match(text):
        bbox = parse_bbox(text)
        return Source(
            "bbox",
            bbox=bbox,
            name="bbox-" + _slug(text.replace(",", "_")),
            label=f"Overpass bbox {text}",
        )
    path = Path(text).expanduser()
    known = lowered.endswith(PBF_SUFFIXES) or lowered.endswith(XML_SUFFIXES)
    looks_like_path = (
        isinstance(source, Path)
        or "/" in text
        or "\\" in text
        or known
        or path.is_file()
        or lowered.endswith(_FILE_LIKE)
    )
    if looks_like_path:
        if not path.exists():
            msg = f"Expected an existing OSM file, got {text!r} which does not exist"
            raise AreaBuildError(msg)
        if not path.is_file():
            msg = f"Expected an OSM file, got {text!r} which is not a regular file"
            raise AreaBuildError(msg)
        if lowered.endswith(PBF_SUFFIXES):
            return Source(
                "pbf", path=path.resolve(), name=file_stem(path), label=str(path.resolve())
            )
        if lowered.endswith(XML_SUFFIXES):
            return Source(
                "xml", path=path.resolve(), name=file_stem(path), label=str(path.resolve())
            )
        msg = (
            f"Expected an OSM file ending in {', '.join(PBF_SUFFIXES + XML_SUFFIXES)}, "
            f"got {path.name!r} (unknown suffix)"
        )
        raise AreaBuildError(msg)
    return Source(
        "place", query=text, name=_slug(text.split(",")[0]), label=f"Overpass place {text!r}"
    )
