"""Opening hours for people: ``Mo-Fr 09:00-17:00`` as "周一至周五 09:00–17:00" in the page language.

Nothing here parses the OSM syntax: opening-hours-py evaluates the expression over a
reference week (:data:`REFERENCE_MONDAY`, no holiday calendar) and the days with the same
open intervals are grouped (``Mo-Fr``, ``Sa``, ``Su``), so any expression the registry
accepts gets a summary — month rules and week numbers aside, which the summary of one week
cannot show (:func:`describe_week` says so by returning ``None``, and the page shows the raw
expression). Public holidays (``PH``) are shown as the expression's state on New Year's Day
under the Chinese calendar (a public holiday everywhere the project runs).

:func:`today_and_next` gives a station's intervals today and its next change, in the
station's own time zone (from its coordinates, as :meth:`stations.model.Station.is_open`
uses), for the locator's "今日 09:00–17:00 营业" and "明天 09:00 开门".
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from stations.hours import parse_opening_hours

from .i18n import Translator

if TYPE_CHECKING:
    from stations.model import Station

__all__ = ["DAYS", "describe_week", "today_and_next"]

#: Day keys of the messages (``day.mo`` ...), Monday first.
DAYS = ("mo", "tu", "we", "th", "fr", "sa", "su")
#: A Monday with no holiday anywhere near it under no calendar (the summary's week).
REFERENCE_MONDAY = date(2030, 1, 7)
#: The public holiday whose state stands for ``PH`` (New Year's Day, under China's calendar).
HOLIDAY = date(2030, 1, 1)
#: Words that make one week a misleading summary: show the raw expression instead.
_NOT_WEEKLY = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
    "week",
    "easter",
    "SH",
    "sunrise",
    "sunset",
    "dawn",
    "dusk",
    "unknown",
)

Interval = tuple[str, str]


def _clock(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


def _open_spans(parsed: Any, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Merged open intervals of ``parsed`` between ``start`` and ``end``."""
    spans: list[tuple[datetime, datetime]] = []
    for begin, finish, state, _ in parsed.intervals(start, end):
        if str(state).rsplit(".", 1)[-1].upper() != "OPEN":
            continue
        if spans and spans[-1][1] == begin:
            spans[-1] = (spans[-1][0], finish)
        else:
            spans.append((begin, finish))
    return spans


def _labels(spans: list[tuple[datetime, datetime]], day: date) -> tuple[Interval, ...]:
    """``(start, end)`` clock labels of the spans starting on ``day`` (22:00–06:00 kept whole)."""
    midnight = datetime.combine(day + timedelta(days=1), datetime.min.time())
    out = []
    for begin, finish in spans:
        if begin.date() != day:
            continue
        naive_end = finish.replace(tzinfo=None)
        out.append((_clock(begin), "24:00" if naive_end == midnight else _clock(finish)))
    return tuple(out)


def _day_intervals(parsed: Any, day: date) -> tuple[Interval, ...]:
    """Open intervals that start on ``day`` (an overnight one keeps its end: 22:00–06:00)."""
    start = datetime.combine(day, datetime.min.time())
    return _labels(_open_spans(parsed, start - timedelta(days=1), start + timedelta(days=2)), day)


def _hours(intervals: tuple[Interval, ...]) -> str:
    return ", ".join(f"{a}–{b}" for a, b in intervals)


@lru_cache(maxsize=4096)
def describe_week(expr: str | None, lang: str) -> str | None:
    """The weekly hours of ``expr`` in words of ``lang``; ``None`` when one week cannot say.

    >>> describe_week("Mo-Fr 09:00-17:00; PH off", "zh")
    '周一至周五 09:00–17:00，周六、周日休息；节假日休息'
    """
    if not expr:
        return None
    if any(word in expr for word in _NOT_WEEKLY):
        return None
    t = Translator(lang)
    parsed = parse_opening_hours(expr)
    monday = datetime.combine(REFERENCE_MONDAY, datetime.min.time())
    week = _open_spans(parsed, monday, monday + timedelta(days=7))
    if len(week) == 1 and week[0][0] == monday and week[0][1] == monday + timedelta(days=7):
        text = t("hours.always")
    else:
        days = [_day_intervals(parsed, REFERENCE_MONDAY + timedelta(days=i)) for i in range(7)]
        text = _group(days, t) if any(days) else t("hours.closed")
    if "PH" in expr:
        holiday = parse_opening_hours(expr, country="CN")
        spans = _day_intervals(holiday, HOLIDAY)
        text += t("hours.sep") + t(
            "hours.holidays", hours=_hours(spans) if spans else t("hours.closed_short")
        )
    return text


def _group(days: list[tuple[Interval, ...]], t: Translator) -> str:
    """Days with the same hours together (``Mo-Fr``; ``Mo, We, Fr``), in week order."""
    groups: dict[tuple[Interval, ...], list[int]] = {}
    for i, hours in enumerate(days):
        groups.setdefault(hours, []).append(i)
    if len(groups) == 1:
        return t("hours.day_hours", days=t("hours.daily"), hours=_hours(days[0]))
    parts = [
        t("hours.day_hours", days=_day_list(indexes, t), hours=_hours(hours))
        for hours, indexes in groups.items()
        if hours
    ]
    if () in groups:
        parts.append(t("hours.closed_on", days=_day_list(groups[()], t)))
    return t("hours.list_sep").join(parts)


def _day_list(indexes: list[int], t: Translator) -> str:
    runs: list[list[int]] = []
    for i in indexes:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return t("hours.and").join(_days(run[0], run[-1], t) for run in runs)


def _days(first: int, last: int, t: Translator) -> str:
    if first == last:
        return t(f"day.{DAYS[first]}")
    if last == first + 1:
        return t("hours.and").join((t(f"day.{DAYS[first]}"), t(f"day.{DAYS[last]}")))
    return t("hours.day_range", first=t(f"day.{DAYS[first]}"), last=t(f"day.{DAYS[last]}"))


def today_and_next(station: Station, at: datetime) -> dict[str, Any]:
    """Today's open intervals and the next change of ``station`` at ``at``, in its time zone.

    ``at`` is an instant (aware) or local time at the station (naive), as for
    :meth:`~stations.model.Station.is_open`.

    Returns
    -------
    dict
        ``local_time`` (ISO 8601: ``at`` at the station, with its offset when ``at`` is
        aware), ``hours_today`` (``[["09:00", "17:00"], ...]`` opening today, local time;
        ``None`` when the hours are unknown) and ``next_change`` (ISO 8601 of the next
        opening or closing within 8 days; ``None`` if none).
    """
    if not station.opening_hours:
        return {"local_time": None, "hours_today": None, "next_change": None}
    parsed = parse_opening_hours(station.opening_hours, coords=(station.lat, station.lon))
    local = at
    if at.tzinfo is not None:
        first = next(iter(parsed.intervals(at, at + timedelta(minutes=1))), None)
        zone = first[0].tzinfo if first is not None else None
        local = at.astimezone(zone) if zone is not None else at
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    spans = _open_spans(parsed, midnight, midnight + timedelta(days=1))
    today = [
        [_clock(a), "24:00" if b.replace(tzinfo=None).date() != local.date() else _clock(b)]
        for a, b in spans
    ]
    change = parsed.next_change(at)
    if change is not None and change.replace(tzinfo=None) > local.replace(tzinfo=None) + timedelta(
        days=8
    ):
        change = None
    return {
        "local_time": local.isoformat(timespec="minutes"),
        "hours_today": today,
        "next_change": change.isoformat(timespec="minutes") if change is not None else None,
    }
