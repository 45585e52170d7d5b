"""Migration 0014 (the warnings a CAP message was accepted with, and the
messages Updates and Cancels await) goes up and down on both stores."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.migrations import migrate, tables

pytestmark = pytest.mark.integration


async def _columns(engine: AsyncEngine) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return {c["name"] for c in inspect(connection).get_columns("alerts")}

    async with engine.connect() as connection:
        return await connection.run_sync(names)


async def test_the_warnings_column_comes_and_goes_with_its_revision(engine: AsyncEngine) -> None:
    await migrate(engine, "0014")
    assert "warnings" in await _columns(engine) and "alert_awaited" in await tables(engine)
    await migrate(engine, "0013", down=True)
    assert "warnings" not in await _columns(engine)
    assert "alert_awaited" not in await tables(engine)
    await migrate(engine, "0014")
    assert "warnings" in await _columns(engine) and "alert_awaited" in await tables(engine)
