"""A worker outlives its database: PostgreSQL restarts, the worker logs it
once and runs the next job when the database is back."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from lianbo.adapters.jobs.postgres import PostgresJobQueue
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from lianbo.services.setup import initialise
from tests.support.services import Postgres, missing, start_postgres
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


@pytest.fixture
def own_postgres() -> Iterator[Postgres]:
    """A cluster of this test's own: it is stopped and started again."""
    server = start_postgres()
    if server is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    assert server is not None
    yield server
    server.discard()


async def test_a_worker_runs_jobs_again_after_postgres_restarts(
    own_postgres: Postgres, tmp_path: Path
) -> None:
    admin = await asyncpg.connect(
        host="127.0.0.1", port=own_postgres.port, user="lianbo", database="postgres"
    )
    await admin.execute("CREATE DATABASE lianbo")
    await admin.close()
    url = own_postgres.url("lianbo")
    container = bootstrap(Settings(data_dir=tmp_path, database_url=url))
    await initialise(container)
    await container.close()

    ran: list[str] = []

    async def job(asset_id: str) -> None:
        ran.append(asset_id)

    queue = PostgresJobQueue(url, lease_seconds=3)
    worker = asyncio.create_task(queue.work(job))
    client = PostgresJobQueue(url, lease_seconds=3)
    try:
        await client.enqueue_qc("before")
        await until(lambda: ran == ["before"], "the first job ran")
        await asyncio.to_thread(own_postgres.stop)
        await asyncio.to_thread(own_postgres.start)

        async def queued_after() -> bool:
            await client.enqueue_qc("after")  # the client's pool reconnects too
            return "after" in ran

        await until(queued_after, "the worker ran a job after the restart")
        assert not worker.done()
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await queue.close()
        await client.close()
