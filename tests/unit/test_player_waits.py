"""Timed waits that never lose a cancellation (player/waits.py)."""

from __future__ import annotations

import asyncio

import pytest

from lianbo.player.waits import wait_event, within


async def test_a_cancel_in_the_turn_the_event_fires_still_cancels() -> None:
    # The event and the cancel land in one loop turn: asyncio.wait_for on
    # 3.11 returns normally here and the caller's loop never ends.
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_event(event, 30.0))
    await asyncio.sleep(0)  # the task is now waiting on the event
    event.set()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter


async def test_a_loop_of_waits_ends_when_cancelled_as_it_is_poked() -> None:
    poke, turns = asyncio.Event(), 0

    async def loop() -> None:
        nonlocal turns
        while True:
            await wait_event(poke, 30.0)
            poke.clear()
            turns += 1

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    poke.set()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert turns == 0


async def test_wait_event_says_whether_the_event_came() -> None:
    event = asyncio.Event()
    assert await wait_event(event, 0.0) is False
    event.set()
    assert await wait_event(event, 0.0) is True


async def test_within_gives_the_result_or_times_out() -> None:
    assert await within(asyncio.sleep(0, result=7), 30.0) == 7
    with pytest.raises(TimeoutError):
        await within(asyncio.Event().wait(), 0.0)
