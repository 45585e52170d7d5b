"""The durable job queue (procrastinate) on a real PostgreSQL: one run per
asset at a time, retries with backoff, and a killed worker's job taken over
by another worker once its lease runs out."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from lianbo.adapters.jobs.postgres import PostgresJobQueue, libpq_url
from tests.support.waiting import until

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

LEASE = 3.0  # seconds; short so a stalled worker is noticed soon


async def rows(url: str, sql: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(libpq_url(url))
    try:
        return await connection.fetch(sql, *args)
    finally:
        await connection.close()


async def jobs_of(url: str, asset_id: str) -> list[asyncpg.Record]:
    return await rows(
        url,
        "SELECT id, status, attempts, scheduled_at FROM procrastinate_jobs"
        " WHERE lock = $1 ORDER BY id",
        f"asset:{asset_id}",
    )


@asynccontextmanager
async def worker(
    url: str, job: Callable[[str], Awaitable[None]], **options: Any
) -> AsyncIterator[PostgresJobQueue]:
    """A worker running ``job`` in this process, with its own pool."""
    queue = PostgresJobQueue(url, lease_seconds=LEASE, **options)
    task = asyncio.create_task(queue.work(job))
    try:
        yield queue
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await queue.close()


async def test_qc_asked_twice_for_one_asset_runs_one_at_a_time(pg_url: str) -> None:
    running: Counter[str] = Counter()
    most: Counter[str] = Counter()
    runs: list[str] = []
    first_may_end = asyncio.Event()

    async def job(asset_id: str) -> None:
        running[asset_id] += 1
        most[asset_id] = max(most[asset_id], running[asset_id])
        runs.append(asset_id)
        if runs.count(asset_id) == 1 and asset_id == "a":
            await first_may_end.wait()
        running[asset_id] -= 1

    client = PostgresJobQueue(pg_url, lease_seconds=LEASE)
    async with worker(pg_url, job), worker(pg_url, job):
        await client.enqueue_qc("a")
        await until(lambda: runs == ["a"], "the first run of a started")
        await client.enqueue_qc("a")  # while it runs: a second run, which waits
        await client.enqueue_qc("a")  # while that waits: nothing more
        await client.enqueue_qc("b")
        # The idle worker passed over a's waiting job (its lock is held) for b.
        await until(lambda: "b" in runs and running["b"] == 0, "b ran on the idle worker")
        statuses = [r["status"] for r in await jobs_of(pg_url, "a")]
        assert statuses == ["doing", "todo"]
        assert await client.backlog() == 1
        first_may_end.set()
        await until(lambda: runs.count("a") == 2, "the second run of a")
        await until(lambda: _all_succeeded(pg_url, "a"), "both of a's jobs succeeded")
    await client.close()
    assert most["a"] == 1


async def _all_succeeded(url: str, asset_id: str) -> bool:
    return all(r["status"] == "succeeded" for r in await jobs_of(url, asset_id))


async def test_a_failed_job_is_retried_after_a_backoff(pg_url: str) -> None:
    calls: list[str] = []

    async def job(asset_id: str) -> None:
        calls.append(asset_id)
        if len(calls) == 1:
            raise ConnectionError("the database went away")  # not the media's fault

    async with worker(pg_url, job, retries=3, backoff_seconds=2) as queue:
        await queue.enqueue_qc("c")
        await until(lambda: len(calls) == 2, "the retry ran")
        await until(lambda: _all_succeeded(pg_url, "c"), "the job succeeded")
    (row,) = await jobs_of(pg_url, "c")
    assert row["attempts"] == 2  # the failure and the success
    events = {
        r["type"]: r["at"]
        for r in await rows(
            pg_url,
            "SELECT type::text, at FROM procrastinate_events WHERE job_id = $1",
            row["id"],
        )
    }
    # The retry was put off by the backoff (2 ** 1 s), not run at once.
    assert row["scheduled_at"] - events["deferred_for_retry"] >= timedelta(seconds=1.9)


WORKER_THAT_HANGS = textwrap.dedent(
    """
    import asyncio, sys
    from lianbo.adapters.jobs.postgres import PostgresJobQueue

    async def job(asset_id):
        print("started", asset_id, flush=True)
        await asyncio.Event().wait()  # never ends: killed mid-job

    asyncio.run(PostgresJobQueue(sys.argv[1], lease_seconds=float(sys.argv[2])).work(job))
    """
)


async def test_a_worker_killed_mid_job_loses_it_to_another_after_its_lease(
    pg_url: str,
) -> None:
    doomed = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        WORKER_THAT_HANGS,
        pg_url,
        str(LEASE),
        stdout=asyncio.subprocess.PIPE,
        env=os.environ.copy(),
    )
    assert doomed.stdout is not None
    client = PostgresJobQueue(pg_url, lease_seconds=LEASE)
    try:
        await client.enqueue_qc("d")
        line = await asyncio.wait_for(doomed.stdout.readline(), timeout=60)
        assert line.split() == [b"started", b"d"]
    finally:
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()
    ran: list[str] = []

    async def job(asset_id: str) -> None:
        ran.append(asset_id)

    async with worker(pg_url, job):
        await until(lambda: ran == ["d"], "another worker ran the killed worker's job")
        await until(lambda: _all_succeeded(pg_url, "d"), "the job succeeded")
    await client.close()
    (row,) = await jobs_of(pg_url, "d")
    # Two attempts: the killed one (handed back by stalled-job recovery) and this one.
    assert row["attempts"] == 2


async def _age(url: str, asset_id: str, days: int) -> None:
    """Make a job look finished ``days`` ago (its events carry the times)."""
    await rows(
        url,
        "UPDATE procrastinate_events SET at = now() - make_interval(days => $2)"
        " WHERE job_id IN (SELECT id FROM procrastinate_jobs WHERE lock = $1)",
        f"asset:{asset_id}",
        days,
    )


async def test_old_finished_jobs_are_pruned_failed_ones_kept_longer(pg_url: str) -> None:
    async def job(asset_id: str) -> None:
        if asset_id.startswith("bad"):
            raise ValueError("not a media file")

    async with worker(pg_url, job, retries=1, backoff_seconds=1) as queue:
        for asset_id in ("old", "new", "bad"):
            await queue.enqueue_qc(asset_id)

        async def finished() -> bool:
            states = [r["status"] for a in ("old", "new", "bad") for r in await jobs_of(pg_url, a)]
            return states == ["succeeded", "succeeded", "failed"]

        await until(finished, "every job finished")
        await _age(pg_url, "old", 8)
        await _age(pg_url, "bad", 8)
        await queue.prune()
        assert await jobs_of(pg_url, "old") == []  # a week is enough for success
        assert len(await jobs_of(pg_url, "new")) == 1
        assert len(await jobs_of(pg_url, "bad")) == 1  # a failure is kept for a month
        await _age(pg_url, "bad", 31)
        await queue.prune()
        assert await jobs_of(pg_url, "bad") == []
