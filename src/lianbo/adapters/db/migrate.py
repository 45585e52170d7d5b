"""Apply Alembic migrations from inside the program (no alembic.ini needed).

Processes that start together on one PostgreSQL database (a cluster coming
up) must not race to migrate: each takes a PostgreSQL advisory lock first,
so one migrates and the others wait, then find nothing left to do.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str = "") -> Config:
    """Config pointing at our migrations folder."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


# pg_advisory_lock key for "setting up the schema" (any fixed 64-bit number;
# this one is "lianbo" in ASCII, so it is easy to recognise in pg_locks).
SCHEMA_LOCK = 0x6C69616E626F


@asynccontextmanager
async def schema_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Hold PostgreSQL's schema lock (one holder across all processes) for
    the block; on SQLite (one process) this does nothing. The lock belongs
    to a session, so it is let go if the process dies holding it."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as connection:
        await connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": SCHEMA_LOCK})
        await connection.commit()
        try:
            yield
        finally:
            await connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": SCHEMA_LOCK})
            await connection.commit()


async def upgrade(engine: AsyncEngine) -> bool:
    """Bring the schema to the newest revision, under the schema lock.
    True when this call changed the revision (it did the migrating)."""
    async with schema_lock(engine), engine.begin() as connection:
        return await connection.run_sync(_upgrade)


def _upgrade(connection: Connection) -> bool:
    before = MigrationContext.configure(connection).get_current_revision()
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return MigrationContext.configure(connection).get_current_revision() != before


def known_revision(revision: str) -> bool:
    """True when this code's migrations include ``revision`` (so it can upgrade from it)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    script = ScriptDirectory.from_config(alembic_config())
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False
