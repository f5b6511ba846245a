"""Chinese opening hours: every pattern of the issue reads into OSM syntax that opening-hours-py
evaluates as the text means, at hand-picked times (expected answers written by hand)."""

from __future__ import annotations

from datetime import datetime

import pytest

from stations._hours_zh import HoursTextError, hours_from_chinese
from stations.hours import is_open

# 2024-03-04 is a Monday; 2024-10-01 (Tue) is National Day and 2024-05-01 (Wed) Labour Day.
MON, FRI, SAT, SUN = "2024-03-04", "2024-03-08", "2024-03-09", "2024-03-10"

CASES = [
    (
        "周一至周五 8:00-18:00",
        "Mo-Fr 08:00-18:00",
        {
            f"{MON} 08:00": True,
            f"{MON} 07:59": False,
            f"{MON} 17:59": True,
            f"{MON} 18:00": False,
            f"{SAT} 12:00": False,
        },
    ),
    (
        "工作日 9:00-17:00",
        "Mo-Fr 09:00-17:00; PH off",
        {"2024-10-08 10:00": True, "2024-10-01 10:00": False, f"{SUN} 10:00": False},
    ),
    (
        "周末 10:00-16:00",
        "Sa,Su 10:00-16:00",
        {f"{SAT} 10:00": True, f"{SUN} 15:59": True, f"{SAT} 16:00": False, f"{FRI} 12:00": False},
    ),
    (
        "每天 7:00-21:00",
        "Mo-Su 07:00-21:00",
        {f"{SUN} 20:59": True, f"{SUN} 21:00": False, f"{MON} 06:59": False},
    ),
    ("全天", "24/7", {f"{SUN} 03:00": True, f"{MON} 23:59": True}),
    ("24小时", "24/7", {f"{SAT} 00:00": True, "2024-10-01 04:00": True}),
    (
        "周一至周五 8:00-18:00 节假日除外",
        "Mo-Fr 08:00-18:00; PH off",
        {"2024-05-01 10:00": False, "2024-05-08 10:00": True},
    ),
    (
        "８：００—１８：００",  # full-width digits and colon, em dash
        "08:00-18:00",
        {f"{SAT} 12:00": True, f"{MON} 07:00": False, f"{MON} 18:00": False},
    ),
    ("8:00–18:00", "08:00-18:00", {f"{SUN} 17:00": True}),  # en dash
    ("8点至18点", "08:00-18:00", {f"{MON} 08:00": True, f"{MON} 18:30": False}),
    (
        "上午8:00-12:00 下午2:00-6:00",
        "08:00-12:00,14:00-18:00",
        {f"{MON} 11:59": True, f"{MON} 13:00": False, f"{MON} 15:00": True, f"{MON} 18:00": False},
    ),
    (
        "每天 上午8点至12点 下午2点至6点",
        "Mo-Su 08:00-12:00,14:00-18:00",
        {f"{SUN} 09:00": True, f"{SUN} 12:30": False, f"{SUN} 17:59": True},
    ),
    (
        "周一至周五 8:00-12:00，14:00-17:30；周六 9:00-12:00；周日休息",
        "Mo-Fr 08:00-12:00,14:00-17:30; Sa 09:00-12:00; Su off",
        {
            f"{FRI} 17:29": True,
            f"{FRI} 12:30": False,
            f"{SAT} 11:00": True,
            f"{SAT} 13:00": False,
            f"{SUN} 10:00": False,
        },
    ),
    (
        "周一至周五全天",
        "Mo-Fr 00:00-24:00",
        {f"{FRI} 23:30": True, f"{SAT} 00:30": False},
    ),
    (
        "周一、周三、周五 9点-11点半",
        "Mo,We,Fr 09:00-11:30",
        {"2024-03-06 11:15": True, "2024-03-05 10:00": False, f"{FRI} 11:30": False},
    ),
    ("晚上6点-10点", "18:00-22:00", {f"{MON} 21:00": True, f"{MON} 17:00": False}),
    (
        "22:00-次日6:00",
        "22:00-06:00",
        {f"{MON} 23:00": True, "2024-03-05 05:59": True, f"{MON} 12:00": False},
    ),
    (
        "周一至周五 8:00-18:00（法定节假日休息）",
        "Mo-Fr 08:00-18:00; PH off",
        {"2024-10-01 09:00": False, "2024-10-08 09:00": True},
    ),
    (
        "星期一到星期六 8时至20时",
        "Mo-Sa 08:00-20:00",
        {f"{SAT} 19:00": True, f"{SUN} 19:00": False},
    ),
]


@pytest.mark.parametrize(("text", "osm", "answers"), CASES, ids=[c[0] for c in CASES])
def test_chinese_hours_round_trip(text: str, osm: str, answers: dict[str, bool]) -> None:
    """The text reads as the OSM rule expected, and that rule is open exactly when meant."""
    assert hours_from_chinese(text) == osm
    for at, expected in answers.items():
        assert is_open(osm, datetime.fromisoformat(at), country="CN") is expected, at


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("看情况", "看情况"),
        ("8点左右", "左右"),
        ("8:00-5:00", "ends after it starts"),
        ("周一至周五", "Expected times for Mo-Fr"),
        ("25:00-26:00", "time of day"),
    ],
)
def test_unreadable_hours_are_errors_not_guesses(text: str, why: str) -> None:
    """Text that would need a guess is refused, quoting what could not be read."""
    with pytest.raises(HoursTextError, match=why):
        hours_from_chinese(text)
