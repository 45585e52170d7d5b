"""Waiting with a time limit, without losing a cancellation.

On Python 3.11 ``asyncio.wait_for`` swallows a cancellation that arrives in
the same loop turn as the awaited thing finishes (CPython gh-86296, fixed in
3.12): the caller's loop then runs on, and whoever cancelled it waits for
ever. Under load that turn is common: the agent stops its tasks just as a
push pokes the player. ``asyncio.timeout`` runs the wait in the caller's own
task, so a cancel always lands; every timed wait here goes through it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def wait_event(event: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds`` or until ``event`` is set; True when it was set."""
    try:
        async with asyncio.timeout(max(0.0, seconds)):
            await event.wait()
    except TimeoutError:
        return False
    return True


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``awaitable``'s result; TimeoutError after ``seconds``."""
    async with asyncio.timeout(max(0.0, seconds)):
        return await awaitable
