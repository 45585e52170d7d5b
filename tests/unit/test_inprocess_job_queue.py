"""The embedded job queue: one job at a time, a waiting request not doubled,
and a job that raises does not stop the worker."""

from __future__ import annotations

import asyncio

from lianbo.adapters.jobs.inprocess import InProcessJobQueue
from tests.support.waiting import until


async def test_asking_again_while_waiting_adds_nothing() -> None:
    queue = InProcessJobQueue()
    await queue.enqueue_qc("a")
    await queue.enqueue_qc("b")
    await queue.enqueue_qc("a")
    assert queue.waiting() == ["a", "b"]
    assert await queue.backlog() == 2


async def test_jobs_run_one_at_a_time_and_a_failure_does_not_stop_the_worker() -> None:
    queue = InProcessJobQueue()
    running = 0
    most = 0
    done: list[str] = []

    async def job(asset_id: str) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)  # let another job start, if the queue allowed it
        running -= 1
        if asset_id == "bad":
            raise RuntimeError("broken")
        done.append(asset_id)

    for asset_id in ("a", "bad", "b"):
        await queue.enqueue_qc(asset_id)
    worker = asyncio.create_task(queue.work(job))
    await until(lambda: done == ["a", "b"], "the jobs after the failed one ran")
    worker.cancel()
    await asyncio.gather(worker, return_exceptions=True)
    assert most == 1 and queue.waiting() == []
