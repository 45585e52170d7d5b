"""Reading a list of region codes: the national statistics bureau's
统计用区划代码和城乡划分代码 (5 levels, 12-digit codes) as CSV or JSON.

CSV as the bureau's tables and the common exports have it: a header naming
the columns (``统计用区划代码`` / ``code``, ``名称`` / ``name``, optionally
``城乡分类代码`` / ``category`` — the urban-rural class of a village, e.g.
``111`` 主城区, ``220`` 村庄), or no header and ``code,name[,...]`` columns
(or ``code,class,name`` as the bureau prints villages). JSON: a list of
``{"code", "name", "category"?, "children"?: [...]}`` objects, nested or
flat. Codes are 12-digit (zero-padded) or short; each is normalised.
Faults raise InvalidInput naming the line (CSV) or the item (JSON).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lianbo.domain.errors import InvalidInput
from lianbo.domain.regions import normalise_code

NAME_MAX = 80
CODE_HEADERS = ("code", "统计用区划代码", "区划代码", "代码")
NAME_HEADERS = ("name", "名称", "名字")
CLASS_HEADERS = ("category", "urban_rural", "城乡分类代码", "城乡分类")
MAX_DEPTH = 6  # nested JSON: province > city > county > township > village


@dataclass(frozen=True, slots=True)
class RegionRecord:
    """One region of the file: short code, name, urban-rural class (villages)."""

    code: str
    name: str
    category: str | None = None


def parse_csv(text: str) -> list[RegionRecord]:
    """Records of a CSV file (header optional), in file order."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise InvalidInput("the file is empty", field="file")
    columns, first = _columns(rows[0])
    records = []
    for number, row in enumerate(rows[first:], first + 1):
        if not any(cell.strip() for cell in row):
            continue
        code_at, name_at, class_at = columns if columns else _guess(row)
        if max(code_at, name_at) >= len(row):
            raise InvalidInput(f"line {number}: needs a code and a name", field="file")
        category = row[class_at].strip() if 0 <= class_at < len(row) else None
        records.append(_record(f"line {number}", row[code_at], row[name_at], category))
    return records


def _columns(header: list[str]) -> tuple[tuple[int, int, int] | None, int]:
    """Column positions from a header row, or None (no header: guess per row)."""
    cells = [cell.strip().lower() for cell in header]
    if cells and cells[0].isdigit():
        return None, 0
    code_at = _find(cells, CODE_HEADERS)
    name_at = _find(cells, NAME_HEADERS)
    if code_at < 0 or name_at < 0:
        raise InvalidInput("line 1: the header names no code and name columns", field="file")
    return (code_at, name_at, _find(cells, CLASS_HEADERS)), 1


def _find(cells: list[str], names: tuple[str, ...]) -> int:
    return next((i for i, cell in enumerate(cells) if cell in names), -1)


def _guess(row: list[str]) -> tuple[int, int, int]:
    """No header: ``code,class,name`` when the second cell is a 3-digit class."""
    if len(row) >= 3 and len(row[1].strip()) == 3 and row[1].strip().isdigit():
        return 0, 2, 1
    return 0, 1, -1


def parse_json(value: Any) -> list[RegionRecord]:
    """Records of a JSON list (nested ``children`` flattened, parents first)."""
    if not isinstance(value, list):
        raise InvalidInput("expected a JSON list of {code, name} objects", field="file")
    return list(_walk(value, "item", 1))


def _walk(items: list[Any], path: str, depth: int) -> Iterator[RegionRecord]:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"{path}: nested too deep", field="file")
    for n, item in enumerate(items, 1):
        where = f"{path} {n}" if depth == 1 else f"{path}.{n}"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where}: not a {{code, name}} object", field="file")
        category = item.get("category")
        yield _record(where, item.get("code"), item.get("name"), category)
        children = item.get("children") or []
        if not isinstance(children, list):
            raise InvalidInput(f"{where}: children is not a list", field="file")
        yield from _walk(children, where, depth + 1)


def _record(where: str, code: Any, name: Any, category: Any) -> RegionRecord:
    if not isinstance(code, str | int) or isinstance(code, bool):
        raise InvalidInput(f"{where}: no region code", field="file")
    try:
        short = normalise_code(str(code))
    except InvalidInput:
        bad = str(code)[:20]
        raise InvalidInput(f"{where}: {bad!r} is not a region code", field="file") from None
    cleaned = name.strip() if isinstance(name, str) else ""
    if not cleaned or len(cleaned) > NAME_MAX or not cleaned.isprintable():
        raise InvalidInput(f"{where}: name must be 1-{NAME_MAX} printable characters", field="file")
    kind = str(category).strip() if category not in (None, "") else None
    if kind is not None and not (len(kind) == 3 and kind.isdigit()):
        bad = kind[:10]
        raise InvalidInput(f"{where}: urban-rural class {bad!r} is not 3 digits", field="file")
    return RegionRecord(short, cleaned, kind)
