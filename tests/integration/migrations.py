"""What the migration tests share: an empty store of each kind, running
alembic to a revision on it, and the tables it has."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from lianbo.adapters.db.engine import make_engine
from lianbo.adapters.db.migrate import alembic_config
from tests.support.services import Postgres, missing


async def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty SQLite file or PostgreSQL database (``request.param``)."""
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
    """``alembic upgrade`` (or ``downgrade``) to ``revision`` on ``engine``."""

    def run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, revision)

    async with engine.begin() as connection:
        await connection.run_sync(run)


async def tables(engine: AsyncEngine) -> set[str]:
    """The names of the tables in the store now."""

    def names(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    async with engine.connect() as connection:
        return await connection.run_sync(names)
