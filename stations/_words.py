"""Values written in words (Chinese or English) mapped to the controlled vocabularies.

A union's list says ``微波炉、饮水、休息座椅`` for amenities, ``暖心驿站`` for the kind,
``银行`` for the host. :func:`amenities_from_text` splits such a cell into words and maps each
to the vocabulary of :data:`stations.model.AMENITIES`, returning the words it does not know (for the
row's report, never dropped silently). :func:`choice_from_text` does the same for one-word
fields (kind, host type, access, certification).

Matching is by containment of a known word (``提供微波炉`` is ``microwave``, ``手机充电`` is
``phone_charging``), so one cell word may give several amenities (``热水沙发``). A word that says
the thing is *not* there (``无卫生间``, ``暂无冰箱``, ``没有``) is reported as unknown rather than
read as its opposite.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from .model import ACCESS, AMENITIES, CERTIFICATIONS, HOST_TYPES, KINDS, SEVEN_HAVE

__all__ = ["WORDS", "amenities_from_text", "choice_from_text", "split_words"]

#: Field -> canonical value -> words that mean it (Chinese first, then English variants).
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "amenities": {
        "microwave": ("微波炉", "微波", "热饭", "加热", "热菜", "microwave"),
        "hot_meal": ("热餐", "爱心餐", "午餐", "餐食", "盒饭", "hot meal", "meal"),
        "drinking_water": (
            "饮水",
            "热水",
            "开水",
            "饮用水",
            "茶水",
            "喝水",
            "直饮水",
            "water",
            "drinking",
        ),
        "rest_seats": ("休息", "座椅", "桌椅", "椅子", "歇脚", "座位", "seat", "rest"),
        "shelter": ("雨具", "避雨", "遮风", "避暑", "取暖", "纳凉", "雨伞", "shelter", "umbrella"),
        "toilet": ("卫生间", "厕所", "洗手间", "如厕", "公厕", "toilet", "restroom", "wc"),
        "phone_charging": ("充电", "charging", "charger"),
        "sewing_kit": ("针线", "sewing"),
        "first_aid_kit": ("医药箱", "药箱", "急救", "药品", "常用药", "first aid", "medicine"),
        "fridge": ("冰箱", "冷藏", "fridge", "refrigerator"),
        "steriliser": ("消毒柜", "消毒", "steriliser", "sterilizer"),
        "sofa": ("沙发", "sofa", "couch"),
        "private_room": ("母婴", "哺乳", "私密", "独立空间", "隔间", "private room"),
    },
    "kind": {
        "warm_station": ("驿站", "暖心", "爱心驿站", "户外劳动者", "warm station"),
        "nursing_room": ("母婴", "哺乳", "妈咪小屋", "爱心妈妈", "nursing", "lactation"),
        "shuttle_stop": ("班车", "通勤", "停靠点", "shuttle"),
    },
    "host_type": {
        "bank": ("银行", "信用社", "bank"),
        "supermarket": ("超市", "商超", "supermarket"),
        "fuel": ("加油站", "加气站", "中石化", "中石油", "fuel", "petrol", "gas station"),
        "estate_agent": ("房产", "房地产", "中介", "链家", "我爱我家", "estate"),
        "convenience_store": ("便利店", "便民店", "convenience"),
        "enterprise": ("企业", "公司", "工厂", "厂区", "园区", "enterprise", "company"),
        "union_centre": ("工会", "职工之家", "union"),
        "community_centre": ("社区", "居委会", "党群服务", "community"),
        "government": ("政府", "街道办", "机关", "government"),
        "public_transport": ("公交", "地铁", "车站", "transport"),
        "other": ("其他", "其它", "other"),
    },
    "access": {
        "public": ("公开", "对外开放", "面向社会", "公众", "所有人", "全部", "public", "everyone"),
        "employees": ("内部", "员工", "职工", "本单位", "employees", "staff"),
    },
    "certification": {
        "city_model": ("市级示范", "市级模范", "市示范"),
        "provincial_model": ("省级示范", "省级模范", "省示范"),
        "national_model": ("国家级示范", "全国示范", "国家示范"),
        "district": ("区级", "县级", "区县级"),
        "city": ("市级",),
        "provincial": ("省级",),
        "national": ("国家级", "全国"),
    },
    "seven_have": {
        "site": ("场所", "场地", "阵地"),
        "sign": ("标识", "标牌", "标志"),
        "facilities": ("设施", "设备"),
        "publicity": ("宣传",),
        "service": ("服务",),
        "rules": ("制度",),
        "effect": ("成效", "效果"),
    },
}
_VOCABULARY = {
    "amenities": AMENITIES,
    "kind": KINDS,
    "host_type": HOST_TYPES,
    "access": ACCESS,
    "certification": CERTIFICATIONS,
    "seven_have": SEVEN_HAVE,
}
_SPLIT = re.compile(r"[、，,;；/|｜]+|以及|和|及|与|还有")
_CJK = re.compile(r"[\u3400-\u9fff]")
_NEGATION = re.compile(r"^(?:无|没有|暂无|不提供|不含|未配|未设|缺)")


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def split_words(value: Any) -> list[str]:
    """The words of a cell: split on 、，,;；/| and 和/及/与, and on spaces between Chinese words
    (``first aid`` stays one word); blanks dropped."""
    if value is None:
        return []
    items = value if isinstance(value, list | tuple | set | frozenset) else [value]
    words: list[str] = []
    for item in items:
        for piece in _SPLIT.split(unicodedata.normalize("NFKC", str(item))):
            words += piece.split() if _CJK.search(piece) else [piece.strip()]
    return [w for w in words if w]


@lru_cache(maxsize=1024)
def _whole_word(known: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(known)}s?\b")


def _means(known: str, word: str) -> bool:
    """Chinese words count when contained; English ones only as whole words (rest != restroom)."""
    if known.isascii():
        return _whole_word(known).search(word) is not None
    return known in word


@lru_cache(maxsize=16384)
def _match(field: str, word: str) -> tuple[str, ...]:
    """Canonical values a word means (exact canonical name, else contained known words)."""
    allowed = _VOCABULARY[field]
    canonical = word.replace("-", "_").replace(" ", "_")
    if canonical in allowed:
        return (canonical,)
    if _NEGATION.match(word):
        return ()
    found = [value for value, words in WORDS[field].items() if any(_means(w, word) for w in words)]
    if field == "certification" and len(found) > 1:  # 市级示范 also contains 市级
        found = [v for v in found if v.endswith("_model")]
    return tuple(found)


def amenities_from_text(value: Any, *, field: str = "amenities") -> tuple[list[str], list[str]]:
    """Amenities (or seven-have items) of a cell, and the words that matched nothing.

    Parameters
    ----------
    value
        A cell: ``"微波炉、饮水、休息座椅"``, ``"microwave;toilet"``, or a list of names.
    field
        ``"amenities"`` or ``"seven_have"``.

    Returns
    -------
    tuple
        ``(values, unknown)``: canonical values in vocabulary order, and the unmatched words
        in the order written.
    """
    found: set[str] = set()
    unknown: list[str] = []
    for word in split_words(value):
        matched = _match(field, word.lower())
        if matched:
            found.update(matched)
        else:
            unknown.append(word)
    return [v for v in _VOCABULARY[field] if v in found], unknown


def choice_from_text(field: str, value: Any) -> Any:
    """The canonical value of a one-word field written in words, or ``value`` unchanged.

    Unchanged (for validation to reject with the list of valid values) when the text matches
    nothing or more than one value.
    """
    if not isinstance(value, str) or not value.strip():
        return value
    matched = _match(field, _normal(value))
    return matched[0] if len(matched) == 1 else value
