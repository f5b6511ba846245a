"""Cell values as people write them, turned into station field values, with what was changed.

Readers hand over cells under field names; :func:`interpret_row` reads them the way a union's
list means them: kinds, hosts, access and ratings written in words (``暖心驿站``, ``银行``,
``市级示范``), amenities as a list of words (``微波炉、饮水``), opening hours in Chinese
(``周一至周五 8:00-18:00``), numbers typed into text columns (a phone number Excel stored as a
number), ``10人`` for a capacity, ``116.48°`` for a longitude. Every value changed is listed
(:class:`Interpreted`), and what cannot be read is reported for the row and kept in ``notes``:
unknown amenity words, opening hours that are neither OSM syntax nor readable Chinese. Nothing is
dropped silently and nothing is guessed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import time
from typing import Any

from routing.problems import RowProblem

from ._errors import OpeningHoursError
from ._hours_zh import HoursTextError, hours_from_chinese
from ._words import amenities_from_text, choice_from_text
from .hours import parse_opening_hours

__all__ = ["Interpreted", "interpret_row"]

_TEXT_FIELDS = ("id", "name", "address", "contact", "notes", "source")
_CHOICES = ("kind", "host_type", "access", "certification")
_LISTS = ("amenities", "seven_have")
_CAPACITY = re.compile(r"^\s*(\d+)\s*(?:人|位|名|个|persons?|people|seats?)?\s*$", re.IGNORECASE)
_CJK = re.compile(r"[\u3400-\u9fff]")
_DEGREES = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*°?\s*[EN]?\s*$", re.IGNORECASE)


@dataclass
class Interpreted:
    """One row's field values after interpretation, and what happened on the way.

    Attributes
    ----------
    values
        Field values ready for :class:`~stations.model.Station` (still unvalidated).
    changes
        ``(field, as written, as read)`` for every value that was rewritten (Chinese hours
        to OSM syntax, words to vocabulary names), for the report.
    warnings
        Values that could not be read and were kept in ``notes`` instead (the import goes on;
        ``strict`` imports refuse them).
    """

    values: dict[str, Any]
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)


def _as_text(value: Any) -> Any:
    """Numbers a spreadsheet stored in a text column, as the text the person typed."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _hours(row: int, value: Any, out: Interpreted, notes: list[str]) -> str | None:
    """OSM syntax as given; else Chinese (or other non-ASCII) text read into OSM syntax; else
    a warning, the text kept in ``notes`` and the hours left unknown."""
    if isinstance(value, time):  # a cell Excel turned into a time of day: not a schedule
        value = value.strftime("%H:%M")
    text = str(value).strip()
    osm_error: OpeningHoursError | None = None
    if text.isascii():
        try:
            parse_opening_hours(text)
        except OpeningHoursError as exc:
            osm_error = exc
        else:
            return text
    try:
        converted = hours_from_chinese(text)
        parse_opening_hours(converted)
    except (HoursTextError, OpeningHoursError) as exc:
        if osm_error is None:
            try:  # OSM syntax with Chinese in it, e.g. a quoted comment
                parse_opening_hours(text)
            except OpeningHoursError as osm:
                osm_error = osm
            else:
                return text
        chinese = isinstance(exc, HoursTextError) and _CJK.search(text)
        detail = str(exc) if chinese else str(osm_error)
        msg = f"could not read {text!r}: {detail}; kept in notes, hours left unknown"
        out.warnings.append(RowProblem(row, "opening_hours", msg))
        notes.append(f"opening hours as given: {text}")
        return None
    out.changes.append(("opening_hours", text, converted))
    return converted


def _number(value: Any, pattern: re.Pattern[str]) -> Any:
    if not isinstance(value, str):
        return value
    match = pattern.match(unicodedata.normalize("NFKC", value))
    return match.group(1) if match else value


def interpret_row(
    row: int,
    values: dict[str, Any],
    *,
    extra: list[tuple[str, Any]] | None = None,
    kind: str | None = None,
) -> Interpreted:
    """Read one row's cells the way people write them (see the module notes).

    Parameters
    ----------
    row
        The row number, for the warnings.
    values
        Cells under field names, as the reader produced them.
    extra
        ``(header, value)`` of columns no field took: kept in ``notes`` as ``header: value``.
    kind
        The kind for rows that have none (``--kind``).
    """
    out = Interpreted(dict(values))
    v = out.values
    notes: list[str] = []
    for name in _TEXT_FIELDS:
        if name in v:
            v[name] = _as_text(v[name])
    if kind is not None and not v.get("kind"):
        v["kind"] = kind
    for name in _CHOICES:
        given = v.get(name)
        chosen = choice_from_text(name, given)
        if chosen != given:
            out.changes.append((name, str(given), str(chosen)))
            v[name] = chosen
    for name in _LISTS:
        given = v.get(name)
        if given is None or isinstance(given, dict):
            continue
        found, unknown = amenities_from_text(given, field=name)
        written = given if isinstance(given, str) else ";".join(map(str, given))
        if written != ";".join(found):
            out.changes.append((name, written, ";".join(found) or "(none)"))
        if unknown:
            words = "、".join(unknown)
            msg = f"unknown words {words} (not in the vocabulary); kept in notes"
            out.warnings.append(RowProblem(row, name, msg))
            notes.append(f"{name} not in the vocabulary: {words}")
        v[name] = found
    if v.get("opening_hours") is not None:
        v["opening_hours"] = _hours(row, v["opening_hours"], out, notes)
    if "capacity" in v:
        v["capacity"] = _number(v["capacity"], _CAPACITY)
    for name in ("lon", "lat"):
        if name in v:
            v[name] = _number(v[name], _DEGREES)
    for header, value in extra or []:
        if value is not None and str(value).strip():
            notes.append(f"{header}: {_as_text(value)}")
    if notes:
        v["notes"] = "; ".join([str(v["notes"]), *notes] if v.get("notes") else notes)
    return out
