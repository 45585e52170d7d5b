"""Processes starting together on an empty PostgreSQL database all come up;
exactly one migrates (the schema lock in ``adapters/db/migrate.py``)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import asyncpg
import pytest

from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.services.setup import initialise
from tests.support.services import Postgres, missing

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

STARTS = 4
_names = itertools.count(1)


async def empty_database(server: Postgres) -> str:
    name = f"empty_{next(_names)}"
    admin = await asyncpg.connect(
        host="127.0.0.1", port=server.port, user="lianbo", database="postgres"
    )
    await admin.execute(f"CREATE DATABASE {name}")
    await admin.close()
    return server.url(name)


async def test_processes_starting_together_all_come_up_and_one_migrates(
    postgres: Postgres | None, tmp_path: Path
) -> None:
    if postgres is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    assert postgres is not None
    url = await empty_database(postgres)
    # One engine (one connection pool) per "process", each with its data dir.
    containers = [
        bootstrap(Settings(data_dir=tmp_path / f"p{i}", database_url=url)) for i in range(STARTS)
    ]
    try:
        reports = await asyncio.gather(*(initialise(c) for c in containers))
    finally:
        await asyncio.gather(*(c.close() for c in containers))
    assert sum(r.migrated for r in reports) == 1
    assert sum(r.regions_loaded > 0 for r in reports) == 1  # and one loaded the regions
    again = bootstrap(Settings(data_dir=tmp_path / "later", database_url=url))
    try:
        later = await initialise(again)
    finally:
        await again.close()
    assert not later.migrated and later.regions_loaded == 0
