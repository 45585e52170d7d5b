"""``cancel_all``: a stop ends every task, even one that drops a cancel."""

from __future__ import annotations

import asyncio

from lianbo.aio import cancel_all


async def _stubborn(dropped: asyncio.Event) -> None:
    """Drops the first cancel, as ``wait_for`` can on Python 3.11 (gh-86296)."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        dropped.set()
    await asyncio.sleep(3600)


async def test_one_cancel_leaves_a_stubborn_task_running() -> None:
    dropped = asyncio.Event()
    task = asyncio.create_task(_stubborn(dropped))
    await asyncio.sleep(0)
    task.cancel()
    await dropped.wait()
    await asyncio.sleep(0)
    assert not task.done()  # what cancel_all exists for
    await cancel_all([task], again_s=0.01)


async def test_cancel_all_ends_a_task_that_dropped_the_first_cancel() -> None:
    dropped = asyncio.Event()
    stubborn = asyncio.create_task(_stubborn(dropped))
    plain = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)
    await cancel_all([stubborn, plain], again_s=0.01)
    assert dropped.is_set()
    assert stubborn.done() and stubborn.cancelled()
    assert plain.done() and plain.cancelled()


async def test_cancel_all_leaves_finished_tasks_and_an_empty_list_alone() -> None:
    done = asyncio.create_task(asyncio.sleep(0, result=7))
    await done
    await cancel_all([done])
    await cancel_all([])
    assert done.result() == 7
