"""Which column of a station list is which field: Chinese and English headers, explicit maps.

A union's sheet has headers like ``序号,驿站名称,地址,经度,纬度,开放时间,服务设施``.
:func:`map_columns` recognises the usual names of every field (:data:`HEADERS`; compared
after Unicode NFKC, ignoring case, spaces, ``_``/``-`` and a bracketed suffix such as
``经度(GCJ-02)``), takes an explicit map first (:func:`parse_column_map`: ``驿站名称=name,...``
or a small mapping file), and says which column became which field. Columns it cannot place
are not dropped: their values go to the station's ``notes`` as ``header: value``.
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from routing.problems import RowProblem

from ._errors import FileFormatError
from .model import RECORD_FIELDS

__all__ = ["HEADERS", "NOTES", "ColumnMap", "map_columns", "parse_column_map"]

#: Field -> header names that mean it (matched as described in the module notes).
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "序号", "站点编号", "驿站编号", "站点id", "编码", "no"),
    "kind": ("kind", "type", "类型", "站点类型", "驿站类型", "类别", "站点类别"),
    "name": ("name", "名称", "驿站名称", "站点名称", "站名", "网点名称", "场所名称", "驿站"),
    "address": ("address", "addr", "地址", "详细地址", "所在地址", "位置", "站点地址"),
    "lon": ("lon", "lng", "long", "longitude", "x", "经度"),
    "lat": ("lat", "latitude", "y", "纬度"),
    "opening_hours": (
        "opening_hours",
        "openinghours",
        "hours",
        "开放时间",
        "营业时间",
        "服务时间",
        "开放时段",
    ),
    "amenities": (
        "amenities",
        "facilities",
        "services",
        "服务设施",
        "设施",
        "服务内容",
        "配套设施",
        "服务项目",
        "设施设备",
    ),
    "contact": ("contact", "phone", "tel", "telephone", "联系电话", "电话", "联系方式"),
    "host_type": ("host_type", "host", "依托单位类型", "承建单位类型", "场所类型", "依托类型"),
    "capacity": ("capacity", "容纳人数", "可容纳人数", "容量"),
    "access": ("access", "开放对象", "服务对象"),
    "certification": ("certification", "等级", "星级", "评定等级", "认定级别", "级别"),
    "seven_have": ("seven_have", "sevenhave", "七有"),
    "notes": ("notes", "note", "remarks", "备注", "说明"),
    "source": ("source", "来源", "数据来源"),
    "updated_at": ("updated_at", "updatedat", "更新时间", "更新日期"),
    "names": ("names",),
    "name_zh": ("中文名称",),
    "name_en": ("英文名称", "english name"),
    "name_ja": ("日文名称",),
    "name_ko": ("韩文名称",),
}
#: Target of a column whose values are kept in ``notes`` as ``header: value``.
NOTES = "notes"
#: Target that drops a column on purpose (``--columns 序号=-``).
SKIP = "-"
_BRACKETED = re.compile(r"[(\[【（].*?[)\]】）]\s*$")


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKC", str(header)).strip().lower()
    text = _BRACKETED.sub("", text).strip()
    return re.sub(r"[\s_\-]+", "", text)


_LOOKUP = {_key(alias): name for name, aliases in HEADERS.items() for alias in aliases}


def _target(text: str) -> str | None:
    """A field name a map may point to (``name``, ``name_en``, ``notes``, ``-``), else None."""
    name = text.strip()
    if name == SKIP or name in RECORD_FIELDS:
        return name
    if re.fullmatch(r"name[_:][a-z]{2,3}(-[A-Za-z0-9]{2,8})*", name):
        return "name_" + name[5:]
    return None


def parse_column_map(spec: str | Mapping[str, str]) -> dict[str, str]:
    """An explicit header -> field map from ``"驿站名称=name,经度=lon"`` or a mapping file.

    Parameters
    ----------
    spec
        ``HEADER=FIELD`` pairs separated by ``,`` (or new lines); or the path of a ``.toml``
        (top-level keys or a ``[columns]`` table) or ``.json`` (an object) file, or a ``.txt``
        file of ``HEADER=FIELD`` lines; or a mapping. ``FIELD`` is a station field, ``name_xx``,
        ``notes`` (keep in notes) or ``-`` (drop the column).

    Raises
    ------
    FileFormatError
        A pair without ``=``, an unknown field, or an unreadable mapping file.
    """
    if isinstance(spec, Mapping):
        pairs = [(str(k), str(v)) for k, v in spec.items()]
    else:
        path = Path(spec)
        if path.suffix.lower() in (".toml", ".json", ".txt") and "=" not in spec:
            if not path.is_file():
                msg = f"Expected a column map file at {spec!r}, got no such file"
                raise FileFormatError(msg)
            pairs = _read_map_file(path)
        else:
            pairs = []
            for item in re.split(r"[,\n，]+", spec):
                if not item.strip():
                    continue
                header, sep, name = item.partition("=")
                if not sep:
                    msg = f"Expected HEADER=FIELD pairs (e.g. 驿站名称=name,经度=lon), got {item!r}"
                    raise FileFormatError(msg)
                pairs.append((header, name))
    out: dict[str, str] = {}
    valid = f"{', '.join(RECORD_FIELDS)}, name_xx, or - to drop the column"
    for header, name in pairs:
        target = _target(name)
        if target is None or target == "names":
            msg = f"Expected a station field for column {header.strip()!r} ({valid}), got {name!r}"
            raise FileFormatError(msg)
        out[header.strip()] = target
    return out


def _read_map_file(path: Path) -> list[tuple[str, str]]:
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
            data = data.get("columns", data)
        elif path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        else:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            return [tuple(line.split("=", 1)) for line in lines if "=" in line]  # type: ignore[misc]
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"Expected a column map in {path.name} (HEADER = FIELD), got unreadable text: {exc}"
        raise FileFormatError(msg) from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        msg = f"Expected a column map in {path.name} (HEADER = FIELD strings), got {data!r}"
        raise FileFormatError(msg)
    return [(str(k), v) for k, v in data.items()]


@dataclass
class ColumnMap:
    """Where each column goes.

    Attributes
    ----------
    fields
        Column position -> field (``name``, ``lon``, ``name_en``, ...), for the mapped columns.
    notes
        Column positions kept in ``notes`` as ``header: value``.
    report
        Header -> what it became (field name, ``notes`` or ``-`` for dropped), in column order:
        what the import report shows.
    problems
        File-level problems (two columns for one field, an explicit map naming a column the
        file does not have).
    """

    fields: dict[int, str] = field(default_factory=dict)
    notes: list[int] = field(default_factory=list)
    report: dict[str, str] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)

    def has(self, name: str) -> bool:
        """Whether some column feeds field ``name``."""
        return name in self.fields.values()


def map_columns(headers: Sequence[str], *, explicit: Mapping[str, str] | None = None) -> ColumnMap:
    """Decide which column is which field (see the module notes).

    Parameters
    ----------
    headers
        The header row as read.
    explicit
        Header -> field pairs (from :func:`parse_column_map`) that win over recognition.
    """
    out = ColumnMap()
    given = dict(explicit or {})
    by_key = {_key(h): h for h in given}
    seen: dict[str, str] = {}
    for i, raw in enumerate(headers):
        header = str(raw).strip() if raw is not None else ""
        if not header:
            continue
        chosen = given.pop(header, None)
        if chosen is None and _key(header) in by_key:
            chosen = given.pop(by_key[_key(header)], None)
        if chosen == SKIP:
            out.report[header] = SKIP
            continue
        lang = re.fullmatch(r"name[:_]([a-z]{2,3}(?:-[a-z0-9]{2,8})*)", header.lower())
        recognised = _LOOKUP.get(_key(header)) or (f"name_{lang.group(1)}" if lang else None)
        target = recognised if chosen is None else chosen
        if target is None or chosen == NOTES:  # kept as "header: value" in notes
            out.notes.append(i)
            out.report[header] = NOTES
            continue
        if target in seen:
            msg = (
                f"Expected one column for {target}, got {seen[target]!r} and {header!r}; choose "
                f"with --columns '{header}=-' (or map one of them elsewhere)"
            )
            out.problems.append(RowProblem(None, target, msg))
            continue
        seen[target] = header
        out.fields[i] = target
        out.report[header] = target
    for header in given:
        have = ", ".join(str(h) for h in headers if h) or "none"
        msg = f"Expected a column {header!r} (named in --columns), got columns {have}"
        out.problems.append(RowProblem(None, None, msg))
    return out
