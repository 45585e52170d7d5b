"""Bringing a deployment up: data dir, schema, regions, keys."""

from __future__ import annotations

from dataclasses import dataclass

from lianbo.adapters.db.migrate import upgrade
from lianbo.bootstrap import Container
from lianbo.services import regions


@dataclass(frozen=True, slots=True)
class InitReport:
    regions_loaded: int
    key_id: str


async def initialise(container: Container) -> InitReport:
    """Idempotent: safe to run on every start."""
    settings = container.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    await upgrade(container.engine)
    async with container.uow() as uow:
        loaded = await regions.load_builtin(uow)
        await uow.refresh_statistics()
    key_id = await container.keys.ensure()
    return InitReport(regions_loaded=loaded, key_id=key_id)
