"""Filling a store quickly for benchmarks (setup, not what is measured)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from lianbo.bootstrap import Container
from lianbo.domain.roles import Role
from lianbo.domain.terminals import Terminal, TerminalStatus, Tier
from lianbo.domain.users import SYSTEM
from lianbo.services import users

PASSWORD = "bench-password-1"
STATUSES = (TerminalStatus.ONLINE, TerminalStatus.OFFLINE, TerminalStatus.PENDING)
TAGS = {Tier.OUTDOOR: ("landmark",), Tier.HALL: ("community",), Tier.HOME: ("stb",)}


async def counties(container: Container, province: str = "51") -> list[str]:
    async with container.uow() as uow:
        return sorted(
            c for c in await uow.regions.codes() if c.startswith(province) and len(c) == 6
        )


async def admin(container: Container, username: str = "bench") -> None:
    async with container.uow() as uow:
        await users.create_user(
            uow,
            container.clock,
            SYSTEM,
            username=username,
            password=PASSWORD,
            role=Role.ADMIN,
            region="51",
        )


async def terminals(
    container: Container, size: int, places: list[str], *, seed: int = 2
) -> list[Terminal]:
    """``size`` terminals spread over ``places``, inserted in batches."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    made: list[Terminal] = []
    async with container.uow() as uow:
        batch: list[Terminal] = []
        for i in range(size):
            tier = (Tier.OUTDOOR, Tier.HALL, Tier.HOME)[i % 3]
            batch.append(
                Terminal(
                    id=uuid.uuid4().hex,
                    name=f"bench-{i:07d}",
                    tier=tier,
                    region=rng.choice(places),
                    latitude=30 + rng.random(),
                    longitude=104 + rng.random(),
                    status=STATUSES[i % 3],
                    tags=TAGS[tier],
                    groups=(),
                    created_at=now,
                    updated_at=now,
                )
            )
            if len(batch) == 5000:
                await uow.terminals.add_many(batch)
                made += batch
                batch = []
        await uow.terminals.add_many(batch)
        made += batch
        await uow.commit()
    return made
