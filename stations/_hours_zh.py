"""Opening hours written in Chinese, read into OSM ``opening_hours`` syntax.

Station lists say ``周一至周五 8:00-18:00``, ``工作日 9:00—17:00 节假日除外``, ``每天 上午8点至12点
下午2点至6点``, ``24小时``. :func:`hours_from_chinese` turns such text into an expression that
opening-hours-py evaluates (``Mo-Fr 08:00-18:00``, ``Mo-Fr 09:00-17:00; PH off``,
``Mo-Su 08:00-12:00,14:00-18:00``, ``24/7``) or raises :class:`HoursTextError` saying which
part it could not read. It never guesses: text it does not understand, times "about" something
(``8点左右``), or a range that ends before it starts during the day (``8:00-5:00``) are errors,
not schedules.

Understood, in any combination and order (rules later in the text override earlier ones for
the same days, as in OSM):

* days: ``周一``/``星期一``/``礼拜一`` ... ``周日``/``周天``, ranges (``周一至周五``, ``周一到五``,
  ``周一-周五``), lists (``周一、周三、周五``), ``工作日`` (Mo-Fr, closed on public holidays),
  ``平日``, ``周末``/``双休日``, ``每天``/``每日``/``全周``/``全年无休``;
* times: ``8:00``, ``08：30``, ``8点``, ``8点半``, ``8点30分``, ``8时``; ranges with ``-``, ``—``,
  ``–``, ``~``, ``～``, ``至``, ``到``; ``上午``/``早上``/``中午``/``下午``/``傍晚``/``晚上``/
  ``凌晨`` (``下午2:00-6:00`` is 14:00-18:00); past midnight from the evening (``22:00-次日
  6:00``); several ranges (``8:00-12:00，14:00-18:00``);
  ``全天``/``24小时`` (all day, ``24/7`` without days);
* closed: ``周日休息``, ``周末闭馆``, ``不开放``; public holidays: ``节假日除外``,
  ``法定节假日休息`` (``PH off``), ``节假日 9:00-12:00`` (``PH 09:00-12:00``).

Words that say nothing about the schedule (``开放``, ``营业``, ``时间``, ``服务``, ``：``) are
skipped; anything else is an error.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from routing._errors import WarmheartError

__all__ = ["HoursTextError", "hours_from_chinese"]

_DAY_NAMES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_DAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_DAY_CHARS.update({str(i): i - 1 for i in range(1, 8)})
_DASH = r"[-~—–〜至到]"
_DAY = r"(?:周|星期|礼拜)([一二三四五六日天七1-7])"
_AMPM = r"上午|早上|早晨|清晨|中午|下午|午后|傍晚|晚上|晚间|夜间|夜里|凌晨"
# One clock reading: period word, hour, then ":mm", "点半", "点mm分" or a bare "点"/"时".
_CLOCK = rf"(?:({_AMPM})\s*)?(\d{{1,2}})(?::(\d{{2}})|点(半)|点(\d{{1,2}})分?|[点时])?"
_EARLY = ("上午", "早上", "早晨", "清晨", "凌晨")

_TOKENS: list[tuple[str, re.Pattern[str]]] = [
    (
        "ph_off",
        re.compile(
            r"(?:法定)?(?:节假日|节日|假日|公休日)(?:期间)?(?:除外|休息|不开放|闭馆|关闭|不营业|休馆|闭店)"
        ),
    ),
    ("ph_same", re.compile(r"(?:法定)?(?:节假日|节日|假日)(?:照常|正常)(?:开放|营业)?")),
    ("ph", re.compile(r"(?:法定)?(?:节假日|节日|假日)")),
    ("every", re.compile(r"全年无休|全年|每天|每日|天天|全周|无休")),
    ("workday", re.compile(r"工作日")),
    ("weekdays", re.compile(r"平日|周一至周五")),
    ("weekend", re.compile(r"周末|双休日|周六日|星期六日")),
    ("day_range", re.compile(rf"{_DAY}\s*{_DASH}\s*(?:周|星期|礼拜)?([一二三四五六日天七1-7])")),
    ("day", re.compile(_DAY)),
    ("all_day", re.compile(r"全天候?|24\s*(?:小时|h)|二十四小时|通宵|00:00\s*-\s*24:00")),
    ("time_range", re.compile(rf"{_CLOCK}\s*{_DASH}\s*(?:次日|翌日|第二天)?\s*{_CLOCK}")),
    ("off", re.compile(r"休息|闭馆|不开放|关闭|休馆|闭店|停业|不营业|关门|歇业")),
    ("filler", re.compile(r"开放|营业|时间|服务|办公|工作|时段|开门|上班|为|均|从|起|每周|:")),
    ("separator", re.compile(r"[,;、。/|\s()\[\]【】「」]+|以及|和|及|与")),
]


class HoursTextError(WarmheartError, ValueError):
    """Chinese opening-hours text that cannot be read without guessing."""


@dataclass
class _Rule:
    days: list[int] | None = None  # None: every day (a rule without a day selector)
    holidays: bool = False  # a "PH" rule
    times: list[tuple[int, int]] = field(default_factory=list)  # minutes from midnight
    state: str = ""  # "", "off" or "all_day"

    def render(self) -> str:
        if self.holidays:
            selector = "PH"
        elif self.days is None:
            selector = ""
        else:
            selector = _render_days(self.days)
        if self.state == "off":
            return f"{selector} off".strip()
        if self.state == "all_day":
            return f"{selector} 00:00-24:00" if selector else "24/7"
        spans = ",".join(f"{_clock(a)}-{_clock(b)}" for a, b in self.times)
        return f"{selector} {spans}".strip()


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _render_days(days: list[int]) -> str:
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return "Mo-Su"
    parts: list[str] = []
    start = prev = ordered[0]
    for d in [*ordered[1:], None]:
        if d is not None and d == prev + 1:
            prev = d
            continue
        parts.append(
            _DAY_NAMES[start]
            if start == prev
            else f"{_DAY_NAMES[start]}{'-' if prev > start + 1 else ','}{_DAY_NAMES[prev]}"
        )
        if d is not None:
            start = prev = d
    return ",".join(parts)


def _minutes(ampm: str | None, hour: str, minute: str | None, text: str) -> int:
    """Minutes from midnight of one clock reading (period words applied)."""
    h, m = int(hour), int(minute or 0)
    late = ampm in ("下午", "午后", "傍晚", "晚上", "晚间", "夜间", "夜里") and h < 12
    if late or (ampm == "中午" and h < 3):
        h += 12
    if h > 24 or m > 59 or (h == 24 and m):
        msg = f"Expected a time of day, got {text!r}"
        raise HoursTextError(msg)
    return h * 60 + m


def _span(match: re.Match[str]) -> tuple[int, int]:
    """``(start, end)`` minutes of a time-range match; ``下午2:00-6:00`` is 14:00-18:00."""
    text = match.group(0)
    a_period, a_hour, a_colon, a_half, a_min, b_period, b_hour, b_colon, b_half, b_min = (
        match.groups()
    )
    start = _minutes(a_period, a_hour, a_colon or ("30" if a_half else a_min), text)
    end = _minutes(b_period, b_hour, b_colon or ("30" if b_half else b_min), text)
    if a_period and not b_period and a_period not in _EARLY and end < 12 * 60:
        end += 12 * 60  # the period word covers both ends
    if end <= start and not (start >= 18 * 60 and end <= 12 * 60):
        msg = (
            f"Expected a time range that ends after it starts (or runs past midnight from the "
            f"evening), got {text!r}"
        )
        raise HoursTextError(msg)
    return start, end


@lru_cache(maxsize=16384)
def hours_from_chinese(text: str) -> str:
    """Read Chinese opening-hours text as an OSM ``opening_hours`` expression.

    Parameters
    ----------
    text
        As written in the station list, e.g. ``"周一至周五 8:00—18:00，节假日除外"``.

    Returns
    -------
    str
        An OSM expression, e.g. ``"Mo-Fr 08:00-18:00; PH off"``.

    Raises
    ------
    HoursTextError
        Some part of the text is not understood (the message quotes it).
    """
    normal = unicodedata.normalize("NFKC", text).strip()
    rules: list[_Rule] = []
    current: _Rule | None = None
    holidays_off = False
    pos = 0

    def open_rule(days: list[int] | None, *, holidays: bool = False) -> None:
        nonlocal current
        # 周一、周三 ...: days listed one after another belong to one rule
        if (
            current is not None
            and not (current.times or current.state or current.holidays or holidays)
            and current.days is not None
            and days is not None
        ):
            current.days += days
            return
        current = _Rule(days=days, holidays=holidays)
        rules.append(current)

    while pos < len(normal):
        for kind, pattern in _TOKENS:
            match = pattern.match(normal, pos)
            if match is None or match.end() == pos:
                continue
            pos = match.end()
            if kind in ("filler", "separator", "ph_same"):
                break
            if kind == "ph_off":
                holidays_off = True
            elif kind == "ph":
                open_rule(None, holidays=True)
            elif kind == "every":
                open_rule(list(range(7)))
            elif kind == "workday":
                open_rule(list(range(5)))
                holidays_off = True
            elif kind == "weekdays":
                open_rule(list(range(5)))
            elif kind == "weekend":
                open_rule([5, 6])
            elif kind == "day_range":
                a, b = _DAY_CHARS[match.group(1)], _DAY_CHARS[match.group(2)]
                open_rule(list(range(a, b + 1)) if a <= b else [*range(a, 7), *range(b + 1)])
            elif kind == "day":
                open_rule([_DAY_CHARS[match.group(1)]])
            else:
                if current is None or current.state:
                    open_rule(None)
                assert current is not None
                if kind == "all_day":
                    current.state = "all_day"
                elif kind == "off":
                    if current.times:
                        msg = f"Expected days before a closed word, got {match.group(0)!r}"
                        raise HoursTextError(msg)
                    current.state = "off"
                else:
                    current.times.append(_span(match))
            break
        else:
            rest = normal[pos : pos + 12]
            msg = f"Expected days and times (e.g. 周一至周五 8:00-18:00), got {rest!r}"
            raise HoursTextError(msg)
    done = [r for r in rules if r.times or r.state]
    if any(not (r.times or r.state) for r in rules):
        lone = next(r for r in rules if not (r.times or r.state))
        what = "PH" if lone.holidays else _render_days(lone.days or [])
        msg = f"Expected times for {what}, got none"
        raise HoursTextError(msg)
    if not done and not holidays_off:
        msg = "Expected days and times (e.g. 周一至周五 8:00-18:00), got none"
        raise HoursTextError(msg)
    out = [r.render() for r in done]
    if holidays_off:
        out.append("PH off")
    return "; ".join(out)
