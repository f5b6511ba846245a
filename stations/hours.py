"""OSM ``opening_hours`` expressions, parsed and evaluated with opening-hours-py.

The parser is the maintained Rust implementation behind the ``opening_hours`` module (PyPI
``opening-hours-py``); nothing here parses times by hand. Before parsing,
:func:`clean_opening_hours` fixes only the slips that are common in hand-typed station
lists and unambiguous (full-width punctuation, en dashes, a trailing ``;``, line breaks
between rules, lowercase ``ph``/``sh``); anything else that does not parse raises
:class:`~stations._errors.OpeningHoursError` naming the line and column the parser stopped at.

Evaluation semantics
--------------------
* A naive ``datetime`` is read as local time at the station.
* An aware ``datetime`` is converted to the station's time zone when the station's coordinates
  are passed (the library infers time zone and country from them); without coordinates the
  wall-clock time is used as is.
* Public holidays (``PH``) are honoured when coordinates (or ``country``) are given, using the
  library's holiday calendars (mainland China, Finland, Liechtenstein, ... are covered).
* ``is_open`` returns ``None`` when the expression is missing or its state at that time is
  ``unknown`` (e.g. ``"Mo-Fr 08:00-18:00 unknown"``).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING

import opening_hours as _oh

from ._errors import OpeningHoursError

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["clean_opening_hours", "is_open", "parse_opening_hours"]

logger = logging.getLogger(__name__)

_FULL_WIDTH = str.maketrans(
    {
        "：": ":",
        "；": ";",
        "，": ",",
        "－": "-",
        "–": "-",  # en dash
        "—": "-",  # em dash
        "～": "-",
        "~": "-",
        "　": " ",
        **{chr(0xFF10 + d): str(d) for d in range(10)},  # full-width digits
    }
)
# The type stub of opening_hours does not declare its exception classes.
_PARSER_ERROR: type[Exception] = getattr(_oh, "ParserError")  # noqa: B009
_PLACE_ERRORS: tuple[type[Exception], ...] = (
    getattr(_oh, "UnknownCountryError"),  # noqa: B009
    getattr(_oh, "InvalidCoordinatesError"),  # noqa: B009
)
_POSITION = re.compile(r"-->\s*(\d+):(\d+)")
_EXPECTED = re.compile(r"=\s*(.+)$", re.MULTILINE)


@lru_cache(maxsize=65536)
def clean_opening_hours(expr: str) -> str:
    """Fix unambiguous typing slips in an ``opening_hours`` text; return the cleaned text.

    Full-width digits and punctuation become ASCII, dashes become ``-``, line breaks become
    rule separators, runs of spaces collapse, a trailing ``;`` is dropped and ``ph``/``sh``
    become ``PH``/``SH``. Everything else is left for the parser to judge.
    """
    text = expr.translate(_FULL_WIDTH)
    text = re.sub(r"\s*[\r\n]+\s*", "; ", text.strip())
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"(;\s*)+$", "", text).strip()
    text = re.sub(r"(?<![A-Za-z])(ph|sh)(?![A-Za-z])", lambda m: m.group(1).upper(), text)
    return text


@lru_cache(maxsize=65536)
def _parse(text: str, coords: tuple[float, float] | None, country: str | None) -> _oh.OpeningHours:
    try:
        if coords is not None:
            return _oh.OpeningHours(text, coords=coords)
        if country is not None:
            return _oh.OpeningHours(text, country=country)
        return _oh.OpeningHours(text)
    except _PARSER_ERROR as exc:
        raise _error(text, str(exc)) from None
    except _PLACE_ERRORS:
        # Holidays/time zone unavailable for this place: fall back to plain wall-clock rules.
        logger.debug("no calendar for coords=%s country=%s; ignoring", coords, country)
        return _parse(text, None, None)


def _error(text: str, detail: str) -> OpeningHoursError:
    pos = _POSITION.search(detail)
    line, column = (int(pos.group(1)), int(pos.group(2))) if pos else (None, None)
    expected = _EXPECTED.search(detail)
    why = expected.group(1).strip() if expected else "unparsable"
    where = f" at column {column}" if column is not None else ""
    if line is not None and line > 1:
        where = f" at line {line}, column {column}"
    snippet = ""
    if column is not None and line == 1:
        snippet = f" (near {text[column - 1 : column + 11]!r})" if column <= len(text) else ""
    msg = (
        f"Expected an OSM opening_hours expression (e.g. 'Mo-Fr 08:00-18:00; Sa 09:00-12:00'), "
        f"got {text!r}: parse error{where}{snippet}: {why}"
    )
    return OpeningHoursError(msg, expression=text, line=line, column=column)


def parse_opening_hours(
    expr: str,
    *,
    coords: tuple[float, float] | None = None,
    country: str | None = None,
) -> _oh.OpeningHours:
    """Parse an OSM ``opening_hours`` expression (cached).

    Parameters
    ----------
    expr
        The expression, e.g. ``"Mo-Su 22:00-02:00"`` or ``"Mo-Fr 09:00-17:00; PH off"``.
        Cleaned with :func:`clean_opening_hours` first.
    coords
        ``(lat, lon)`` of the place: enables its time zone and public holidays.
    country
        ISO 3166 code for the holiday calendar when no coordinates are given.

    Returns
    -------
    opening_hours.OpeningHours
        The parsed expression.

    Raises
    ------
    OpeningHoursError
        The text does not parse; the message says where.
    """
    if not isinstance(expr, str):
        msg = f"Expected opening_hours as a string, got {type(expr).__name__}"
        raise OpeningHoursError(msg, expression=str(expr))
    text = clean_opening_hours(expr)
    if not text:
        msg = "Expected an OSM opening_hours expression, got an empty string"
        raise OpeningHoursError(msg, expression=expr)
    if coords is not None:
        coords = (round(float(coords[0]), 5), round(float(coords[1]), 5))
    return _parse(text, coords, country.upper() if country else None)


def is_open(
    expr: str | None,
    at: datetime,
    *,
    coords: tuple[float, float] | None = None,
    country: str | None = None,
) -> bool | None:
    """Whether ``expr`` says open at ``at``; ``None`` if unknown.

    Parameters
    ----------
    expr
        OSM ``opening_hours`` text, or ``None`` for "hours not known".
    at
        The moment to test (see the module docstring for naive vs aware datetimes).
    coords, country
        As for :func:`parse_opening_hours`.

    Returns
    -------
    bool or None
        ``True`` open, ``False`` closed, ``None`` when ``expr`` is ``None`` or the rule in
        force at ``at`` is ``unknown``.
    """
    if expr is None:
        return None
    parsed = parse_opening_hours(expr, coords=coords, country=country)
    if parsed.is_unknown(at):
        return None
    return bool(parsed.is_open(at))
