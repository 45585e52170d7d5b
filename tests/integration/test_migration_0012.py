"""Migration 0012 on both stores: the newest commands already in the audit
log are copied into ``terminal_commands`` (not acknowledged: that was never
stored), at most ``KEPT`` per terminal; it goes down and up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from lianbo.adapters.db.shared_tables import TerminalCommandRow
from lianbo.adapters.db.tables import AuditRow, TerminalRow
from tests.integration.migrations import migrate

pytestmark = pytest.mark.integration

SENT = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
KEPT = 50


def terminal(terminal_id: str) -> dict[str, Any]:
    return {
        "id": terminal_id,
        "name": terminal_id,
        "tier": "outdoor",
        "region_code": "510107",
        "latitude": 30.6,
        "longitude": 104.0,
        "status": "active",
        "labels": " ",
        "created_at": SENT,
        "updated_at": SENT,
        "audience_key": "k",
    }


def audited(seq: int, terminal_id: str, action: str = "terminal.command") -> dict[str, Any]:
    return {
        "seq": seq,
        "at": SENT + timedelta(minutes=seq),
        "actor": "operator-1",
        "action": action,
        "target_type": "terminal",
        "target_id": terminal_id,
        "region": "510107",
        "after": {"id": f"{seq:032x}", "command": "reload"},
        "prev_hash": "0" * 64,
        "hash": "0" * 64,
    }


async def test_the_newest_audited_commands_are_copied_in(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0011")
    busy = [audited(seq, "busy") for seq in range(1, KEPT + 6)]
    others = [
        audited(100, "quiet"),
        audited(101, "quiet", action="terminal.retire"),  # not a command
        audited(102, "gone"),  # no such terminal: not copied
    ]
    async with engine.begin() as connection:
        await connection.execute(
            insert(TerminalRow.__table__), [terminal("busy"), terminal("quiet")]
        )
        await connection.execute(insert(AuditRow.__table__), busy + others)
    await migrate(engine, "head")
    table = TerminalCommandRow.__table__
    async with engine.connect() as connection:
        rows = (await connection.execute(select(table).order_by(table.c.sent_at.desc()))).all()
    assert [r.terminal_id for r in rows].count("busy") == KEPT
    assert {r.terminal_id for r in rows} == {"busy", "quiet"}
    newest = rows[0]
    assert newest.id == f"{102 - 2:032x}" and newest.terminal_id == "quiet"
    [oldest_kept] = [r for r in rows if r.terminal_id == "busy"][-1:]
    assert oldest_kept.sent_at == SENT + timedelta(minutes=6)  # the 5 oldest are left out
    assert all(r.acked_at is None and not r.delivered and r.command == "reload" for r in rows)
    assert all(r.actor == "operator-1" for r in rows)
    await migrate(engine, "0011", down=True)
    await migrate(engine, "head")
