"""Migration 0015 (each alert's checked CAP signature, and the CAP senders
trusted) goes up and down on both stores."""

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


async def test_the_signature_column_and_senders_come_and_go_with_their_revision(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0015")
    assert "cap_signature" in await _columns(engine) and "cap_senders" in await tables(engine)
    await migrate(engine, "0014", down=True)
    assert "cap_signature" not in await _columns(engine)
    assert "cap_senders" not in await tables(engine)
    await migrate(engine, "0015")
    assert "cap_signature" in await _columns(engine) and "cap_senders" in await tables(engine)
