"""Migration 0017 (upstream CAP feeds and their inbox) goes up and down on both stores."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.integration.migrations import migrate, tables

pytestmark = pytest.mark.integration


async def test_the_feed_tables_come_and_go_with_their_revision(engine: AsyncEngine) -> None:
    feeds = {"cap_feeds", "cap_feed_messages"}
    await migrate(engine, "0017")
    assert feeds <= await tables(engine)
    await migrate(engine, "0016", down=True)
    assert not feeds & await tables(engine)
    await migrate(engine, "0017")
    assert feeds <= await tables(engine)
