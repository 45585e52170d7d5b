"""Migration 0013 (the alarm webhooks' outbox, ADR 0016) goes up and down
on both stores, and its table takes what the repository writes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lianbo.adapters.db.engine import make_engine
from lianbo.adapters.db.repos.webhook_deliveries import (
    WebhookDelivery,
    WebhookDeliveryRepository,
)
from tests.integration.test_migration_0008 import migrate
from tests.support.services import Postgres, missing

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty store of each kind."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'lianbo.db'}"
    else:
        server: Postgres | None = request.getfixturevalue("postgres")
        if server is None:
            missing("PostgreSQL is not installed (apt-get install postgresql)")
        assert server is not None
        import asyncpg

        admin = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="lianbo", database="postgres"
        )
        name = f"migration_{tmp_path.name[-20:].lower().replace('-', '_')}"
        await admin.execute(f"CREATE DATABASE {name}")
        await admin.close()
        url = server.url(name)
    found = make_engine(url)
    yield found
    await found.dispose()


async def tables(engine: AsyncEngine) -> set[str]:
    def names(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with engine.connect() as connection:
        return await connection.run_sync(names)


async def test_the_outbox_table_comes_and_goes_with_its_revision(store: AsyncEngine) -> None:
    await migrate(store, "0013")
    assert "webhook_deliveries" in await tables(store)
    async with AsyncSession(store) as session:
        repo = WebhookDeliveryRepository(session)
        await repo.add(WebhookDelivery("d" * 32, "http://x/hook", {"event": "opened"}, 0), NOW)
        await session.commit()
        [claimed] = await repo.claim(NOW, NOW, 10)
        assert claimed.payload == {"event": "opened"}
        await session.commit()
    await migrate(store, "0012", down=True)
    assert "webhook_deliveries" not in await tables(store)
    await migrate(store, "0013")
    assert "webhook_deliveries" in await tables(store)
