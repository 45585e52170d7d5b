"""The region tree with live terminal counts, and adding townships/villages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.errors import DomainError
from lianbo.services import regions
from lianbo.services.context import UnitOfWork
from lianbo.web.forms import FormErrors, form_text, query_text, status_of
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)


@router.get("/regions")
async def region_tree(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """The jurisdiction as the open top of the tree, its children loaded."""
    return await _page(request, console, uow, {"code": "", "name": ""}, FormErrors())


@router.get("/regions/children")
async def region_children(request: Request, console: ConsoleDep, uow: UowDep) -> Response:
    """One node's children, for HTMX to drop under the node as it opens."""
    parent = query_text(request.query_params, "parent", 12) or None
    nodes = await regions.children(uow, console.actor, parent)
    return render(request, "region_nodes.html", {"nodes": nodes})


@router.post("/regions")
async def add_region(
    request: Request, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Add a 9-digit township or a 12-digit village under a known parent."""
    form = await form_text(request)
    values = {"code": form.get("code", "").strip(), "name": form.get("name", "").strip()}
    errors = FormErrors()
    try:
        added = await regions.add_region(
            uow, container.clock, console.actor, code=values["code"], name=values["name"]
        )
    except DomainError as problem:
        errors.add(problem)
        return await _page(request, console, uow, values, errors, status=status_of(problem))
    return await _page(
        request, console, uow, {"code": "", "name": ""}, errors, added=added.full_name
    )


async def _page(
    request: Request,
    console: Console,
    uow: UnitOfWork,
    values: dict[str, str],
    errors: FormErrors,
    *,
    added: str = "",
    status: int = 200,
) -> Response:
    tops = await regions.children(uow, console.actor, None)
    opened: dict[str, list[regions.RegionNode]] = {}
    if len(tops) == 1:
        # One jurisdiction (the usual case) opens with its children already
        # there, so an operator's first click is already one level down.
        top = tops[0].region.code
        opened[top] = await regions.children(uow, console.actor, top)
    return render(
        request,
        "regions.html",
        {
            "section": "regions",
            "nodes": tops,
            "opened": opened,
            "values": values,
            "errors": errors,
            "added": added,
        },
        status=status,
    )
