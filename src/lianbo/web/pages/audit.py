"""The audit log (admins only): filter, page through, verify the chain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.audit import AuditEntry, AuditQuery
from lianbo.domain.errors import Forbidden, InvalidInput
from lianbo.domain.roles import Permission
from lianbo.services import audit, audit_anchoring
from lianbo.web.forms import page_number, query_text
from lianbo.web.render import LOCAL_ZONE, render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
FILTERS = ("action", "actor", "target", "since", "until")


@dataclass(frozen=True, slots=True)
class DiffRow:
    key: str
    before: str
    after: str
    changed: bool


def diff(entry: AuditEntry) -> list[DiffRow]:
    """Before/after side by side, keys in first-seen order, changes flagged."""
    before = entry.before or {}
    after = entry.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        DiffRow(
            key,
            _show(before[key]) if key in before else "",
            _show(after[key]) if key in after else "",
            before.get(key) != after.get(key),
        )
        for key in keys
    ]


def _show(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def day_start(raw: str, field: str, *, next_day: bool = False) -> datetime | None:
    """Local midnight of a ``YYYY-MM-DD`` date (the day after, for "until")."""
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {raw!r}", field=field) from None
    if next_day:
        day += timedelta(days=1)
    return datetime.combine(day, time(), tzinfo=LOCAL_ZONE)


def _require_auditor(console: Console) -> None:
    if not console.actor.can(Permission.READ_AUDIT):
        raise Forbidden("reading the audit log needs the admin role")


@router.get("/audit")
async def audit_log(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """Newest first, 50 a page, filtered by action prefix, user, target, dates."""
    _require_auditor(console)
    return render(request, "audit.html", await _context(request, console, uow))


@router.post("/audit/verify")
async def verify_chain(
    request: Request, console: PostConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """Walk the whole chain, compare it with its anchors, and say whether it
    is intact, or where it breaks."""
    _require_auditor(console)
    report = await audit_anchoring.verify(container)
    if request.headers.get("HX-Request"):
        return render(request, "audit_verify.html", {"report": report})
    context = await _context(request, console, uow)
    return render(request, "audit.html", {**context, "report": report})


async def _context(request: Request, console: Console, uow: UowDep) -> dict[str, Any]:
    filters = {name: query_text(request.query_params, name) for name in FILTERS}
    page = page_number(request.query_params.get("page"))
    entries: list[AuditEntry] = []
    total = 0
    error = ""
    try:
        query = AuditQuery(
            actor=filters["actor"] or None,
            action=filters["action"] or None,
            target_id=filters["target"] or None,
            since=day_start(filters["since"], "since"),
            until=day_start(filters["until"], "until", next_day=True),
        )
        entries, total = await audit.search(
            uow, console.actor, query, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    except InvalidInput as problem:
        error = problem.message
    pages = max(1, -(-total // PAGE_SIZE))
    kept = {k: v for k, v in filters.items() if v}
    return {
        "section": "audit",
        "filters": filters,
        "entries": [(entry, diff(entry)) for entry in entries],
        "total": total,
        "page": page,
        "pages": pages,
        "prev_url": "/audit?" + urlencode({**kept, "page": page - 1}) if page > 1 else "",
        "next_url": "/audit?" + urlencode({**kept, "page": page + 1}) if page < pages else "",
        "error": error,
        "report": None,
    }
