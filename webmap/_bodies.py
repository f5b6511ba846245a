"""Request bodies of the station writes: read, checked against the contract, in plain words.

A body is read with orjson (1,024 levels of nesting at most, no number that overflows a
double), then validated by the write models of :mod:`webmap.schemas` — strict types
(``true`` is not a number, ``"5"`` is not a capacity), bounded lengths, vocabularies — and
turned into station fields for :class:`stations.model.Station`, which checks the rest
(opening hours, the position). Every problem is a :class:`~webmap._errors.ParameterError`
whose message names the field and says what was expected and what came, never a Python type
or a traceback.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from ._errors import ParameterError
from .schemas import MAX_CAPACITY, StationFeatureWrite, StationFields

__all__ = ["parse_json_body", "station_fields"]

#: Fields a new station must have (the position aside).
REQUIRED_ON_CREATE = ("kind", "name")
#: Computed or server-set fields, accepted on input and ignored.
IGNORED = ("open_now", "updated_at")


def parse_json_body(data: bytes, mimetype: str | None) -> dict[str, Any]:
    """The JSON object of a request body; :class:`ParameterError` for anything else."""
    if mimetype != "application/json" and not (mimetype or "").endswith("+json"):
        msg = f"Expected a JSON body (Content-Type: application/json), got {mimetype or 'none'!r}"
        raise ParameterError(msg)
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        msg = f"Expected a JSON body, got malformed JSON ({exc})"
        raise ParameterError(msg) from None
    if not isinstance(body, dict):
        msg = f"Expected a JSON object (a GeoJSON Feature), got a JSON {_json_type(body)}"
        raise ParameterError(msg)
    return body


def station_fields(body: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate a write body and return the station fields it sets.

    Parameters
    ----------
    body
        A GeoJSON Point Feature whose properties are station fields, or the fields flat with
        ``lon``/``lat``.
    partial
        An update: only the given fields change, and nothing is required.
    """
    if body.get("type") == "Feature":
        feature = _validate(StationFeatureWrite, body)
        assert isinstance(feature, StationFeatureWrite)
        fields = feature.properties.model_dump(exclude_unset=True)
        if feature.geometry is not None:
            fields["lon"], fields["lat"] = feature.geometry.coordinates
        if feature.id is not None and not fields.get("id"):
            fields["id"] = feature.id
    elif "type" in body:
        given = body["type"]
        shown = repr(given) if isinstance(given, str) else f"a JSON {_json_type(given)}"
        msg = f"Expected type 'Feature' (or no type: a plain station object), got {shown[:60]}"
        raise ParameterError(msg)
    else:
        fields = _validate(StationFields, body).model_dump(exclude_unset=True)
    for key in IGNORED:
        fields.pop(key, None)
    if not partial:
        missing = [k for k in REQUIRED_ON_CREATE if fields.get(k) in (None, "")]
        if fields.get("lon") is None or fields.get("lat") is None:
            missing.append("a position (geometry [lon, lat] or lon and lat)")
        if missing:
            msg = f"Expected a new station to have {', '.join(missing)}, got none"
            raise ParameterError(msg)
    return fields


def _validate(model: type[BaseModel], body: Mapping[str, Any]) -> BaseModel:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ParameterError(_message(exc.errors()[0])) from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _shown(value: Any) -> str:
    """A given value as the message shows it: JSON type and a short excerpt."""
    if isinstance(value, str):
        text = value if len(value) <= 60 else value[:57] + "..."
        return repr(text) if len(value) <= 60 else f"{text!r} ({len(value)} characters)"
    if isinstance(value, dict | list):
        return f"a JSON {_json_type(value)}"
    if isinstance(value, bool) or value is None:
        return orjson.dumps(value).decode()
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _where(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if item in ("properties", "function-after", "str", "list[str]", "none"):
            continue
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        elif "[" in str(item) or item in ("float", "int", "bool"):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts) or "body"


def _message(error: Mapping[str, Any]) -> str:
    """One pydantic error as "Expected X, got Y" naming the field."""
    kind = str(error["type"])
    where = _where(tuple(error.get("loc") or ()))
    given = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return f"Expected {where}, got nothing"
    if kind == "extra_forbidden":
        valid = ", ".join(StationFields.model_fields)
        return f"Expected station fields from {valid}; got unknown field {where!r}"
    if kind == "choice":
        return f"Expected {where} to be one of {ctx['valid']}, got {_shown(ctx['given'])}"
    if kind == "unique":
        return f"Expected each of {where} once, got {_shown(ctx['given'])}"
    if kind == "string_type":
        return f"Expected {where} as text, got {_shown(given)}"
    if kind in ("float_type", "float_parsing", "finite_number"):
        return f"Expected {where} as a number, got {_shown(given)}"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"Expected {where} as a whole number, got {_shown(given)}"
    if kind == "bool_type":
        return f"Expected {where} as true or false, got {_shown(given)}"
    if kind in ("greater_than_equal", "less_than_equal"):
        low, high = _range(where)
        return f"Expected {_label(where)} in [{low}, {high}], got {_shown(given)}"
    if kind == "string_too_long":
        size = len(given) if isinstance(given, str) else "more"
        return f"Expected {where} of at most {ctx.get('max_length')} characters, got {size}"
    if kind == "string_pattern_mismatch":
        if where.endswith("id"):
            return (
                f"Expected {where} as 1-128 letters, digits or punctuation other than "
                f"/ \\ ? # % & \" ' < > [ ] {{ }} | ^ ` (no spaces), got {_shown(given)}"
            )
        return f"Expected {where} to be a language code such as zh, en, ja, ko, got {_shown(given)}"
    if kind in ("too_long", "too_short"):
        return (
            f"Expected {where} with {ctx.get('min_length', 0)} to {ctx.get('max_length')} "
            f"items, got {ctx.get('actual_length')}"
        )
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"Expected {where} as a JSON object, got {_shown(given)}"
    if kind in ("list_type", "tuple_type"):
        return f"Expected {where} as a JSON array, got {_shown(given)}"
    if kind == "literal_error":
        return f"Expected {where} to be {ctx.get('expected')}, got {_shown(given)}"
    return f"Expected a valid {where}, got {_shown(given)}"


def _label(where: str) -> str:
    """The field with its meaning for coordinates: ``lat (latitude)``."""
    if where.endswith(("lat", "coordinates[1]")):
        return f"{where} (latitude)"
    if where.endswith(("lon", "coordinates[0]")):
        return f"{where} (longitude)"
    return where


def _range(where: str) -> tuple[float, float]:
    if where.startswith("capacity"):
        return 0, MAX_CAPACITY
    if where.endswith(("lat", "coordinates[1]")):
        return -90, 90
    return -180, 180
