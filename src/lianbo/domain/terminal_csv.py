"""Bulk terminal import from CSV: all rows good, or the first bad row named.

Columns (header required, any order): ``name, tier, region, latitude,
longitude`` and optionally ``tags`` and ``groups`` (``;``-separated).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from lianbo.domain.errors import InvalidInput
from lianbo.domain.regions import normalise_code
from lianbo.domain.terminals import (
    TerminalDraft,
    check_labels,
    check_name,
    check_position,
    parse_tier,
)
from lianbo.domain.text import check_text

REQUIRED_COLUMNS = ("name", "tier", "region", "latitude", "longitude")
OPTIONAL_COLUMNS = ("tags", "groups")
MAX_ROWS = 50_000


def parse_terminal_csv(
    text: str, *, region_allowed: Callable[[str], str | None]
) -> list[TerminalDraft]:
    """Parse every row or raise InvalidInput naming the first bad one.

    ``region_allowed(code)`` returns None when the (short-form) code may be
    used, or a reason why not (unknown, outside jurisdiction).
    Row numbers count the header as row 1, as a spreadsheet shows them.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InvalidInput(f"CSV header lacks column(s): {', '.join(missing)}", field="file")
    reader.fieldnames = header
    drafts: list[TerminalDraft] = []
    seen: dict[tuple[str, str], int] = {}
    for row_number, row in enumerate(reader, start=2):
        if len(drafts) >= MAX_ROWS:
            raise InvalidInput(f"CSV has more than {MAX_ROWS} rows", field="file")
        draft = _parse_row(row, row_number, region_allowed)
        key = (draft.region, draft.name)
        if key in seen:
            raise InvalidInput(
                f"row {row_number}: name {draft.name!r} repeats row {seen[key]}", field="file"
            )
        seen[key] = row_number
        drafts.append(draft)
    if not drafts:
        raise InvalidInput("CSV has no rows", field="file")
    return drafts


def _parse_row(
    row: dict[str, str | None],
    row_number: int,
    region_allowed: Callable[[str], str | None],
) -> TerminalDraft:
    def cell(name: str) -> str:
        value = row.get(name)
        return check_text((value or "").strip(), name)  # Unprocessable is an InvalidInput

    try:
        if None in row:  # csv puts surplus cells under the None key
            raise InvalidInput("more cells than header columns", field="file")
        region = normalise_code(cell("region"), field="region")
        reason = region_allowed(region)
        if reason:
            raise InvalidInput(reason, field="region")
        latitude, longitude = check_position(
            _number(cell("latitude"), "latitude"), _number(cell("longitude"), "longitude")
        )
        return TerminalDraft(
            name=check_name(cell("name")),
            tier=parse_tier(cell("tier")),
            region=region,
            latitude=latitude,
            longitude=longitude,
            tags=check_labels(cell("tags").split(";"), field_name="tags"),
            groups=check_labels(cell("groups").split(";"), field_name="groups"),
        )
    except InvalidInput as error:
        raise InvalidInput(
            f"row {row_number}: {error.field or 'value'}: {error.message}", field="file"
        ) from None


def _number(raw: str, field_name: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(f"not a number: {raw!r}", field=field_name) from None
