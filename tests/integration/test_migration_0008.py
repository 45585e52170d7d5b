"""Migration 0008 on both stores: alarms doubled before it (two processes'
books) are reduced to one live alarm per terminal and type, and from then on
the store refuses a second one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from lianbo.adapters.db.monitoring_tables import AlarmRow
from tests.integration.migrations import migrate

pytestmark = pytest.mark.integration

OPENED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ALARMS = AlarmRow.__table__
Row = dict[str, Any]


def alarm(alarm_id: str, minutes: int, state: str = "open", kind: str = "offline") -> Row:
    return {
        "id": alarm_id,
        "type": kind,
        "severity": "critical",
        "terminal_id": "t1",
        "region_code": "510107",
        "tier": "outdoor",
        "state": state,
        "opened_at": OPENED + timedelta(minutes=minutes),
        "evidence": {},
        "count": 1,
    }


async def test_doubled_alarms_keep_the_first_and_no_new_twin_is_stored(
    engine: AsyncEngine,
) -> None:
    await migrate(engine, "0007")
    async with engine.begin() as connection:  # what two sweepers left behind
        await connection.execute(
            insert(ALARMS),
            [
                alarm("b-second", 1),
                alarm("a-first", 0, state="acknowledged"),
                alarm("c-third", 2),
                alarm("d-old", -60, state="resolved"),
                alarm("e-other-type", 3, kind="clock-drift"),
            ],
        )
    await migrate(engine, "head")
    async with engine.connect() as connection:
        rows = (await connection.execute(select(ALARMS).order_by(ALARMS.c.id))).all()
    states = {r.id: (r.state, r.resolved_by, r.resolved_at) for r in rows}
    assert states["a-first"] == ("acknowledged", None, None)  # the earliest live one stays
    assert states["e-other-type"][0] == "open"  # another type is another alarm
    for twin, minutes in (("b-second", 1), ("c-third", 2)):
        assert states[twin] == ("resolved", "system", OPENED + timedelta(minutes=minutes))
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(insert(ALARMS), [alarm("f-twin", 9)])
    async with engine.begin() as connection:  # a resolved one does not count
        await connection.execute(insert(ALARMS), [alarm("g-closed", 9, state="resolved")])
    await migrate(engine, "0007", down=True)
    await migrate(engine, "head")
