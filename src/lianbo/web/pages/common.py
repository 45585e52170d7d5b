"""Small lookups several pages share."""

from __future__ import annotations

from lianbo.domain.roles import Role
from lianbo.domain.terminals import TerminalStatus, Tier

TIERS: tuple[str, ...] = tuple(t.value for t in Tier)
STATUSES: tuple[str, ...] = tuple(s.value for s in TerminalStatus)
ROLES: tuple[str, ...] = tuple(r.value for r in Role)
