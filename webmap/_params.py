"""Query parameters of every endpoint, declared once as pydantic models.

Each endpoint's parameters are one :class:`Query` subclass: the field types, bounds,
defaults and vocabularies below are what :func:`parse_query` enforces *and* what the OpenAPI
document says (:mod:`webmap.openapi` turns the models' JSON Schema into its parameters).
Vocabularies come from :mod:`stations.model`, coordinates from :mod:`routing.lonlat`,
``open_at`` from :func:`stations.parse_open_at`.

Every problem is a :class:`~webmap._errors.ParameterError` whose message follows the
package style, "Expected X, got Y", and names the parameter.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, TypeVar, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from routing.lonlat import LAT_RANGE, LON_RANGE, coordinate_problem
from stations._query import parse_open_at
from stations.model import AMENITIES, KINDS, LANGUAGES

from ._errors import ParameterError
from .i18n import check_language

__all__ = [
    "COVERAGE_LAYERS",
    "DEFAULT_K",
    "DEFAULT_LIMIT",
    "EMBED_NAMES",
    "MAX_K",
    "MAX_LIMIT",
    "MAX_MINUTES",
    "CoverageQuery",
    "CoverageStreetsQuery",
    "EmbedQuery",
    "HoursQuery",
    "IsochroneQuery",
    "LocatorQuery",
    "NearestQuery",
    "OEmbedQuery",
    "PageQuery",
    "Query",
    "RouteQuery",
    "StationQuery",
    "StationsQuery",
    "parse_query",
]

#: Paging of ``/api/stations``.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: ``k`` of ``/api/nearest``.
DEFAULT_K = 5
MAX_K = 50
#: Largest isochrone budget and how many budgets one request may ask for.
MAX_MINUTES = 60
MAX_BUDGETS = 6
#: Largest oEmbed iframe size.
MAX_EMBED_SIZE = 10_000
#: Embeds: ``stations`` (all kinds, or ``?kinds=``), one per kind, and ``lines``.
EMBED_NAMES = ("stations", *KINDS, "lines")
#: Longest oEmbed ``url``.
MAX_URL = 2000

Q = TypeVar("Q", bound="Query")

#: Marks a field whose values come comma-separated in one parameter (OpenAPI ``explode: false``).
COMMA_SEPARATED: JsonDict = {"x-comma-separated": True}


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("warmheart", message)


def _split(values: Any) -> list[str]:
    """Repeated and/or comma-separated values as one list of stripped words."""
    items = [values] if isinstance(values, str) else list(values)
    return [w.strip() for item in items for w in str(item).split(",") if w.strip()]


def _coordinate(axis: str, name: str) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        with contextlib.suppress(TypeError, ValueError):  # else the check says what it is
            value = float(value)
        problem = coordinate_problem(value, axis, name=name)
        if problem is not None:
            raise _fail(problem)
        return float(value)

    return check


def _lonlat_pair(name: str) -> Callable[[Any], tuple[float, float]]:
    def check(value: Any) -> tuple[float, float]:
        parts = str(value).split(",")
        if len(parts) != 2:
            raise _fail(f"Expected {name} as 'lon,lat', got {value!r}")
        return _coordinate("lon", name)(parts[0]), _coordinate("lat", name)(parts[1])

    return check


def _bbox(value: Any) -> tuple[float, float, float, float]:
    parts = str(value).split(",")
    if len(parts) != 4:
        msg = f"Expected bbox as 'minlon,minlat,maxlon,maxlat' (4 numbers), got {value!r}"
        raise _fail(msg)
    lon = _coordinate("lon", "bbox")
    lat = _coordinate("lat", "bbox")
    minlon, minlat, maxlon, maxlat = lon(parts[0]), lat(parts[1]), lon(parts[2]), lat(parts[3])
    if minlon > maxlon or minlat > maxlat:
        msg = (
            "Expected bbox as 'minlon,minlat,maxlon,maxlat' with min <= max, got "
            f"{value!r} (are the corners swapped?)"
        )
        raise _fail(msg)
    return minlon, minlat, maxlon, maxlat


def _choices(name: str, valid: Sequence[str]) -> Callable[[Any], list[str]]:
    def check(values: Any) -> list[str]:
        chosen: list[str] = []
        for value in _split(values):
            if value not in valid:
                raise _fail(f"Expected {name} to be one of {', '.join(valid)}, got {value!r}")
            if value not in chosen:
                chosen.append(value)
        return chosen

    return check


def _lang(value: Any) -> str:
    lang = str(value).strip().lower().split("-")[0]
    try:
        return check_language(lang)
    except ParameterError:
        raise _fail(f"Expected lang to be one of {', '.join(LANGUAGES)}, got {value!r}") from None


def _page_lang(value: Any) -> str | None:
    """A page's ``lang``: one we speak, else ``None`` (the page falls back, never refuses)."""
    lang = str(value).strip().lower().split("-")[0]
    return lang if lang in LANGUAGES else None


def _open_at(value: Any) -> datetime | None:
    try:
        return parse_open_at(value)
    except ValueError as exc:
        raise _fail(str(exc)) from None


def _minutes(value: Any) -> list[int]:
    values: list[int] = []
    for part in _split(value):
        try:
            values.append(int(part))
        except ValueError:
            msg = f"Expected minutes as comma-separated whole numbers like '5,10,15', got {value!r}"
            raise _fail(msg) from None
    for minute in values:
        if not 1 <= minute <= MAX_MINUTES:
            raise _fail(f"Expected each of minutes in [1, {MAX_MINUTES}], got {minute}")
    return sorted(set(values))


# ------------------------------------------------------------------------------ field types

_Lon = Annotated[float, Field(ge=LON_RANGE[0], le=LON_RANGE[1])]
_Lat = Annotated[float, Field(ge=LAT_RANGE[0], le=LAT_RANGE[1])]
_LonLat = tuple[_Lon, _Lat]
_KIND_DOC = "Station kind(s), repeated or comma-separated."
_AMENITY_DOC = "Required amenities (all of them), repeated or comma-separated."
_OPEN_AT_DOC = (
    "Only stations open at this time: ISO 8601 date-time (local time of the station when no "
    "offset is given), `HH:MM` today, or `now`."
)
_LANG_DOC = "Language of station names where a variant exists."


Kinds = Annotated[list[str], BeforeValidator(_choices("kind", KINDS))]
Amenities = Annotated[list[str], BeforeValidator(_choices("amenity", AMENITIES))]
Lang = Annotated[str | None, BeforeValidator(_lang)]
PageLang = Annotated[str | None, BeforeValidator(_page_lang)]
OpenAt = Annotated[
    datetime | None,
    BeforeValidator(_open_at),
    Field(
        description=_OPEN_AT_DOC,
        json_schema_extra={
            "anyOf": [
                {"type": "string", "format": "date-time"},
                {"type": "string", "pattern": r"^\d{1,2}:\d{2}$"},
                {"const": "now"},
            ],
            "examples": ["2026-01-15T08:30", "12:30", "now"],
        },
    ),
]


def _enum_items(values: Sequence[str]) -> JsonDict:
    return {"items": {"type": "string", "enum": list(values)}}


class Query(BaseModel):
    """Base of the query models: unknown parameters are ignored, known ones checked."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _Filters(Query):
    kind: Kinds = Field(
        default_factory=list, description=_KIND_DOC, json_schema_extra=_enum_items(KINDS)
    )
    amenity: Amenities = Field(
        default_factory=list, description=_AMENITY_DOC, json_schema_extra=_enum_items(AMENITIES)
    )
    open_at: OpenAt = None
    lang: Lang = Field(None, description=_LANG_DOC, json_schema_extra={"enum": list(LANGUAGES)})


class StationsQuery(_Filters):
    """``GET /api/stations``."""

    bbox: Annotated[tuple[_Lon, _Lat, _Lon, _Lat] | None, BeforeValidator(_bbox)] = Field(
        None,
        description="minlon,minlat,maxlon,maxlat (WGS-84, min before max).",
        json_schema_extra={**COMMA_SEPARATED, "examples": [[24.92, 60.16, 24.96, 60.18]]},
    )
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Page size.")
    offset: int = Field(0, ge=0, le=10**9, description="Features to skip.")


class StationQuery(Query):
    """``GET /api/stations/<id>``."""

    open_at: OpenAt = None
    lang: Lang = Field(None, description=_LANG_DOC, json_schema_extra={"enum": list(LANGUAGES)})


_MINUTE: JsonDict = {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES}


class _Origin(Query):
    lon: Annotated[float, BeforeValidator(_coordinate("lon", "lon"))] = Field(
        ge=LON_RANGE[0], le=LON_RANGE[1], description="Longitude (WGS-84).", examples=[24.9384]
    )
    lat: Annotated[float, BeforeValidator(_coordinate("lat", "lat"))] = Field(
        ge=LAT_RANGE[0], le=LAT_RANGE[1], description="Latitude (WGS-84).", examples=[60.1699]
    )


class NearestQuery(_Filters, _Origin):
    """``GET /api/nearest``."""

    k: int = Field(DEFAULT_K, ge=1, le=MAX_K, description="How many stations.")
    at: OpenAt = Field(
        None,
        description=(
            "When to evaluate `open`, `hours_today` and `next_change` without filtering "
            "(default: open_at, else now); same forms as open_at. Pages send the phone's "
            "own clock as an instant (`2026-01-15T04:30:00Z`): each station reads it in its "
            "own time zone."
        ),
    )


class IsochroneQuery(_Origin):
    """``GET /api/isochrone``."""

    minutes: Annotated[list[int], BeforeValidator(_minutes)] = Field(
        default_factory=lambda: [5, 10, 15],
        min_length=1,
        max_length=MAX_BUDGETS,
        description=f"1-{MAX_BUDGETS} comma-separated whole minutes, each 1-{MAX_MINUTES}.",
        json_schema_extra={**COMMA_SEPARATED, "items": _MINUTE},
    )


class RouteQuery(Query):
    """``GET /api/route``."""

    origin: Annotated[_LonLat, BeforeValidator(_lonlat_pair("from"))] = Field(
        alias="from",
        description="lon,lat of the start.",
        json_schema_extra={**COMMA_SEPARATED, "examples": [[24.9384, 60.1699]]},
    )
    destination: Annotated[_LonLat, BeforeValidator(_lonlat_pair("to"))] = Field(
        alias="to",
        description="lon,lat of the end.",
        json_schema_extra={**COMMA_SEPARATED, "examples": [[24.9414, 60.1710]]},
    )


class OEmbedQuery(Query):
    """``GET /oembed``."""

    url: str = Field(
        description="An /embed/... URL of this site.", min_length=1, max_length=MAX_URL
    )
    format: str = Field(
        "json",
        description="Only json is served; any other format answers 501, as oEmbed asks.",
        json_schema_extra={"enum": ["json"]},
    )
    maxwidth: int | None = Field(None, ge=1, le=MAX_EMBED_SIZE, description="Largest width.")
    maxheight: int | None = Field(None, ge=1, le=MAX_EMBED_SIZE, description="Largest height.")


class PageQuery(Query):
    """Pages without map parameters (planner, its download)."""

    lang: PageLang = Field(
        None,
        description=(
            f"Interface language: {', '.join(LANGUAGES)}. Any other value falls back to "
            "Accept-Language, then zh."
        ),
        json_schema_extra={"examples": list(LANGUAGES)},
    )


class PlannerQuery(PageQuery):
    """``GET /planner``: the loaded plan, or a planning job's result."""

    job: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{12}$",
        description="A finished planning job's id (from POST /api/planner/jobs).",
    )


class PlannerDownloadQuery(PlannerQuery):
    """``GET /planner/download``."""

    format: Literal["html", "csv", "geojson", "gtfs"] = Field(
        "html",
        description="html: the page, standalone; csv: every call of every trip; geojson: the "
        "trips; gtfs: a GTFS feed (zip).",
    )


class _MapView(PageQuery):
    center: Annotated[_LonLat | None, BeforeValidator(_lonlat_pair("center"))] = Field(
        None, description="lon,lat of the map centre.", json_schema_extra=COMMA_SEPARATED
    )
    zoom: int | None = Field(None, ge=1, le=19, description="Map zoom.")


class LocatorQuery(_MapView):
    """``GET /``: the locator page."""

    kind: Kinds = Field(
        default_factory=list,
        description="Station kinds shown, repeated or comma-separated.",
        json_schema_extra=_enum_items(KINDS),
    )
    amenity: Amenities = Field(
        default_factory=list, description=_AMENITY_DOC, json_schema_extra=_enum_items(AMENITIES)
    )


class EmbedQuery(_MapView):
    """``GET /embed/<name>``."""

    kind: Annotated[list[str], BeforeValidator(_choices("kinds", KINDS))] = Field(
        default_factory=list,
        description="Station kinds shown (`stations` embed), repeated or comma-separated.",
        json_schema_extra=_enum_items(KINDS),
    )
    kinds: Annotated[list[str], BeforeValidator(_choices("kinds", KINDS))] = Field(
        default_factory=list,
        description="The same as `kind`.",
        json_schema_extra=_enum_items(KINDS),
    )


# --------------------------------------------------------------------- coverage and siting

#: Demand layers the HTTP API offers (user files are for the command line).
COVERAGE_LAYERS = ("streets", "homes", "hotspots")
#: Budgets of one coverage request: at most this many, each at most MAX_COVERAGE_MINUTES.
MAX_COVERAGE_BUDGETS = 3
MAX_COVERAGE_MINUTES = 30
#: Gap cells listed at most.
MAX_GAPS = 50


def _coverage_minutes(value: Any) -> list[int]:
    values = _minutes_list(value)
    if len(values) > MAX_COVERAGE_BUDGETS:
        msg = f"Expected at most {MAX_COVERAGE_BUDGETS} budgets in minutes, got {len(values)}"
        raise _fail(msg)
    for minute in values:
        if not 1 <= minute <= MAX_COVERAGE_MINUTES:
            raise _fail(f"Expected each of minutes in [1, {MAX_COVERAGE_MINUTES}], got {minute}")
    return values


def _minutes_list(value: Any) -> list[int]:
    values: list[int] = []
    for part in _split(value):
        try:
            values.append(int(part))
        except ValueError:
            msg = f"Expected minutes as comma-separated whole numbers like '5,10,15', got {value!r}"
            raise _fail(msg) from None
    return sorted(set(values))


def _week_time(value: Any) -> str | None:
    from stations.weekly import parse_week_time

    try:
        parse_week_time(str(value))
    except ValueError as exc:
        raise _fail(str(exc)) from None
    return str(value).strip()


def _week(value: Any) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise _fail(f"Expected week as a date YYYY-MM-DD, got {value!r}") from None


_COVERAGE_MINUTE: JsonDict = {"type": "integer", "minimum": 1, "maximum": MAX_COVERAGE_MINUTES}
_COVERAGE_MINUTES = Field(
    default_factory=lambda: [5, 10, 15],
    description=(
        f"1-{MAX_COVERAGE_BUDGETS} comma-separated whole minutes, each 1-{MAX_COVERAGE_MINUTES}."
    ),
    json_schema_extra={
        **COMMA_SEPARATED,
        "items": _COVERAGE_MINUTE,
        "maxItems": MAX_COVERAGE_BUDGETS,
    },
)


class _CoverageBase(Query):
    kind: Annotated[str | None, BeforeValidator(lambda v: _choices("kind", KINDS)(v)[0])] = Field(
        None, description="Only stations of this kind.", json_schema_extra={"enum": list(KINDS)}
    )
    minutes: Annotated[list[int], BeforeValidator(_coverage_minutes)] = _COVERAGE_MINUTES
    week: Annotated[Any, BeforeValidator(_week)] = Field(
        None,
        description="Any date of the reference week (holidays follow it); default this week.",
        json_schema_extra={"type": "string", "format": "date"},
    )


class _CoverageAt(_CoverageBase):
    at: Annotated[str | None, BeforeValidator(_week_time)] = Field(
        None,
        description="Only stations open then: `Tu 12:00` (day of the week, 24 h) or ISO 8601.",
        examples=["Tu 12:00"],
    )


class CoverageStreetsQuery(_CoverageAt):
    """``GET /api/coverage/streets``."""

    bbox: Annotated[tuple[_Lon, _Lat, _Lon, _Lat] | None, BeforeValidator(_bbox)] = Field(
        None, description="minlon,minlat,maxlon,maxlat: streets with an end inside.",
        json_schema_extra=COMMA_SEPARATED,
    )  # fmt: skip


class CoverageQuery(_CoverageAt):
    """``GET /api/coverage``."""

    demand: Annotated[list[str], BeforeValidator(_choices("demand", COVERAGE_LAYERS))] = Field(
        default_factory=lambda: list(COVERAGE_LAYERS),
        description="Demand layers, comma-separated.",
        json_schema_extra={**COMMA_SEPARATED, **_enum_items(COVERAGE_LAYERS)},
    )
    gaps: int = Field(10, ge=0, le=MAX_GAPS, description="Gap cells to list.")


class HoursQuery(_CoverageBase):
    """``GET /api/coverage/hours``."""

    demand: Annotated[list[str], BeforeValidator(_choices("demand", COVERAGE_LAYERS))] = Field(
        default_factory=lambda: ["streets"],
        description="Demand layers, comma-separated.",
        json_schema_extra={**COMMA_SEPARATED, **_enum_items(COVERAGE_LAYERS)},
    )


# ---------------------------------------------------------------------------------- parsing


@cache
def _list_fields(model: type[Query]) -> frozenset[str]:
    """Parameters that may repeat (lists not given comma-separated in one value)."""
    out = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if get_origin(info.annotation) is list and not extra.get("x-comma-separated"):
            out.add(info.alias or name)
    return frozenset(out)


def parse_query(model: type[Q], args: Mapping[str, Any]) -> Q:
    """Check ``args`` (``request.args``) against ``model``; raise :class:`ParameterError`.

    Empty values count as absent; parameters that may repeat are read with ``getlist``.
    """
    repeated = _list_fields(model)
    raw: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in repeated:
            getlist = getattr(args, "getlist", None)
            values = getlist(key) if getlist else [args[key]] if key in args else []
            if values:
                raw[key] = values
            continue
        value = args.get(key)
        if value is not None and str(value).strip() != "":
            raw[key] = str(value).strip()
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ParameterError(_message(model, exc.errors()[0])) from None


def _bounds(model: type[Query], name: str) -> tuple[Any, Any]:
    info = model.model_fields.get(name)
    low = high = None
    for item in info.metadata if info is not None else ():
        low = getattr(item, "ge", low)
        high = getattr(item, "le", high)
    return low, high


def _message(model: type[Query], error: Any) -> str:
    """A pydantic error as the package's "Expected X, got Y" sentence."""
    kind = error["type"]
    loc = error.get("loc") or ("?",)
    name = str(loc[0])
    given = error.get("input")
    if kind == "warmheart":
        return str(error["msg"])
    if kind == "missing":
        return f"Expected parameter {name!r}, got nothing"
    if kind.startswith("int_"):
        return f"Expected {name} to be an integer, got {given!r}"
    if kind.startswith("float_"):
        return f"Expected {name} to be a number, got {given!r}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        field = next((n for n, f in model.model_fields.items() if (f.alias or n) == name), name)
        low, high = _bounds(model, field)
        if low is not None and high is not None:
            return f"Expected {name} in [{low}, {high}], got {given}"
        return (
            f"Expected {name} {error['msg'].lower().removeprefix('input should be ')}, got {given}"
        )
    if kind == "string_too_long":
        size = len(given) if isinstance(given, str) else "more"
        return f"Expected {name} of at most {error['ctx']['max_length']} characters, got {size}"
    if kind in ("too_short", "too_long"):
        ctx = error.get("ctx", {})
        return (
            f"Expected {name} with {ctx.get('min_length', 1)} to {ctx.get('max_length')} values, "
            f"got {ctx.get('actual_length')}"
        )
    return f"Expected {name}: {error['msg']}, got {given!r}"
