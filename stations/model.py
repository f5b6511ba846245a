"""What a station is: one schema for warm-heart stations, nursing rooms and shuttle stops.

A :class:`Station` validates itself at construction, so every station that exists is valid:
coordinates are finite WGS-84, kind/amenities/host type/certification come from the
controlled vocabularies below, and the opening hours parse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from routing.languages import LANGUAGES as ROUTING_LANGUAGES
from routing.lonlat import coordinate_problem

from ._errors import StationCoordinateError, StationValueError
from .hours import clean_opening_hours, parse_opening_hours
from .hours import is_open as _is_open

__all__ = [
    "ACCESS",
    "AMENITIES",
    "CERTIFICATIONS",
    "HOST_TYPES",
    "ID_PATTERN",
    "KINDS",
    "LANGUAGES",
    "MAX_TEXT",
    "RECORD_FIELDS",
    "SEVEN_HAVE",
    "Station",
]

#: The three kinds of service point.
KINDS = ("warm_station", "nursing_room", "shuttle_stop")
#: Controlled amenity vocabulary. The first eight are what a warm-heart station offers; the
#: last four are what a nursing room needs (fridge, steriliser, sofa, a private room).
AMENITIES = (
    "microwave",
    "hot_meal",
    "drinking_water",
    "rest_seats",
    "shelter",
    "toilet",
    "phone_charging",
    "sewing_kit",
    "first_aid_kit",
    "fridge",
    "steriliser",
    "sofa",
    "private_room",
)
#: Who hosts the station. ``enterprise`` covers company premises (most nursing rooms).
HOST_TYPES = (
    "bank",
    "supermarket",
    "fuel",
    "estate_agent",
    "convenience_store",
    "enterprise",
    "union_centre",
    "community_centre",
    "government",
    "public_transport",
    "other",
)
#: Who may use it: anyone, or only employees of the host.
ACCESS = ("public", "employees")
#: Rating levels, e.g. "city model care room" = ``city_model``.
CERTIFICATIONS = (
    "district",
    "city",
    "city_model",
    "provincial",
    "provincial_model",
    "national",
    "national_model",
)
#: The "seven-have" standard a warm-heart station must meet.
SEVEN_HAVE = ("site", "sign", "facilities", "publicity", "service", "rules", "effect")
#: Name variants the public pages speak.
LANGUAGES = ROUTING_LANGUAGES  # name variants and interface languages: the one list
#: Every field of a station, in the order records and exports list them (the keys of
#: :meth:`Station.to_record`). Readers, the CSV export and the web API derive their columns
#: from this, so a new field is added here once.
RECORD_FIELDS = (
    "id",
    "kind",
    "name",
    "names",
    "address",
    "lon",
    "lat",
    "host_type",
    "amenities",
    "opening_hours",
    "access",
    "capacity",
    "certification",
    "seven_have",
    "contact",
    "notes",
    "source",
    "updated_at",
)

#: Station ids: 1-128 characters, letters and digits of any script and punctuation except
#: ``/ \ ? # % & " ' < > [ ] { } | ^ `` and backticks; no spaces or control characters, and
#: not ``.`` or ``..``. Such an id is one URL path segment as it is (``/api/stations/<id>``),
#: on import too. The same pattern is the API's schema (ECMA-262 and Python read it alike).
ID_PATTERN = r"^(?!\.\.?$)[^\s\x00-\x1f\x7f/\\?#%&\"'<>\[\]{}|^`]{1,128}$"
_ID = re.compile(ID_PATTERN)
#: Longest text of each free-text field (characters); longer values are refused, not cut.
MAX_TEXT: Mapping[str, int] = MappingProxyType(
    {
        "name": 200,
        "address": 500,
        "opening_hours": 500,
        "contact": 500,
        "notes": 2000,
        "source": 200,
    }
)
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


_SETS: dict[tuple[str, ...], frozenset[str]] = {}


def _vocab(value: Any, allowed: tuple[str, ...], name: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    valid = _SETS.get(allowed)
    if valid is None:
        valid = _SETS[allowed] = frozenset(allowed)
    if isinstance(value, frozenset | set | list | tuple) and valid.issuperset(value):
        return frozenset(value)  # fast path: already canonical names
    if isinstance(value, str):
        items: Iterable[Any] = [v for v in re.split(r"[;,|]", value) if v.strip()]
    elif isinstance(value, Mapping):  # checklist form {"site": True, "sign": False}
        items = [k for k, v in value.items() if v]
    elif isinstance(value, Iterable):
        items = value
    else:
        msg = f"Expected {name} as a list of names, got {type(value).__name__}"
        raise StationValueError(msg, field=name)
    out = set()
    for item in items:
        text = str(item).strip().lower().replace("-", "_").replace(" ", "_")
        if text not in allowed:
            msg = f"Expected {name} from {', '.join(allowed)}; got {item!r}"
            raise StationValueError(msg, field=name)
        out.add(text)
    return frozenset(out)


def _choice(value: Any, allowed: tuple[str, ...], name: str, *, optional: bool) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if optional:
            return None
        msg = f"Expected {name} to be one of {', '.join(allowed)}; got nothing"
        raise StationValueError(msg, field=name)
    text = str(value).strip()
    if text not in allowed:
        msg = f"Expected {name} to be one of {', '.join(allowed)}; got {value!r}"
        raise StationValueError(msg, field=name)
    return text


def _opt_text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if not isinstance(value, str):
        msg = f"Expected {name} as text, got {type(value).__name__} {value!r}"
        raise StationValueError(msg, field=name)
    value = value.strip()
    limit = MAX_TEXT.get("name" if name.startswith("names[") else name)
    if limit is not None and len(value) > limit:
        msg = f"Expected {name} of at most {limit} characters, got {len(value)}"
        raise StationValueError(msg, field=name)
    return value or None


def _coordinate(value: Any, name: str) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        what = "longitude" if name == "lon" else "latitude"
        msg = f"Expected a {what}, got an empty cell"
        raise StationCoordinateError(msg, field=name)
    problem = coordinate_problem(value, name)
    if problem is not None:
        raise StationCoordinateError(problem, field=name)
    return float(value)


def _timestamp(value: Any) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            msg = f"Expected updated_at as an ISO 8601 date-time, got {value!r}"
            raise StationValueError(msg, field="updated_at") from None
    if not isinstance(value, datetime):
        msg = f"Expected updated_at as a datetime, got {type(value).__name__}"
        raise StationValueError(msg, field="updated_at")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class Station:
    """A warm-heart station, nursing room or shuttle stop.

    Attributes
    ----------
    id
        Unique, stable identifier (1-128 characters, no control characters, no leading space).
    kind
        One of :data:`KINDS`.
    name
        Display name in its original script.
    lon, lat
        WGS-84 position (degrees).
    names
        Name variants by language code (``zh``, ``en``, ``ja``, ``ko``, ...); read-only.
    address
        Free-text address.
    host_type
        One of :data:`HOST_TYPES`, or ``None``.
    amenities
        Subset of :data:`AMENITIES`. Accepts any iterable or a ``;``-separated string.
    opening_hours
        OSM ``opening_hours`` expression (cleaned, see :mod:`stations.hours`), or ``None`` when
        not known.
    access
        ``"public"`` or ``"employees"`` (employees of the host only).
    capacity
        People it can seat or serve at once; ``None`` if not known.
    certification
        One of :data:`CERTIFICATIONS`, or ``None``.
    seven_have
        The items of :data:`SEVEN_HAVE` the station meets. Accepts an iterable or a mapping
        ``{item: bool}``.
    contact, notes, source
        Free text. ``source`` says where the record came from (``"sample"``, ``"osm"``, a file).
    updated_at
        When the record was last changed (timezone-aware UTC; naive input is taken as UTC).
    """

    id: str
    kind: str
    name: str
    lon: float
    lat: float
    names: Mapping[str, str] = field(default_factory=dict)
    address: str | None = None
    host_type: str | None = None
    amenities: frozenset[str] = frozenset()
    opening_hours: str | None = None
    access: str = "public"
    capacity: int | None = None
    certification: str | None = None
    seven_have: frozenset[str] = frozenset()
    contact: str | None = None
    notes: str | None = None
    source: str | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.id, str) or not _ID.match(self.id):
            shown = self.id if not isinstance(self.id, str) or len(self.id) <= 140 else "..."
            msg = (
                "Expected id as 1-128 letters, digits or punctuation other than "
                "/ \\ ? # % & \" ' < > [ ] { } | ^ ` (no spaces), got "
                f"{shown!r}"
            )
            raise StationValueError(msg, field="id")
        set_(self, "kind", _choice(self.kind, KINDS, "kind", optional=False))
        name = _opt_text(self.name, "name")
        if name is None:
            msg = f"Expected a non-empty name, got {self.name!r}"
            raise StationValueError(msg, field="name")
        set_(self, "name", name)
        set_(self, "lon", _coordinate(self.lon, "lon"))
        set_(self, "lat", _coordinate(self.lat, "lat"))
        set_(self, "names", MappingProxyType(self._clean_names(self.names)))
        set_(self, "address", _opt_text(self.address, "address"))
        set_(self, "host_type", _choice(self.host_type, HOST_TYPES, "host_type", optional=True))
        set_(self, "amenities", _vocab(self.amenities, AMENITIES, "amenities"))
        hours = _opt_text(self.opening_hours, "opening_hours")
        if hours is not None:
            hours = clean_opening_hours(hours)
            parse_opening_hours(hours)  # raises OpeningHoursError saying where
        set_(self, "opening_hours", hours)
        set_(self, "access", _choice(self.access or "public", ACCESS, "access", optional=False))
        set_(self, "capacity", self._clean_capacity(self.capacity))
        set_(
            self,
            "certification",
            _choice(self.certification, CERTIFICATIONS, "certification", optional=True),
        )
        set_(self, "seven_have", _vocab(self.seven_have, SEVEN_HAVE, "seven_have"))
        for name_ in ("contact", "notes", "source"):
            set_(self, name_, _opt_text(getattr(self, name_), name_))
        set_(self, "updated_at", _timestamp(self.updated_at))

    @staticmethod
    def _clean_names(names: Any) -> dict[str, str]:
        if names is None:
            return {}
        if not isinstance(names, Mapping):
            msg = f"Expected names as a mapping of language code to name, got {names!r}"
            raise StationValueError(msg, field="names")
        out: dict[str, str] = {}
        for lang, text in names.items():
            if not isinstance(lang, str) or not _LANG.match(lang):
                msg = f"Expected a language code such as {', '.join(LANGUAGES)}; got {lang!r}"
                raise StationValueError(msg, field="names")
            value = _opt_text(text, f"names[{lang}]")
            if value is not None:
                out[lang] = value
        return dict(sorted(out.items()))

    @staticmethod
    def _clean_capacity(value: Any) -> int | None:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, str) and not value.strip():
            return None
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        if isinstance(value, bool) or not number.is_integer() or number < 0:
            msg = f"Expected capacity as a whole number >= 0, got {value!r}"
            raise StationValueError(msg, field="capacity")
        return int(number)

    @classmethod
    def _trusted(
        cls,
        *,
        id: str,
        kind: str,
        name: str,
        lon: float,
        lat: float,
        names: Mapping[str, str] | None,
        address: str | None,
        host_type: str | None,
        amenities: Iterable[str] | None,
        opening_hours: str | None,
        access: str,
        capacity: int | None,
        certification: str | None,
        seven_have: Iterable[str] | None,
        contact: str | None,
        notes: str | None,
        source: str | None,
        updated_at: str | None,
    ) -> Station:
        """Build a station from values a store wrote itself, skipping validation.

        Private, for a store's readers only: every value must come from a station that was
        validated when it was written (so it is already in canonical form: stripped text,
        sorted ``names``, names from the vocabularies, cleaned opening hours, ``updated_at``
        as ISO 8601 UTC text). Never call it with user input: use :class:`Station`. Building
        a station this way costs a few microseconds instead of the ~60-120 of full
        validation (mostly the opening-hours parse), which is what makes re-reading a large
        store cheap. ``tests/stations/test_model.py`` checks it equals the validated form.
        """
        stamp = datetime.fromisoformat(updated_at.replace("Z", "+00:00")) if updated_at else None
        self = object.__new__(cls)
        # A frozen dataclass only blocks __setattr__; filling __dict__ at once is the fast way.
        self.__dict__.update(
            id=id,
            kind=kind,
            name=name,
            lon=float(lon),
            lat=float(lat),
            names=MappingProxyType(dict(names) if names else {}),
            address=address,
            host_type=host_type,
            amenities=frozenset(amenities) if amenities else frozenset(),
            opening_hours=opening_hours,
            access=access,
            capacity=capacity,
            certification=certification,
            seven_have=frozenset(seven_have) if seven_have else frozenset(),
            contact=contact,
            notes=notes,
            source=source,
            updated_at=stamp.astimezone(UTC) if stamp is not None else None,
        )
        return self

    def __hash__(self) -> int:
        return hash((self.id, self.kind, self.lon, self.lat, self.updated_at))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # ``names`` is a read-only mapping proxy, which pickle cannot store: rebuild instead.
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values["names"] = dict(self.names)
        return (_rebuild, (values,))

    # --- behaviour -------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool | None:
        """Whether the station is open at ``at``; ``None`` when its hours are unknown.

        Naive datetimes are local time at the station; aware ones are converted to its time
        zone. Public holidays of the station's country apply (see :mod:`stations.hours`).
        """
        return _is_open(self.opening_hours, at, coords=(self.lat, self.lon))

    def name_in(self, lang: str | None) -> str:
        """The name in ``lang`` (``"zh"``, ``"en"``, ``"zh-Hans"``, ...), else :attr:`name`.

        A regional variant falls back to its base language (``zh-Hans`` -> ``zh``).
        """
        if lang:
            if lang in self.names:
                return self.names[lang]
            base = lang.split("-")[0].lower()
            if base in self.names:
                return self.names[base]
        return self.name

    def replace(self, **changes: Any) -> Station:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)

    # --- plain-data forms ------------------------------------------------------------------

    def to_record(self) -> dict[str, Any]:
        """Plain dict of every field (lists sorted, ``updated_at`` as ISO text)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "names": dict(self.names),
            "address": self.address,
            "lon": self.lon,
            "lat": self.lat,
            "host_type": self.host_type,
            "amenities": sorted(self.amenities),
            "opening_hours": self.opening_hours,
            "access": self.access,
            "capacity": self.capacity,
            "certification": self.certification,
            "seven_have": [item for item in SEVEN_HAVE if item in self.seven_have],
            "contact": self.contact,
            "notes": self.notes,
            "source": self.source,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Station:
        """Build a station from a dict with the keys of :meth:`to_record` (extra keys rejected)."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(record) - known)
        if extra:
            msg = f"Expected station fields from {', '.join(sorted(known))}; got {extra}"
            raise StationValueError(msg, field=extra[0])
        return cls(**dict(record))

    def to_feature(self, *, precision: int | None = 7) -> dict[str, Any]:
        """GeoJSON Feature (RFC 7946): Point ``[lon, lat]``, every other field a property."""
        props = self.to_record()
        lon, lat = props.pop("lon"), props.pop("lat")
        if precision is not None:
            lon, lat = round(lon, precision), round(lat, precision)
        return {
            "type": "Feature",
            "id": self.id,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": props,
        }

    @classmethod
    def from_feature(cls, feature: Mapping[str, Any]) -> Station:
        """Build a station from a GeoJSON Point Feature as written by :meth:`to_feature`.

        The id comes from ``properties.id`` or the Feature's ``id``.
        """
        if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
            got = feature.get("type") if isinstance(feature, Mapping) else type(feature).__name__
            msg = f"Expected a GeoJSON Feature, got {got!r}"
            raise StationValueError(msg, field="geometry")
        geometry = feature.get("geometry")
        if not isinstance(geometry, Mapping) or geometry.get("type") != "Point":
            got = geometry.get("type") if isinstance(geometry, Mapping) else geometry
            msg = f"Expected a Point geometry, got {got!r}"
            raise StationValueError(msg, field="geometry")
        coords = geometry.get("coordinates")
        if not isinstance(coords, list | tuple) or len(coords) < 2:
            msg = f"Expected Point coordinates [lon, lat], got {coords!r}"
            raise StationCoordinateError(msg, field="geometry")
        props = dict(feature.get("properties") or {})
        if props.get("id") in (None, "") and feature.get("id") is not None:
            props["id"] = str(feature["id"])
        props["lon"], props["lat"] = coords[0], coords[1]
        return cls.from_record(props)


def _rebuild(values: dict[str, Any]) -> Station:
    return Station(**values)
