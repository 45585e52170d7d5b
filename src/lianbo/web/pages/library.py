"""The media library: a filterable grid of assets, and adding tickers and streams.

Files arrive through the resumable upload endpoints (``pages/upload.py``)
driven by ``static/upload.js``; the grid refreshes itself every two seconds
while any visible card is still waiting for or running QC.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.assets import QcStatus, check_stream_url, check_ticker, clean_name
from lianbo.domain.errors import DomainError, Forbidden
from lianbo.domain.media import AssetKind
from lianbo.domain.review import ReviewState
from lianbo.services import asset_reads, assets
from lianbo.services.context import UnitOfWork
from lianbo.web.forms import FormErrors, collect, form_text, page_number, query_text, status_of
from lianbo.web.pages.common import TIERS
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 24
STATES: tuple[str, ...] = tuple(s.value for s in ReviewState)
KINDS: tuple[str, ...] = tuple(k.value for k in AssetKind)
BUSY = (QcStatus.PENDING, QcStatus.RUNNING)
FILTERS = ("q", "state", "kind", "tier")


def _filters(request: Request) -> dict[str, str]:
    params = request.query_params
    found = {name: query_text(params, name) for name in FILTERS}
    # Unknown values read as "any" rather than failing the page.
    for name, allowed in (("state", STATES), ("kind", KINDS), ("tier", TIERS)):
        if found[name] not in allowed:
            found[name] = ""
    return found


async def grid_context(request: Request, uow: UnitOfWork, console: Console) -> dict[str, Any]:
    """One page of cards for the current filters (the page and its HTMX refresh)."""
    filters = _filters(request)
    page = page_number(request.query_params.get("page"))
    found, total = await assets.list_assets(
        uow,
        console.actor,
        states=[ReviewState(filters["state"])] if filters["state"] else None,
        kind=AssetKind(filters["kind"]) if filters["kind"] else None,
        query=filters["q"] or None,
        fit_tier=filters["tier"] or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    ids = [a.id for a in found]
    pages = max(1, -(-total // PAGE_SIZE))
    kept = {k: v for k, v in filters.items() if v}
    return {
        "filters": filters,
        "assets": found,
        "posters": await asset_reads.posters(uow, ids),
        "stages": await asset_reads.qc_stages(uow, [a.id for a in found if a.qc_status in BUSY]),
        "busy": any(a.qc_status in BUSY for a in found),
        "total": total,
        "page": page,
        "pages": pages,
        "grid_url": "/assets/grid?" + urlencode({**kept, "page": str(page)}),
        "prev_url": _page_url(kept, page - 1) if page > 1 else "",
        "next_url": _page_url(kept, page + 1) if page < pages else "",
    }


def _page_url(filters: dict[str, str], page: int) -> str:
    return "/assets?" + urlencode({**filters, "page": str(page)})


@router.get("/assets")
async def library(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """The grid, the filters, the upload panel and the ticker/stream forms."""
    return await _page(request, uow, console)


@router.get("/assets/grid")
async def library_grid(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """The cards alone, for the live refresh while QC runs."""
    return render(request, "_asset_grid.html", await grid_context(request, uow, console))


async def _page(
    request: Request,
    uow: UnitOfWork,
    console: Console,
    *,
    values: dict[str, str] | None = None,
    errors: FormErrors | None = None,
    form: str = "",
    status: int = 200,
) -> Response:
    context = await grid_context(request, uow, console)
    context.update(
        section="assets",
        states=STATES,
        kinds=KINDS,
        tiers=TIERS,
        values=values or {},
        errors=errors or FormErrors(),
        open_form=form,
    )
    return render(request, "library.html", context, status=status)


def _require_manager(console: Console) -> None:
    if not console.can_manage_content:
        raise Forbidden("adding content needs the operator or admin role")


@router.post("/assets/ticker")
async def add_ticker(
    request: Request, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """A ticker (scrolling text); screened for sensitive words by the worker."""
    _require_manager(console)
    form = await form_text(request)
    values = {"name": form.get("name", "").strip(), "text": form.get("text", "")}
    errors = _checked(values, "text", check_ticker)
    try:
        if errors:
            return await _refused(request, uow, console, values, errors, "ticker")
        asset = await assets.add_ticker(
            uow, container.clock, console.actor, name=values["name"], text=values["text"]
        )
    except DomainError as problem:
        errors.add(problem)
        return await _refused(request, uow, console, values, errors, "ticker", status_of(problem))
    return RedirectResponse(f"/assets/{asset.id}", status_code=303)


@router.post("/assets/stream")
async def add_stream(
    request: Request, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """A live relay by URL (rtmp, srt, http(s) ...); no QC applies."""
    _require_manager(console)
    form = await form_text(request)
    values = {"name": form.get("name", "").strip(), "url": form.get("url", "").strip()}
    errors = _checked(values, "url", check_stream_url)
    try:
        if errors:
            return await _refused(request, uow, console, values, errors, "stream")
        asset = await assets.add_stream(
            uow, container.clock, console.actor, name=values["name"], url=values["url"]
        )
    except DomainError as problem:
        errors.add(problem)
        return await _refused(request, uow, console, values, errors, "stream", status_of(problem))
    return RedirectResponse(f"/assets/{asset.id}", status_code=303)


def _checked(values: dict[str, str], field: str, check: Callable[[str], str]) -> FormErrors:
    """Both fields checked up front, so both mistakes show at once."""
    errors = FormErrors()
    collect(errors, lambda: clean_name(values["name"]))
    collect(errors, lambda: check(values[field]))
    return errors


async def _refused(
    request: Request,
    uow: UnitOfWork,
    console: Console,
    values: dict[str, str],
    errors: FormErrors,
    form: str,
    status: int = 400,
) -> Response:
    return await _page(
        request, uow, console, values=values, errors=errors, form=form, status=status
    )
