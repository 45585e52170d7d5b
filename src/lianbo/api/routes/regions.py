"""/api/v1/regions: browse the tree, add townships and villages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.routes.common import Limit, Offset
from lianbo.api.schemas import Page, RegionCreate, RegionOut
from lianbo.domain.regions import Region, full_form
from lianbo.services import regions

router = APIRouter(prefix="/api/v1/regions", tags=["regions"])


def region_out(
    region: Region, terminals: int | None = None, has_children: bool | None = None
) -> RegionOut:
    return RegionOut(
        code=region.code,
        full_code=full_form(region.code),
        name=region.name,
        full_name=region.full_name,
        parent=region.parent_code,
        level=region.level,
        terminals=terminals,
        has_children=has_children,
    )


@router.get("")
async def list_regions(
    actor: ActorDep,
    uow: UowDep,
    q: Annotated[str | None, Query(max_length=40)] = None,
    parent: Annotated[str | None, Query(max_length=12)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[RegionOut]:
    """Search the jurisdiction's regions, or list one region's children with counts."""
    if parent is not None or q is None:
        nodes = await regions.children(uow, actor, parent)
        items = [region_out(n.region, n.terminals, n.has_children) for n in nodes]
        return Page(items=items[offset : offset + limit], total=len(items))
    found, total = await regions.search(uow, actor, q, limit=limit, offset=offset)
    return Page(items=[region_out(r) for r in found], total=total)


@router.get("/{code}")
async def get_region(code: str, actor: ActorDep, uow: UowDep) -> RegionOut:
    return region_out(await regions.get_region(uow, actor, code))


@router.post("", status_code=201)
async def add_region(
    body: RegionCreate, actor: ActorDep, container: ContainerDep, uow: UowDep
) -> RegionOut:
    """Add a township (9 digits) or village/community (12 digits)."""
    return region_out(
        await regions.add_region(uow, container.clock, actor, code=body.code, name=body.name)
    )
