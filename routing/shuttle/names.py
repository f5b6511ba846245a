"""Names people can read for the planner's stops (never an internal id).

In order of preference:

1. the OSM bus stop's own name, in the requested language where tagged (``name:zh`` ...);
2. ``"<street> / <cross street>"``: the drive-graph street the stop is on and the nearest
   other named street meeting it;
3. ``"<district> stop"`` (in the page language: ``七贤岭站``, ``七贤岭 stop``...), when the
   stop's district has a name;
4. ``"<street>"`` alone, then ``"near <street>"`` for the nearest named street within
   :data:`NEAR_M`;
5. ``"Stop <n>"``, numbered in the order of the stops, when nothing nearby has a name.

The language variants go to :attr:`CandidateStop.names`; :attr:`CandidateStop.name` is the
variant in the script of the names used (Chinese for a Chinese district name, and so on).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from routing.pois import NAME_LANGUAGES

from .model import CandidateStop

if TYPE_CHECKING:
    from routing.area import Area

__all__ = ["NEAR_M", "name_stops", "street_names"]

#: How far (m) to look for a named street when the stop's own street has no name.
NEAR_M = 300.0

_DISTRICT = {"zh": "{}站", "en": "{} stop", "ja": "{}停留所", "ko": "{} 정류장"}
_NEAR = {"zh": "{}附近", "en": "near {}", "ja": "{}付近", "ko": "{} 부근"}
_NUMBERED = {"zh": "{}号站", "en": "Stop {}", "ja": "{}番停留所", "ko": "{}번 정류장"}
# Major roads first when a crossing has several named cross streets.
_RANK = ("motorway", "trunk", "primary", "secondary", "tertiary", "unclassified", "residential")


def _script(text: str) -> str:
    """The language whose script ``text`` is written in (``en`` for Latin and others)."""
    if re.search(r"[\uac00-\ud7a3]", text):
        return "ko"
    if re.search(r"[\u3040-\u30ff]", text):
        return "ja"
    if re.search(r"[\u4e00-\u9fff]", text):
        return "zh"
    return "en"


def _variants(template: Mapping[str, str], value: str) -> tuple[str, dict[str, str]]:
    names = {lang: template[lang].format(value) for lang in NAME_LANGUAGES}
    return names[_script(value)], names


def _first(value: object) -> str:
    if isinstance(value, list | tuple):
        value = next((v for v in value if isinstance(v, str) and v.strip()), "")
    return value.strip() if isinstance(value, str) else ""


def street_names(area: Area) -> tuple[list[str], list[int]]:
    """Name and road rank (lower is more major) of every edge of the drive EdgeTable.

    Read from the edge attribute columns (no networkx graph is made on a reloaded Area).
    """
    m = area.arrays("drive").edges.m
    present = set(area.columns("drive"))

    def column(name: str) -> list[object]:
        return area.edge_column("drive", name).tolist() if name in present else [None] * m

    names = [_first(value) for value in column("name")]
    ranks: list[int] = []
    for value in column("highway"):
        hw = _first(value).removesuffix("_link")
        ranks.append(_RANK.index(hw) if hw in _RANK else len(_RANK))
    return names, ranks


def _cross(
    node: int, street: str, incident: Mapping[int, list[int]], names: list[str], ranks: list[int]
) -> str:
    others = {
        (ranks[e], names[e]) for e in incident.get(node, []) if names[e] and names[e] != street
    }
    return min(others)[1] if others else ""


def name_stops(
    area: Area,
    stops: Sequence[CandidateStop],
    *,
    district_names: Mapping[str, str] | None = None,
) -> list[CandidateStop]:
    """``stops`` with readable names where they have none (see the module docstring).

    Parameters
    ----------
    area
        The Area whose drive graph the stops are on (``CandidateStop.edge``).
    stops
        Stops; those with a ``name`` keep it (and their ``names``).
    district_names
        Stop id to the name of its district (district access points), where named.
    """
    arrays = area.arrays("drive")
    table = arrays.edges
    names, ranks = street_names(area)
    incident: dict[int, list[int]] = {}
    for e, (u, v) in enumerate(zip(table.u.tolist(), table.v.tolist(), strict=True)):
        incident.setdefault(u, []).append(e)
        incident.setdefault(v, []).append(e)
    named = np.array([bool(n) for n in names])
    mids = table.xy[(table.ptr[:-1] + table.ptr[1:] - 1) // 2] if table.m else np.zeros((0, 2))
    districts = dict(district_names or {})
    out: list[CandidateStop] = []
    numbered = 0
    for st in stops:
        if st.name:
            out.append(st)
            continue
        street = names[st.edge] if st.edge >= 0 else ""
        if not street and st.edge >= 0 and table.twin[st.edge] >= 0:
            street = names[int(table.twin[st.edge])]
        name, variants = "", dict[str, str]()
        if street:
            x, y = area.project(st.lon, st.lat)
            u, v = int(table.u[st.edge]), int(table.v[st.edge])
            near_u = np.hypot(arrays.x[u] - x[0], arrays.y[u] - y[0]) <= np.hypot(
                arrays.x[v] - x[0], arrays.y[v] - y[0]
            )
            ends = (u, v) if near_u else (v, u)
            cross = next(
                (c for c in (_cross(n, street, incident, names, ranks) for n in ends) if c), ""
            )
            name = f"{street} / {cross}" if cross else ""
        if not name and districts.get(st.id):
            name, variants = _variants(_DISTRICT, districts[st.id])
        if not name and street:
            name = street
        if not name and named.any():
            x, y = area.project(st.lon, st.lat)
            d = np.hypot(mids[:, 0] - x[0], mids[:, 1] - y[0])
            d[~named] = np.inf
            best = int(np.argmin(d))
            if d[best] <= NEAR_M:
                name, variants = _variants(_NEAR, names[best])
        if not name:
            numbered += 1
            name, variants = _variants(_NUMBERED, str(numbered))
        out.append(replace(st, name=name, names=variants))
    return out
