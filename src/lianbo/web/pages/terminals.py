"""Terminal list, the new-terminal form and CSV import."""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.api.routes.terminals import read_csv_upload
from lianbo.domain.errors import DomainError, InvalidInput
from lianbo.domain.terminal_csv import OPTIONAL_COLUMNS, REQUIRED_COLUMNS
from lianbo.domain.terminals import TerminalDraft, TerminalFilter, TerminalStatus, Tier, parse_tier
from lianbo.services import terminals
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import region_names
from lianbo.services.terminals import IssuedCode
from lianbo.web.forms import (
    FormErrors,
    collect,
    form_text,
    page_number,
    parse_float,
    query_text,
    split_labels,
    status_of,
)
from lianbo.web.pages.common import STATUSES, TIERS
from lianbo.web.render import local_time, render
from lianbo.web.session import ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
# The import result page lists this many codes; the download holds them all.
SHOWN_CODES = 500
FORM_FIELDS = ("name", "tier", "region", "latitude", "longitude", "tags", "groups")


@router.get("/terminals")
async def terminal_list(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """A filterable page of terminals inside the jurisdiction."""
    params = request.query_params
    filters = {name: query_text(params, name) for name in ("region", "tier", "status", "tag", "q")}
    page = page_number(params.get("page"))
    error = ""
    found: list[Any] = []
    total = 0
    try:
        where = TerminalFilter(
            region=filters["region"] or None,
            tier=Tier(filters["tier"]) if filters["tier"] in TIERS else None,
            status=TerminalStatus(filters["status"]) if filters["status"] in STATUSES else None,
            tag=filters["tag"] or None,
            search=filters["q"] or None,
        )
        found, total = await terminals.list_terminals(
            uow, console.actor, where, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
        )
    except DomainError as problem:
        error = problem.message
    pages = max(1, -(-total // PAGE_SIZE))
    kept = {k: v for k, v in filters.items() if v}
    return render(
        request,
        "terminals.html",
        {
            "section": "terminals",
            "filters": filters,
            "terminals": found,
            "names": await region_names(uow, (t.region for t in found)),
            "total": total,
            "page": page,
            "pages": pages,
            "first": (page - 1) * PAGE_SIZE + 1 if found else 0,
            "last": (page - 1) * PAGE_SIZE + len(found),
            "prev_url": _page_url(kept, page - 1) if page > 1 else "",
            "next_url": _page_url(kept, page + 1) if page < pages else "",
            "error": error,
            "tiers": TIERS,
            "statuses": STATUSES,
        },
    )


def _page_url(filters: dict[str, str], page: int) -> str:
    return "/terminals?" + urlencode({**filters, "page": str(page)})


@router.get("/terminals/new")
async def new_terminal_form(request: Request, console: ConsoleDep) -> Response:
    """An empty form, the region pre-filled with the operator's own."""
    values = dict.fromkeys(FORM_FIELDS, "")
    values.update(tier="outdoor", region=console.actor.jurisdiction)
    return _form_page(request, values, FormErrors())


@router.post("/terminals/new")
async def create_terminal(
    request: Request, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Create one terminal and show its one-time enrolment code."""
    form = await form_text(request)
    values = {name: form.get(name, "").strip() for name in FORM_FIELDS}
    errors = FormErrors()
    draft = _draft(values, errors)
    if draft is not None:
        try:
            issued = await terminals.create_terminal(uow, container.clock, console.actor, draft)
        except DomainError as problem:
            errors.add(problem)
            return _form_page(request, values, errors, status=status_of(problem))
        return render(
            request,
            "terminal_created.html",
            {"section": "terminals", "issued": issued, "region_name": await _name(uow, issued)},
            status=201,
        )
    return _form_page(request, values, errors, status=400)


def _draft(values: dict[str, str], errors: FormErrors) -> TerminalDraft | None:
    """Parse every field, collecting all the errors so they show at once."""
    tier = collect(errors, lambda: parse_tier(values["tier"]))
    latitude = collect(errors, lambda: parse_float(values["latitude"], "latitude"))
    longitude = collect(errors, lambda: parse_float(values["longitude"], "longitude"))
    if not values["name"]:
        errors.add(InvalidInput("name must not be empty", field="name"))
    if not values["region"]:
        errors.add(InvalidInput("region code is required", field="region"))
    if tier is None or latitude is None or longitude is None or errors:
        return None
    return TerminalDraft(
        name=values["name"],
        tier=tier,
        region=values["region"],
        latitude=latitude,
        longitude=longitude,
        tags=split_labels(values["tags"]),
        groups=split_labels(values["groups"]),
    )


async def _name(uow: UnitOfWork, issued: IssuedCode) -> str:
    return (await region_names(uow, [issued.terminal.region]))[issued.terminal.region]


def _form_page(
    request: Request, values: dict[str, str], errors: FormErrors, *, status: int = 200
) -> Response:
    return render(
        request,
        "terminal_new.html",
        {"section": "terminals", "values": values, "errors": errors, "tiers": TIERS},
        status=status,
    )


@router.get("/terminals/import")
async def import_form(request: Request, console: ConsoleDep) -> Response:
    """The upload form, with the CSV columns documented."""
    return _import_page(request, "")


@router.post("/terminals/import")
async def import_terminals(
    request: Request, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Create every terminal in the uploaded CSV, or none and say which row failed."""
    try:
        text = await read_csv_upload(request)
        issued = await terminals.import_csv(uow, container.clock, console.actor, text)
    except DomainError as problem:
        return _import_page(request, problem.message, status=status_of(problem))
    return render(
        request,
        "terminal_imported.html",
        {
            "section": "terminals",
            "issued": issued[:SHOWN_CODES],
            "count": len(issued),
            "expires_at": issued[0].expires_at,
            "download": "data:text/csv;charset=utf-8," + quote(codes_csv(issued)),
        },
        status=201,
    )


def codes_csv(issued: list[IssuedCode]) -> str:
    """The codes as CSV (with a BOM so spreadsheet programs read UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "region", "terminal_id", "enrolment_code", "expires_at"])
    for item in issued:
        t = item.terminal
        writer.writerow([_cell(t.name), t.region, t.id, item.code, local_time(item.expires_at)])
    return "\ufeff" + out.getvalue()


def _cell(text: str) -> str:
    """Defuse spreadsheet formulas: a name may start with ``=`` or ``@``."""
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text


def _import_page(request: Request, error: str, *, status: int = 200) -> Response:
    return render(
        request,
        "terminal_import.html",
        {
            "section": "terminals",
            "error": error,
            "required": REQUIRED_COLUMNS,
            "optional": OPTIONAL_COLUMNS,
        },
        status=status,
    )
