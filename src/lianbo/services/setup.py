"""Bringing a deployment up: data dir, schema, regions, keys."""

from __future__ import annotations

from dataclasses import dataclass

from lianbo.adapters.db.migrate import schema_lock, upgrade
from lianbo.services import regions
from lianbo.services.context import Context


@dataclass(frozen=True, slots=True)
class InitReport:
    regions_loaded: int
    key_id: str
    migrated: bool = False  # this call changed the schema (others starting with it waited)


async def initialise(container: Context) -> InitReport:
    """Idempotent: safe to run on every start."""
    settings = container.settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.media_dir.mkdir(parents=True, exist_ok=True)
    migrated = await upgrade(container.engine)
    # Processes starting together: one loads the regions, the rest find them.
    async with schema_lock(container.engine), container.uow() as uow:
        loaded = await regions.load_builtin(uow)
        await uow.refresh_statistics()
    key_id = await container.keys.ensure()
    return InitReport(regions_loaded=loaded, key_id=key_id, migrated=migrated)
