"""Migration 0013 (the alarm webhooks' outbox, ADR 0016) goes up and down
on both stores, and its table takes what the repository writes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from lianbo.adapters.db.repos.webhook_deliveries import (
    WebhookDelivery,
    WebhookDeliveryRepository,
)
from tests.integration.migrations import migrate, tables

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


async def test_the_outbox_table_comes_and_goes_with_its_revision(engine: AsyncEngine) -> None:
    await migrate(engine, "0013")
    assert "webhook_deliveries" in await tables(engine)
    async with AsyncSession(engine) as session:
        repo = WebhookDeliveryRepository(session)
        await repo.add(WebhookDelivery("d" * 32, "http://x/hook", {"event": "opened"}, 0), NOW)
        await session.commit()
        [claimed] = await repo.claim(NOW, NOW, 10)
        assert claimed.payload == {"event": "opened"}
        await session.commit()
    await migrate(engine, "0012", down=True)
    assert "webhook_deliveries" not in await tables(engine)
    await migrate(engine, "0013")
    assert "webhook_deliveries" in await tables(engine)
