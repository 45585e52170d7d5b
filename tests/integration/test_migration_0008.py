"""Migration 0008 on both stores: alarms doubled before it (two processes'
books) are reduced to one live alarm per terminal and type, and from then on
the store refuses a second one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from lianbo.adapters.db.engine import make_engine
from lianbo.adapters.db.migrate import alembic_config
from lianbo.adapters.db.monitoring_tables import AlarmRow
from tests.support.services import Postgres, missing

pytestmark = pytest.mark.integration

OPENED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
ALARMS = AlarmRow.__table__
Row = dict[str, Any]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
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


async def migrate(engine: AsyncEngine, revision: str, *, down: bool = False) -> None:
    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


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
