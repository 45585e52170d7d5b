"""Small lookups several pages share."""

from __future__ import annotations

from collections.abc import Iterable

from lianbo.domain.roles import Role
from lianbo.domain.terminals import TerminalStatus, Tier
from lianbo.services.context import UnitOfWork

TIERS: tuple[str, ...] = tuple(t.value for t in Tier)
STATUSES: tuple[str, ...] = tuple(s.value for s in TerminalStatus)
ROLES: tuple[str, ...] = tuple(r.value for r in Role)


async def region_names(uow: UnitOfWork, codes: Iterable[str]) -> dict[str, str]:
    """Full names for a page's region codes (each distinct code looked up once)."""
    names: dict[str, str] = {}
    for code in sorted(set(codes)):
        region = await uow.regions.get(code) if code else None
        names[code] = region.full_name if region else code
    return names
