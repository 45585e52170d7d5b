"""Signing keys (admins only): the key set, rotate, retire (ADR 0004)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep
from lianbo.domain.errors import DomainError
from lianbo.services import keys
from lianbo.web.forms import status_of
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)


@router.get("/keys")
async def key_list(request: Request, console: ConsoleDep, container: ContainerDep) -> Response:
    """The current key set and the retired keys; a 403 page for other roles."""
    flash = {}
    if request.query_params.get("rotated"):
        flash = {"key": "keys.rotated", "key_id": request.query_params["rotated"][:32]}
    elif request.query_params.get("retired"):
        flash = {"key": "keys.retired", "key_id": request.query_params["retired"][:32]}
    return await _page(request, console, container, flash=flash)


@router.post("/keys/rotate")
async def rotate(console: PostConsoleDep, container: ContainerDep) -> Response:
    """A new active key, signed in by the old ones; manifests re-signed."""
    key_set = await keys.rotate(container, console.actor)
    return RedirectResponse("/keys?" + urlencode({"rotated": key_set.active}), 303)


@router.post("/keys/{key_id}/retire")
async def retire(
    request: Request, key_id: str, console: PostConsoleDep, container: ContainerDep
) -> Response:
    """Drop one key from the set; a refusal comes back on the page."""
    try:
        await keys.retire(container, console.actor, key_id)
    except DomainError as problem:
        return await _page(
            request, console, container, error=problem.message, status=status_of(problem)
        )
    return RedirectResponse("/keys?" + urlencode({"retired": key_id}), 303)


async def _page(
    request: Request,
    console: Console,
    container: ContainerDep,
    *,
    flash: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    found = await keys.listing(container, console.actor)  # Forbidden for non-admins
    active = found.key_set.active
    rows = [(k, "active" if k == active else "trusted") for k in found.key_set.keys]
    rows.sort(key=lambda row: row[1] != "active")
    rows += [(k, "retired") for k in found.retired]
    context = {
        "section": "keys",
        "serial": found.key_set.serial,
        "rows": rows,
        "flash": flash or {},
        "error": error,
    }
    return render(request, "keys.html", context, status=status)
