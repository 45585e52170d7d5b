"""Migration 0011 on both stores: the idempotency keys table comes and goes,
and a key is unique per user (ADR 0015)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from lianbo.adapters.db.shared_tables import IdempotencyKeyRow
from tests.integration.migrations import migrate, tables

pytestmark = pytest.mark.integration

KEYS = IdempotencyKeyRow.__table__
AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def row(user_id: str, key: str) -> dict[str, object]:
    return {
        "user_id": user_id,
        "key": key,
        "act": "alert.issue",
        "fingerprint": "0" * 64,
        "status": 201,
        "resource_id": "a1",
        "created_at": AT,
        "expires_at": AT + timedelta(hours=24),
    }


async def test_the_table_comes_with_0011_and_goes_with_its_downgrade(engine: AsyncEngine) -> None:
    await migrate(engine, "0011")
    assert "idempotency_keys" in await tables(engine)
    async with engine.begin() as connection:
        await connection.execute(insert(KEYS), [row("u1", "k"), row("u2", "k")])
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(KEYS), [row("u1", "k")])
    await migrate(engine, "0010", down=True)
    assert "idempotency_keys" not in await tables(engine)
    await migrate(engine, "head")
    assert "idempotency_keys" in await tables(engine)
