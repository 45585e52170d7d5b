"""Migration 0016 (outlines an admin loads; a village's urban-rural class)
goes up and down on both stores."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.migrations import migrate, tables

pytestmark = pytest.mark.integration


async def _columns(engine: AsyncEngine) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return {c["name"] for c in inspect(connection).get_columns("regions")}

    async with engine.connect() as connection:
        return await connection.run_sync(names)


async def test_region_outlines_come_and_go_with_their_revision(engine: AsyncEngine) -> None:
    await migrate(engine, "0016")
    assert "region_outlines" in await tables(engine) and "urban_rural" in await _columns(engine)
    await migrate(engine, "0015", down=True)
    assert "region_outlines" not in await tables(engine)
    assert "urban_rural" not in await _columns(engine)
    await migrate(engine, "0016")
    assert "region_outlines" in await tables(engine)
